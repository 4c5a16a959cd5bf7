import Foundation
import GRDB
import HandoverCore
import HandoverStore

extension SQLiteStore: ConsoleStore {
    public func createConsoleUser(
        _ user: ConsoleUser, passwordHash: String, sealedTOTPSecret: String, actor: String, now: Timestamp
    ) async throws
        -> ConsoleUser
    {
        try await writer.write { db in
            guard try Int64.fetchOne(db, sql: "SELECT id FROM console_users WHERE email = ?", arguments: [user.email]) == nil else {
                throw ConsoleUserProblem.duplicateEmail
            }
            try db.run(
                sql: """
                    INSERT INTO console_users
                        (email, name, roles, organisations, mailboxes, password_hash, must_change_password, totp_secret, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    user.email, user.name, user.roleList, ConsoleUserColumns.list(user.organisations),
                    ConsoleUserColumns.list(user.mailboxes.map(\.rawValue)), passwordHash, user.mustChangePassword, sealedTOTPSecret,
                    now.microsecondsSinceEpoch,
                ])
            var created = user
            created.id = db.lastInsertedRowID
            try Self.appendAudit(ConsoleUserColumns.createdAudit(created, actor: actor), now: now, db)
            return created
        }
    }

    public func consoleAccount(email: String) async throws -> ConsoleAccount? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM console_users WHERE email = ?", arguments: [ConsoleUser.normalise(email: email)]).map { row in
                ConsoleAccount(user: Self.consoleUser(row), passwordHash: row["password_hash"], sealedTOTPSecret: row["totp_secret"])
            }
        }
    }

    public func consoleUser(id: Int64) async throws -> ConsoleUser? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM console_users WHERE id = ?", arguments: [id]).map(Self.consoleUser) }
    }

    public func consoleUsers() async throws -> [ConsoleUser] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM console_users ORDER BY email").map(Self.consoleUser) }
    }

    public func setConsolePassword(userID: Int64, passwordHash: String, mustChange: Bool, actor: String, now: Timestamp) async throws {
        try await writer.write { db in
            try db.run(
                sql: "UPDATE console_users SET password_hash = ?, must_change_password = ? WHERE id = ?",
                arguments: [passwordHash, mustChange, userID])
            try Self.appendAudit(ConsoleUserColumns.passwordAudit(userID: userID, mustChange: mustChange, actor: actor), now: now, db)
        }
    }

    public func disableConsoleUser(email: String, actor: String, now: Timestamp) async throws -> Bool {
        try await writer.write { db in
            let email = ConsoleUser.normalise(email: email)
            guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM console_users WHERE email = ? AND disabled_at IS NULL", arguments: [email])
            else { return false }
            try db.run(sql: "UPDATE console_users SET disabled_at = ? WHERE id = ?", arguments: [now.microsecondsSinceEpoch, id])
            try db.run(sql: "DELETE FROM console_sessions WHERE user_id = ?", arguments: [id])
            try Self.appendAudit(AuditRecord(actor: actor, action: "console.user_disabled", subject: "console user \(id)"), now: now, db)
            return true
        }
    }

    public func spendTOTPStep(userID: Int64, step: Int64) async throws -> Bool {
        try await writer.write { db in
            try db.run(
                sql: "UPDATE console_users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?", arguments: [step, userID, step])
            return db.changesCount == 1
        }
    }

    public func createConsoleSession(_ session: ConsoleSession) async throws {
        try await writer.write { db in
            try db.run(
                sql: "INSERT INTO console_sessions (id_hash, user_id, stage, csrf_token, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    session.idHash, session.userID, session.stage.rawValue, session.csrfToken, session.createdAt.microsecondsSinceEpoch,
                    session.lastSeenAt.microsecondsSinceEpoch,
                ])
        }
    }

    public func consoleSession(idHash: String) async throws -> (session: ConsoleSession, user: ConsoleUser)? {
        try await read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT s.stage, s.csrf_token, s.created_at AS session_created_at, s.last_seen_at, u.*
                        FROM console_sessions s JOIN console_users u ON u.id = s.user_id
                        WHERE s.id_hash = ? AND u.disabled_at IS NULL
                        """, arguments: [idHash]),
                let stage = ConsoleSession.Stage(rawValue: row["stage"])
            else { return nil }
            let user = Self.consoleUser(row)
            let session = ConsoleSession(
                idHash: idHash, userID: user.id, stage: stage, csrfToken: row["csrf_token"],
                createdAt: Timestamp(microsecondsSinceEpoch: row["session_created_at"]),
                lastSeenAt: Timestamp(microsecondsSinceEpoch: row["last_seen_at"]))
            return (session, user)
        }
    }

    public func updateConsoleSession(idHash: String, stage: ConsoleSession.Stage, lastSeenAt: Timestamp) async throws {
        try await writer.write { db in
            try db.run(
                sql: "UPDATE console_sessions SET stage = ?, last_seen_at = ? WHERE id_hash = ?",
                arguments: [stage.rawValue, lastSeenAt.microsecondsSinceEpoch, idHash])
        }
    }

    public func deleteConsoleSession(idHash: String) async throws {
        try await writer.write { db in try db.run(sql: "DELETE FROM console_sessions WHERE id_hash = ?", arguments: [idHash]) }
    }

    public func deleteConsoleSessions(lastSeenBefore before: Timestamp) async throws -> Int {
        try await writer.write { db in
            try db.run(sql: "DELETE FROM console_sessions WHERE last_seen_at < ?", arguments: [before.microsecondsSinceEpoch])
            return db.changesCount
        }
    }

    static func consoleUser(_ row: Row) -> ConsoleUser {
        ConsoleUserColumns.user(
            id: row["id"], email: row["email"], name: row["name"], roles: row["roles"], organisations: row["organisations"],
            mailboxes: row["mailboxes"], disabled: (row["disabled_at"] as Int64?) != nil, mustChange: row["must_change_password"])
    }
}

extension SQLiteStore {
    public func saveOIDCRequest(stateHash: String, nonce: String, verifier: String, now: Timestamp, forgetBefore: Timestamp) async throws {
        try await writer.write { db in
            try db.run(sql: "DELETE FROM console_oidc_requests WHERE created_at < ?", arguments: [forgetBefore.microsecondsSinceEpoch])
            try db.run(
                sql: "INSERT INTO console_oidc_requests (state_hash, nonce, verifier, created_at) VALUES (?, ?, ?, ?)",
                arguments: [stateHash, nonce, verifier, now.microsecondsSinceEpoch])
        }
    }

    public func takeOIDCRequest(stateHash: String) async throws -> (nonce: String, verifier: String, createdAt: Timestamp)? {
        try await writer.write { db in
            guard let row = try Row.fetchOne(db, sql: "DELETE FROM console_oidc_requests WHERE state_hash = ? RETURNING *", arguments: [stateHash])
            else { return nil }
            return (row["nonce"], row["verifier"], Timestamp(microsecondsSinceEpoch: row["created_at"]))
        }
    }

    public func upsertOIDCUser(_ user: ConsoleUser, now: Timestamp) async throws -> ConsoleUser {
        try await writer.write { db in
            try db.run(
                sql: """
                    INSERT INTO console_users
                        (email, name, roles, organisations, mailboxes, password_hash, must_change_password, totp_secret, created_at)
                    VALUES (?, ?, ?, ?, ?, '', 0, '', ?)
                    ON CONFLICT (email) DO UPDATE SET name = excluded.name, roles = excluded.roles, organisations = excluded.organisations,
                        mailboxes = excluded.mailboxes
                    """,
                arguments: [
                    user.email, user.name, user.roleList, ConsoleUserColumns.list(user.organisations),
                    ConsoleUserColumns.list(user.mailboxes.map(\.rawValue)), now.microsecondsSinceEpoch,
                ])
            return try Row.fetchOne(db, sql: "SELECT * FROM console_users WHERE email = ?", arguments: [user.email]).map(Self.consoleUser) ?? user
        }
    }
}
