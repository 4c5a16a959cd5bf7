import Foundation
import GRDB
import HandoverCore
import HandoverStore

extension SQLiteStore: DirectoryStore {
    public func currentDirectory() async throws -> StoredDirectoryVersion? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM directory_versions ORDER BY version DESC LIMIT 1")).map(
                Self.directoryVersion(row:))
        }
    }

    public func currentDirectoryVersion() async throws -> Int64? {
        try await read { db in try Int64.fetchOne(db.cachedStatement(sql: "SELECT MAX(version) FROM directory_versions")) }
    }

    public func directoryVersion(_ version: Int64) async throws -> StoredDirectoryVersion? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM directory_versions WHERE version = ?"), arguments: [version]).map(
                Self.directoryVersion(row:))
        }
    }

    public func directoryHistory(limit: Int) async throws -> [StoredDirectoryVersion] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM directory_versions ORDER BY version DESC LIMIT ?"), arguments: [limit]).map(
                Self.directoryVersion(row:))
        }
    }

    public func saveDirectory(
        _ document: DirectoryDocument, expectedVersion: Int64?, actor: String, changes: [DirectoryChange], now: Timestamp,
        approving: ProposalApproval?
    ) async throws -> Int64 {
        let documentJSON = try DirectoryJSON.encode(document)
        let changesJSON = try DirectoryJSON.encode(changes)
        return try await writer.write { db in
            if let approving {
                let row = try Row.fetchOne(
                    db, sql: "SELECT state, proposed_by FROM directory_proposals WHERE id = ?", arguments: [approving.proposal])
                if let refusal = approving.refusal(state: row?["state"], proposedBy: row?["proposed_by"]) { throw refusal }
            }
            let current = try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(version) FROM directory_versions"))
            guard current == expectedVersion else { throw DirectoryVersionConflict(expected: expectedVersion, current: current) }
            let next = (current ?? 0) + 1
            try db.run(
                sql: "INSERT INTO directory_versions (version, created_at, actor, document, changes) VALUES (?, ?, ?, ?, ?)",
                arguments: [next, now.microsecondsSinceEpoch, actor, documentJSON, changesJSON])
            for change in changes {
                let detail = EventDetails.directoryChange(change, version: next)
                try Self.appendAudit(
                    AuditRecord(actor: actor, action: "directory.\(change.kind.rawValue)", subject: "\(change.entity) \(change.id)", detail: detail),
                    now: now, db)
            }
            if changes.isEmpty {
                try Self.appendAudit(
                    AuditRecord(actor: actor, action: "directory.saved", subject: "directory", detail: "{\"version\":\(next)}"), now: now, db)
            }
            if let approving {
                try db.run(
                    sql: "UPDATE directory_proposals SET state = 'approved', decided_by = ?, decided_at = ?, applied_version = ? WHERE id = ?",
                    arguments: [approving.approver, now.microsecondsSinceEpoch, next, approving.proposal])
                try Self.appendAudit(
                    AuditRecord(
                        actor: approving.approver, action: "directory.proposal_approved", subject: "proposal \(approving.proposal)",
                        detail: "{\"version\":\(next)}"), now: now, db)
            }
            return next
        }
    }

    public func saveDirectoryProposal(_ proposal: DirectoryProposal, document: DirectoryDocument, now: Timestamp) async throws -> Int64 {
        let (document, changes, reasons) = (
            try DirectoryJSON.encode(document), try DirectoryJSON.encode(proposal.changes), try DirectoryJSON.encode(proposal.reasons)
        )
        return try await writer.write { db in
            try db.run(
                sql: """
                    INSERT INTO directory_proposals (base_version, document, changes, reasons, proposed_by, proposed_at, state)
                    VALUES (?, ?, ?, ?, ?, ?, 'pending')
                    """,
                arguments: [proposal.baseVersion, document, changes, reasons, proposal.proposedBy, now.microsecondsSinceEpoch])
            let id = db.lastInsertedRowID
            try Self.appendAudit(
                AuditRecord(
                    actor: proposal.proposedBy, action: "directory.proposed", subject: "proposal \(id)",
                    detail: DirectoryProposalSchema.auditDetail(proposal)), now: now, db)
            return id
        }
    }

    public func directoryProposal(_ id: Int64) async throws -> DirectoryProposal? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM directory_proposals WHERE id = ?", arguments: [id]).map(Self.directoryProposal(row:))
        }
    }

    public func directoryProposals(limit: Int) async throws -> [DirectoryProposal] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(DirectoryProposalSchema.listedColumns) FROM directory_proposals ORDER BY state = 'pending' DESC, id DESC LIMIT ?",
                arguments: [limit]
            ).map(Self.directoryProposal(row:))
        }
    }

    public func rejectDirectoryProposal(_ id: Int64, actor: String, now: Timestamp) async throws {
        try await writer.write { db in
            let state = try String.fetchOne(db, sql: "SELECT state FROM directory_proposals WHERE id = ?", arguments: [id])
            if let refusal = DirectoryProposal.rejectionRefusal(state: state) { throw refusal }
            try db.run(
                sql: "UPDATE directory_proposals SET state = 'rejected', decided_by = ?, decided_at = ? WHERE id = ?",
                arguments: [actor, now.microsecondsSinceEpoch, id])
            try Self.appendAudit(AuditRecord(actor: actor, action: "directory.proposal_rejected", subject: "proposal \(id)"), now: now, db)
        }
    }

    public func setMailboxPassword(_ mailbox: MailboxID, password: String, actor: String, now: Timestamp) async throws {
        try await writer.write { db in
            try db.run(
                sql: """
                    INSERT INTO mailbox_passwords (mailbox, password, set_at, set_by) VALUES (?, ?, ?, ?)
                    ON CONFLICT (mailbox) DO UPDATE SET password = excluded.password, set_at = excluded.set_at, set_by = excluded.set_by
                    """, arguments: [mailbox.rawValue, password, now.microsecondsSinceEpoch, actor])
            try Self.appendAudit(AuditRecord(actor: actor, action: "mailbox.password_rotated", subject: "mailbox \(mailbox)"), now: now, db)
        }
    }

    public func mailboxPasswords() async throws -> [MailboxID: String] {
        try await read { db in
            Dictionary(
                try Row.fetchAll(db.cachedStatement(sql: "SELECT mailbox, password FROM mailbox_passwords")).map {
                    (MailboxID($0["mailbox"]), $0["password"] as String)
                },
                uniquingKeysWith: { a, _ in a })
        }
    }

    @discardableResult
    public func createAdminToken(name: String, role: AdminRole, tokenHash: String, expiresAt: Timestamp?, now: Timestamp) async throws -> Int64 {
        try await writer.write { db in
            try db.run(
                sql: "INSERT INTO admin_tokens (name, role, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                arguments: [name, role.rawValue, tokenHash, now.microsecondsSinceEpoch, expiresAt?.microsecondsSinceEpoch])
            let id = db.lastInsertedRowID
            try Self.appendAudit(
                AuditRecord(
                    actor: "cli", action: "admin.token_created", subject: "token \(id) \(name)",
                    detail: AdminTokenAudit.created(role: role, expiresAt: expiresAt)), now: now, db)
            return id
        }
    }

    public func adminPrincipal(tokenHash: String, now: Timestamp) async throws -> AdminPrincipal? {
        try await read { db in
            try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT name, role FROM admin_tokens WHERE token_hash = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
                        """), arguments: [tokenHash, now.microsecondsSinceEpoch]
            ).flatMap { row in
                AdminRole(rawValue: row["role"]).map { AdminPrincipal(name: row["name"], role: $0) }
            }
        }
    }

    public func adminTokens() async throws -> [AdminTokenInfo] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT id, name, role, created_at, expires_at, revoked_at FROM admin_tokens ORDER BY id").compactMap { row in
                AdminRole(rawValue: row["role"]).map { role in
                    AdminTokenInfo(
                        id: row["id"], name: row["name"], role: role, createdAt: Timestamp(microsecondsSinceEpoch: row["created_at"]),
                        expiresAt: (row["expires_at"] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)),
                        revokedAt: (row["revoked_at"] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)))
                }
            }
        }
    }

    public func revokeAdminToken(id: Int64, actor: String, now: Timestamp) async throws -> Bool {
        try await writer.write { db in
            try db.run(
                sql: "UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [now.microsecondsSinceEpoch, id])
            guard db.changesCount == 1 else { return false }
            try Self.appendAudit(AuditRecord(actor: actor, action: "admin.token_revoked", subject: "token \(id)"), now: now, db)
            return true
        }
    }

    public func settingOnce(_ key: String, value: String) async throws -> String {
        try await writer.write { db in
            try db.run(sql: "INSERT INTO store_settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", arguments: [key, value])
            return try String.fetchOne(db, sql: "SELECT value FROM store_settings WHERE key = ?", arguments: [key]) ?? value
        }
    }

    public func setting(_ key: String) async throws -> String? {
        try await read { db in try String.fetchOne(db, sql: "SELECT value FROM store_settings WHERE key = ?", arguments: [key]) }
    }

    public func adminTokenCount() async throws -> Int {
        try await read { db in try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM admin_tokens")) ?? 0 }
    }

    public func appendAudit(_ record: AuditRecord, now: Timestamp) async throws {
        try await writer.write { db in try Self.appendAudit(record, now: now, db) }
    }

    public func auditEntries(afterSequence: Int64, limit: Int) async throws -> [AuditEntry] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?"), arguments: [afterSequence, limit]
            ).map {
                AuditEntry(
                    sequence: $0["seq"], at: Timestamp(microsecondsSinceEpoch: $0["at"]), actor: $0["actor"], action: $0["action"],
                    subject: $0["subject"], detail: $0["detail"], previousHash: $0["prev_hash"], hash: $0["entry_hash"])
            }
        }
    }

    public func searchMessages(_ query: MessageQuery) async throws -> [MessageRecord] {
        var clauses: [String] = []
        var arguments: StatementArguments = []
        if let mailbox = query.mailbox {
            clauses.append("(recipient = ? OR sender = ?)")
            arguments += [mailbox.rawValue, mailbox.rawValue]
        }
        if let workflow = query.workflowID {
            clauses.append("upper(workflow_id) = ?")
            arguments += [workflow.uppercased()]
        }
        if let status = query.status {
            clauses.append("status = ?")
            arguments += [status.rawValue]
        }
        if let since = query.since {
            clauses.append("created_at >= ?")
            arguments += [since.microsecondsSinceEpoch]
        }
        let whereClause = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        arguments += [min(max(query.limit, 1), 1000)]
        let sql = "SELECT \(MessageRecord.columns) FROM messages \(whereClause) ORDER BY seq DESC LIMIT ?"
        let finalArguments = arguments
        return try await read { db in try Row.fetchAll(db, sql: sql, arguments: finalArguments).map(MessageRecord.init(row:)) }
    }

    // MARK: - Helpers

    /// Appends one entry, chained to the last one, inside the caller's transaction (writes are serialised).
    /// Every send appends an entry. The chain's head is read as one text, not a `Row` (reading it as a
    /// row was about half of this function's cost in a send profile), and the entry's position is left
    /// to SQLite: `seq` is the rowid, so a new row gets the last position plus one, as before.
    static func appendAudit(_ record: AuditRecord, now: Timestamp, _ db: Database) throws {
        let previous: String = try db.firstValue(sql: "SELECT entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1") ?? AuditChain.genesis
        let hash = AuditChain.hash(
            previous: previous, at: now, actor: record.actor, action: record.action, subject: record.subject, detail: record.detail)
        try db.run(sql: "INSERT INTO audit_log (at, actor, action, subject, detail, prev_hash, entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?)") {
            $0.add(now.microsecondsSinceEpoch)
            $0.add(record.actor)
            $0.add(record.action)
            $0.add(record.subject)
            $0.add(record.detail)
            $0.add(previous)
            $0.add(hash)
        }
    }

    static func directoryProposal(row: Row) throws -> DirectoryProposal {
        DirectoryProposal(
            id: row["id"], baseVersion: row["base_version"],
            document: try (row["document"] as String?).map { try DirectoryJSON.decode(DirectoryDocument.self, $0) },
            changes: try DirectoryJSON.decode([DirectoryChange].self, row["changes"]),
            reasons: try DirectoryJSON.decode([String].self, row["reasons"]),
            proposedBy: row["proposed_by"], proposedAt: Timestamp(microsecondsSinceEpoch: row["proposed_at"]),
            state: DirectoryProposal.State(rawValue: row["state"]) ?? .rejected, decidedBy: row["decided_by"],
            decidedAt: (row["decided_at"] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)), appliedVersion: row["applied_version"])
    }

    static func directoryVersion(row: Row) throws -> StoredDirectoryVersion {
        StoredDirectoryVersion(
            version: row["version"], createdAt: Timestamp(microsecondsSinceEpoch: row["created_at"]), actor: row["actor"],
            document: try DirectoryJSON.decode(DirectoryDocument.self, row["document"]),
            changes: try DirectoryJSON.decode([DirectoryChange].self, row["changes"]))
    }
}
