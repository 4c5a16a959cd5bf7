import Foundation
import HandoverCore
import HandoverStore
import PostgresNIO

extension PostgresStore: DirectoryStore {
    /// The channel a saved directory version is announced on, so every instance reloads at once.
    static let directoryChannel = "handover_directory"

    public func currentDirectory() async throws -> StoredDirectoryVersion? {
        try await read { tx in try await tx.row("SELECT * FROM directory_versions ORDER BY version DESC LIMIT 1").map(Self.directoryVersion(row:)) }
    }

    public func currentDirectoryVersion() async throws -> Int64? {
        try await read { tx in
            try await tx.row("SELECT MAX(version) AS version FROM directory_versions").flatMap { try $0("version", as: Int64?.self) }
        }
    }

    public func directoryVersion(_ version: Int64) async throws -> StoredDirectoryVersion? {
        try await read { tx in try await tx.row("SELECT * FROM directory_versions WHERE version = $1", [version]).map(Self.directoryVersion(row:)) }
    }

    public func directoryHistory(limit: Int) async throws -> [StoredDirectoryVersion] {
        try await read { tx in
            try await tx.rows("SELECT * FROM directory_versions ORDER BY version DESC LIMIT $1", [limit]).map(Self.directoryVersion(row:))
        }
    }

    public func saveDirectory(
        _ document: DirectoryDocument, expectedVersion: Int64?, actor: String, changes: [DirectoryChange], now: Timestamp,
        approving: ProposalApproval?
    ) async throws -> Int64 {
        let documentJSON = try DirectoryJSON.encode(document)
        let changesJSON = try DirectoryJSON.encode(changes)
        return try await write { tx in
            // Serialise savers across instances, so the version check and the insert are one step.
            try await tx.execute("SELECT pg_advisory_xact_lock(\(AdvisoryLock.directory))")
            if let approving {
                let row = try await tx.row("SELECT state, proposed_by FROM directory_proposals WHERE id = $1 FOR UPDATE", [approving.proposal])
                if let refusal = approving.refusal(state: try row?("state"), proposedBy: try row?("proposed_by")) { throw refusal }
            }
            let current: Int64? = try await tx.row("SELECT max(version) AS v FROM directory_versions")?("v")
            guard current == expectedVersion else { throw DirectoryVersionConflict(expected: expectedVersion, current: current) }
            let next = (current ?? 0) + 1
            try await tx.execute(
                "INSERT INTO directory_versions (version, created_at, actor, document, changes) VALUES ($1, $2, $3, $4, $5)",
                [next, now, actor, documentJSON, changesJSON])
            for change in changes {
                tx.audit(
                    AuditRecord(
                        actor: actor, action: "directory.\(change.kind.rawValue)", subject: "\(change.entity) \(change.id)",
                        detail: EventDetails.directoryChange(change, version: next)), now: now)
            }
            if changes.isEmpty {
                tx.audit(AuditRecord(actor: actor, action: "directory.saved", subject: "directory", detail: "{\"version\":\(next)}"), now: now)
            }
            if let approving {
                try await tx.execute(
                    "UPDATE directory_proposals SET state = 'approved', decided_by = $1, decided_at = $2, applied_version = $3 WHERE id = $4",
                    [approving.approver, now, next, approving.proposal])
                tx.audit(
                    AuditRecord(
                        actor: approving.approver, action: "directory.proposal_approved", subject: "proposal \(approving.proposal)",
                        detail: "{\"version\":\(next)}"), now: now)
            }
            tx.notify.insert(Self.directoryChannel)
            return next
        }
    }

    public func saveDirectoryProposal(_ proposal: DirectoryProposal, document: DirectoryDocument, now: Timestamp) async throws -> Int64 {
        let (document, changes, reasons) = (
            try DirectoryJSON.encode(document), try DirectoryJSON.encode(proposal.changes), try DirectoryJSON.encode(proposal.reasons)
        )
        return try await write { tx in
            let id: Int64 = try await tx.row(
                """
                INSERT INTO directory_proposals (base_version, document, changes, reasons, proposed_by, proposed_at, state)
                VALUES ($1, $2, $3, $4, $5, $6, 'pending') RETURNING id
                """, [proposal.baseVersion, document, changes, reasons, proposal.proposedBy, now]
            ).orThrow()("id")
            tx.audit(
                AuditRecord(
                    actor: proposal.proposedBy, action: "directory.proposed", subject: "proposal \(id)",
                    detail: DirectoryProposalSchema.auditDetail(proposal)), now: now)
            return id
        }
    }

    public func directoryProposal(_ id: Int64) async throws -> DirectoryProposal? {
        try await read { tx in try await tx.row("SELECT * FROM directory_proposals WHERE id = $1", [id]).map(Self.directoryProposal(row:)) }
    }

    public func directoryProposals(limit: Int) async throws -> [DirectoryProposal] {
        try await read { tx in
            try await tx.rows(
                "SELECT \(DirectoryProposalSchema.listedColumns) FROM directory_proposals ORDER BY state = 'pending' DESC, id DESC LIMIT $1", [limit]
            ).map(
                Self.directoryProposal(row:))
        }
    }

    public func rejectDirectoryProposal(_ id: Int64, actor: String, now: Timestamp) async throws {
        try await write { tx in
            let state: String? = try await tx.row("SELECT state FROM directory_proposals WHERE id = $1 FOR UPDATE", [id]).map { try $0("state") }
            if let refusal = DirectoryProposal.rejectionRefusal(state: state) { throw refusal }
            try await tx.execute(
                "UPDATE directory_proposals SET state = 'rejected', decided_by = $1, decided_at = $2 WHERE id = $3", [actor, now, id])
            tx.audit(AuditRecord(actor: actor, action: "directory.proposal_rejected", subject: "proposal \(id)"), now: now)
        }
    }

    public func setMailboxPassword(_ mailbox: MailboxID, password: String, actor: String, now: Timestamp) async throws {
        try await write { tx in
            try await tx.execute(
                """
                INSERT INTO mailbox_passwords (mailbox, password, set_at, set_by) VALUES ($1, $2, $3, $4)
                ON CONFLICT (mailbox) DO UPDATE SET password = excluded.password, set_at = excluded.set_at, set_by = excluded.set_by
                """, [mailbox.rawValue, password, now, actor])
            tx.audit(AuditRecord(actor: actor, action: "mailbox.password_rotated", subject: "mailbox \(mailbox)"), now: now)
            // Credentials live in the directory snapshot: other instances reload it.
            tx.notify.insert(Self.directoryChannel)
        }
    }

    public func mailboxPasswords() async throws -> [MailboxID: String] {
        try await read { tx in
            Dictionary(
                try await tx.rows("SELECT mailbox, password FROM mailbox_passwords").map {
                    (MailboxID(try $0("mailbox")), try $0("password", as: String.self))
                },
                uniquingKeysWith: { a, _ in a })
        }
    }

    @discardableResult
    public func createAdminToken(name: String, role: AdminRole, tokenHash: String, expiresAt: Timestamp?, now: Timestamp) async throws -> Int64 {
        try await write { tx in
            let id = try await tx.row(
                "INSERT INTO admin_tokens (name, role, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                [name, role.rawValue, tokenHash, now, expiresAt]
            ).orThrow()("id", as: Int64.self)
            tx.audit(
                AuditRecord(
                    actor: "cli", action: "admin.token_created", subject: "token \(id) \(name)",
                    detail: AdminTokenAudit.created(role: role, expiresAt: expiresAt)), now: now)
            return id
        }
    }

    public func adminPrincipal(tokenHash: String, now: Timestamp) async throws -> AdminPrincipal? {
        try await read { tx in
            guard
                let row = try await tx.row(
                    """
                    SELECT name, role FROM admin_tokens WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
                    """, [tokenHash, now]),
                let role = AdminRole(rawValue: try row("role"))
            else { return nil }
            return AdminPrincipal(name: try row("name"), role: role)
        }
    }

    public func adminTokens() async throws -> [AdminTokenInfo] {
        try await read { tx in
            try await tx.rows("SELECT id, name, role, created_at, expires_at, revoked_at FROM admin_tokens ORDER BY id").compactMap { row in
                guard let role = AdminRole(rawValue: try row("role")) else { return nil }
                return AdminTokenInfo(
                    id: try row("id"), name: try row("name"), role: role, createdAt: try row.requiredTimestamp("created_at"),
                    expiresAt: try row.timestamp("expires_at"), revokedAt: try row.timestamp("revoked_at"))
            }
        }
    }

    public func revokeAdminToken(id: Int64, actor: String, now: Timestamp) async throws -> Bool {
        try await write { tx in
            guard try await tx.row("UPDATE admin_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id", [now, id]) != nil
            else {
                return false
            }
            tx.audit(AuditRecord(actor: actor, action: "admin.token_revoked", subject: "token \(id)"), now: now)
            return true
        }
    }

    public func settingOnce(_ key: String, value: String) async throws -> String {
        try await write { tx in
            try await tx.execute("INSERT INTO store_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING", [key, value])
            return try await tx.row("SELECT value FROM store_settings WHERE key = $1", [key]).orThrow()("value", as: String.self)
        }
    }

    public func setting(_ key: String) async throws -> String? {
        try await read { tx in try await tx.row("SELECT value FROM store_settings WHERE key = $1", [key]).map { try $0("value", as: String.self) } }
    }

    public func adminTokenCount() async throws -> Int {
        try await read { tx in Int(try await tx.row("SELECT count(*) AS n FROM admin_tokens").orThrow()("n", as: Int64.self)) }
    }

    public func appendAudit(_ record: AuditRecord, now: Timestamp) async throws {
        try await write { tx in tx.audit(record, now: now) }
    }

    public func auditEntries(afterSequence: Int64, limit: Int) async throws -> [AuditEntry] {
        while try await sealAudit() == 2000 {}
        return try await read { tx in
            try await tx.rows("SELECT * FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2", [afterSequence, limit]).map {
                AuditEntry(
                    sequence: try $0("seq"), at: try $0.requiredTimestamp("at"), actor: try $0("actor"), action: try $0("action"),
                    subject: try $0("subject"), detail: try $0("detail"), previousHash: try $0("prev_hash"), hash: try $0("entry_hash"))
            }
        }
    }

    public func searchMessages(_ query: MessageQuery) async throws -> [MessageRecord] {
        var clauses: [String] = []
        var arguments: [any SQLArgumentConvertible] = []
        func bind(_ value: any SQLArgumentConvertible) -> String {
            arguments.append(value)
            return "$\(arguments.count)"
        }
        if let mailbox = query.mailbox {
            let p = bind(mailbox.rawValue)
            clauses.append("(recipient = \(p) OR sender = \(p))")
        }
        if let workflow = query.workflowID { clauses.append("upper(workflow_id) = \(bind(workflow.uppercased()))") }
        if let status = query.status { clauses.append("status = \(bind(status.rawValue))") }
        if let since = query.since { clauses.append("created_at >= \(bind(since))") }
        let whereClause = clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ")
        let sql = "SELECT \(MessageRecord.columns) FROM messages \(whereClause) ORDER BY seq DESC LIMIT \(bind(min(max(query.limit, 1), 1000)))"
        let finalArguments = arguments
        return try await read { tx in try await tx.rows(sql, finalArguments).map(MessageRecord.init(row:)) }
    }

    static func directoryProposal(row: SQLRow) throws -> DirectoryProposal {
        DirectoryProposal(
            id: try row("id"), baseVersion: try row("base_version"),
            document: try row.cells.contains("document") ? DirectoryJSON.decode(DirectoryDocument.self, try row("document")) : nil,
            changes: try DirectoryJSON.decode([DirectoryChange].self, try row("changes")),
            reasons: try DirectoryJSON.decode([String].self, try row("reasons")), proposedBy: try row("proposed_by"),
            proposedAt: try row.requiredTimestamp("proposed_at"), state: DirectoryProposal.State(rawValue: try row("state")) ?? .rejected,
            decidedBy: try row("decided_by"), decidedAt: try row.timestamp("decided_at"), appliedVersion: try row("applied_version"))
    }

    static func directoryVersion(row: SQLRow) throws -> StoredDirectoryVersion {
        StoredDirectoryVersion(
            version: try row("version"), createdAt: try row.requiredTimestamp("created_at"), actor: try row("actor"),
            document: try DirectoryJSON.decode(DirectoryDocument.self, try row("document")),
            changes: try DirectoryJSON.decode([DirectoryChange].self, try row("changes")))
    }
}

extension PostgresStore: SharedReplayCache {
    /// Spends a token across every instance: the first insert of its digest wins. Concurrent spends
    /// share one statement (`tokenSpends`) on the replay pool, whose sessions commit asynchronously:
    /// a row lost in a database crash costs at most a token replay inside its two-hour window, and a
    /// request is not slowed by a second fsync.
    public func spendToken(digest: String, expiresAt: Timestamp, now: Timestamp) async throws -> Bool {
        try await tokenSpends.submit(TokenSpend(digest: digest, expiresAt: expiresAt), in: self)
    }

    public func forgetExpiredTokens(now: Timestamp) async throws -> Int {
        // Kept an hour past expiry, as in memory (`TokenReplayGuard.clockStepToleranceSeconds`).
        try await write { tx in
            try await tx.execute(
                "DELETE FROM replay_tokens WHERE expires_at <= $1 RETURNING 1",
                [now.adding(seconds: -TokenReplayGuard.clockStepToleranceSeconds)])
        }
    }
}

extension PostgresStore: DirectoryChangeFeed {
    /// Calls `changed` each time any instance saves a directory version or rotates a password
    /// (LISTEN/NOTIFY on one pooled connection), until cancelled or the connection drops.
    public func watchDirectoryChanges(_ changed: @escaping @Sendable () -> Void) async throws {
        try await client.withConnection { connection in
            try await connection.listen(on: Self.directoryChannel) { notifications in
                for try await _ in notifications { changed() }
            }
        }
    }
}
