import HandoverCore
import HandoverStore

extension PostgresStore: ConsoleStore {
    public func createConsoleUser(
        _ user: ConsoleUser, passwordHash: String, sealedTOTPSecret: String, actor: String, now: Timestamp
    ) async throws
        -> ConsoleUser
    {
        try await write { tx in
            guard
                let row = try await tx.row(
                    """
                    INSERT INTO console_users
                        (email, name, roles, organisations, mailboxes, password_hash, must_change_password, totp_secret, created_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (email) DO NOTHING RETURNING id
                    """,
                    [
                        user.email, user.name, user.roleList, ConsoleUserColumns.list(user.organisations),
                        ConsoleUserColumns.list(user.mailboxes.map(\.rawValue)), passwordHash, user.mustChangePassword, sealedTOTPSecret, now,
                    ])
            else { throw ConsoleUserProblem.duplicateEmail }
            var created = user
            created.id = try row("id", as: Int64.self)
            tx.audit(ConsoleUserColumns.createdAudit(created, actor: actor), now: now)
            return created
        }
    }

    public func consoleAccount(email: String) async throws -> ConsoleAccount? {
        try await read { tx in
            guard let row = try await tx.row("SELECT * FROM console_users WHERE email = $1", [ConsoleUser.normalise(email: email)]) else {
                return nil
            }
            return ConsoleAccount(user: try Self.consoleUser(row), passwordHash: try row("password_hash"), sealedTOTPSecret: try row("totp_secret"))
        }
    }

    public func consoleUser(id: Int64) async throws -> ConsoleUser? {
        try await read { tx in try await tx.row("SELECT * FROM console_users WHERE id = $1", [id]).map(Self.consoleUser) }
    }

    public func consoleUsers() async throws -> [ConsoleUser] {
        try await read { tx in try await tx.rows("SELECT * FROM console_users ORDER BY email").map(Self.consoleUser) }
    }

    public func setConsolePassword(userID: Int64, passwordHash: String, mustChange: Bool, actor: String, now: Timestamp) async throws {
        try await write { tx in
            try await tx.execute(
                "UPDATE console_users SET password_hash = $1, must_change_password = $2 WHERE id = $3", [passwordHash, mustChange, userID])
            tx.audit(ConsoleUserColumns.passwordAudit(userID: userID, mustChange: mustChange, actor: actor), now: now)
        }
    }

    public func disableConsoleUser(email: String, actor: String, now: Timestamp) async throws -> Bool {
        try await write { tx in
            guard
                let row = try await tx.row(
                    "UPDATE console_users SET disabled_at = $1 WHERE email = $2 AND disabled_at IS NULL RETURNING id",
                    [now, ConsoleUser.normalise(email: email)])
            else { return false }
            let id = try row("id", as: Int64.self)
            try await tx.execute("DELETE FROM console_sessions WHERE user_id = $1", [id])
            tx.audit(AuditRecord(actor: actor, action: "console.user_disabled", subject: "console user \(id)"), now: now)
            return true
        }
    }

    public func spendTOTPStep(userID: Int64, step: Int64) async throws -> Bool {
        try await write { tx in
            try await tx.row("UPDATE console_users SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1 RETURNING id", [step, userID]) != nil
        }
    }

    public func createConsoleSession(_ session: ConsoleSession) async throws {
        _ = try await write { tx in
            try await tx.execute(
                "INSERT INTO console_sessions (id_hash, user_id, stage, csrf_token, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6)",
                [session.idHash, session.userID, session.stage.rawValue, session.csrfToken, session.createdAt, session.lastSeenAt])
        }
    }

    public func consoleSession(idHash: String) async throws -> (session: ConsoleSession, user: ConsoleUser)? {
        try await read { tx in
            guard
                let row = try await tx.row(
                    """
                    SELECT s.stage, s.csrf_token, s.created_at AS session_created_at, s.last_seen_at, u.*
                    FROM console_sessions s JOIN console_users u ON u.id = s.user_id
                    WHERE s.id_hash = $1 AND u.disabled_at IS NULL
                    """, [idHash]),
                let stage = ConsoleSession.Stage(rawValue: try row("stage"))
            else { return nil }
            let user = try Self.consoleUser(row)
            let session = ConsoleSession(
                idHash: idHash, userID: user.id, stage: stage, csrfToken: try row("csrf_token"),
                createdAt: try row.requiredTimestamp("session_created_at"), lastSeenAt: try row.requiredTimestamp("last_seen_at"))
            return (session, user)
        }
    }

    public func updateConsoleSession(idHash: String, stage: ConsoleSession.Stage, lastSeenAt: Timestamp) async throws {
        _ = try await write { tx in
            try await tx.execute(
                "UPDATE console_sessions SET stage = $1, last_seen_at = $2 WHERE id_hash = $3", [stage.rawValue, lastSeenAt, idHash])
        }
    }

    public func deleteConsoleSession(idHash: String) async throws {
        _ = try await write { tx in try await tx.execute("DELETE FROM console_sessions WHERE id_hash = $1", [idHash]) }
    }

    public func deleteConsoleSessions(lastSeenBefore before: Timestamp) async throws -> Int {
        try await write { tx in try await tx.execute("DELETE FROM console_sessions WHERE last_seen_at < $1 RETURNING 1", [before]) }
    }

    static func consoleUser(_ row: SQLRow) throws -> ConsoleUser {
        ConsoleUserColumns.user(
            id: try row("id"), email: try row("email"), name: try row("name"), roles: try row("roles"), organisations: try row("organisations"),
            mailboxes: try row("mailboxes"), disabled: try row.timestamp("disabled_at") != nil, mustChange: try row("must_change_password"))
    }
}

extension PostgresStore {
    public func saveOIDCRequest(stateHash: String, nonce: String, verifier: String, now: Timestamp, forgetBefore: Timestamp) async throws {
        try await write { tx in
            try await tx.execute("DELETE FROM console_oidc_requests WHERE created_at < $1", [forgetBefore])
            try await tx.execute(
                "INSERT INTO console_oidc_requests (state_hash, nonce, verifier, created_at) VALUES ($1, $2, $3, $4)",
                [stateHash, nonce, verifier, now])
        }
    }

    public func takeOIDCRequest(stateHash: String) async throws -> (nonce: String, verifier: String, createdAt: Timestamp)? {
        try await write { tx in
            guard let row = try await tx.row("DELETE FROM console_oidc_requests WHERE state_hash = $1 RETURNING *", [stateHash]) else { return nil }
            return (try row("nonce"), try row("verifier"), try row.requiredTimestamp("created_at"))
        }
    }

    public func upsertOIDCUser(_ user: ConsoleUser, now: Timestamp) async throws -> ConsoleUser {
        try await write { tx in
            let row = try await tx.row(
                """
                INSERT INTO console_users
                    (email, name, roles, organisations, mailboxes, password_hash, must_change_password, totp_secret, created_at)
                VALUES ($1, $2, $3, $4, $5, '', false, '', $6)
                ON CONFLICT (email) DO UPDATE SET name = excluded.name, roles = excluded.roles, organisations = excluded.organisations,
                    mailboxes = excluded.mailboxes
                RETURNING *
                """,
                [
                    user.email, user.name, user.roleList, ConsoleUserColumns.list(user.organisations),
                    ConsoleUserColumns.list(user.mailboxes.map(\.rawValue)), now,
                ])
            return try row.map(Self.consoleUser) ?? user
        }
    }
}
