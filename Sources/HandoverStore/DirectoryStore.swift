import Foundation
import HandoverCore

/// Where directory versions, admin tokens, rotated mailbox passwords and the audit log live.
/// Each method is one transaction; `saveDirectory` writes its audit entries in the same one.
public protocol DirectoryStore: Sendable {
    func currentDirectory() async throws -> StoredDirectoryVersion?
    /// The current version's number alone: what the refresher asks every second, without decoding a directory.
    func currentDirectoryVersion() async throws -> Int64?
    func directoryVersion(_ version: Int64) async throws -> StoredDirectoryVersion?
    func directoryHistory(limit: Int) async throws -> [StoredDirectoryVersion]

    /// Saves `document` as the next version if the current version is `expectedVersion` (nil: there
    /// is none yet); otherwise throws `DirectoryVersionConflict`. Returns the new version number.
    /// `approving`: the pending proposal this save applies, marked approved in the same transaction;
    /// `ProposalRefusal` (and nothing saved) if it is no longer pending or the approver proposed it.
    func saveDirectory(
        _ document: DirectoryDocument, expectedVersion: Int64?, actor: String, changes: [DirectoryChange], now: Timestamp,
        approving: ProposalApproval?
    ) async throws -> Int64

    /// Saves a proposal of `document` to wait for a second admin, audited (`directory.proposed`) in
    /// the same transaction. Returns its id.
    func saveDirectoryProposal(_ proposal: DirectoryProposal, document: DirectoryDocument, now: Timestamp) async throws -> Int64
    func directoryProposal(_ id: Int64) async throws -> DirectoryProposal?
    /// The pending proposals, then the decided ones, each newest first; without their documents.
    func directoryProposals(limit: Int) async throws -> [DirectoryProposal]
    /// Marks pending proposal `id` rejected (its proposer withdrawing it, or another admin declining
    /// it), audited; `ProposalRefusal` if there is no such pending proposal.
    func rejectDirectoryProposal(_ id: Int64, actor: String, now: Timestamp) async throws

    func setMailboxPassword(_ mailbox: MailboxID, password: String, actor: String, now: Timestamp) async throws
    func mailboxPasswords() async throws -> [MailboxID: String]

    /// Stores a token's hash; `expiresAt` nil means it never expires. Returns the token's id.
    @discardableResult
    func createAdminToken(name: String, role: AdminRole, tokenHash: String, expiresAt: Timestamp?, now: Timestamp) async throws -> Int64
    /// The principal of an unrevoked, unexpired token.
    func adminPrincipal(tokenHash: String, now: Timestamp) async throws -> AdminPrincipal?
    func adminTokenCount() async throws -> Int
    func adminTokens() async throws -> [AdminTokenInfo]
    /// Revokes token `id`; false if there is no such token or it was already revoked.
    func revokeAdminToken(id: Int64, actor: String, now: Timestamp) async throws -> Bool

    func appendAudit(_ record: AuditRecord, now: Timestamp) async throws

    /// A store-wide setting written once by whichever process comes first (the store's mode,
    /// first-start markers): returns the value in force, `value` if there was none.
    func settingOnce(_ key: String, value: String) async throws -> String
    func setting(_ key: String) async throws -> String?
    func auditEntries(afterSequence: Int64, limit: Int) async throws -> [AuditEntry]

    /// Message metadata for the admin search (never payloads), newest first.
    func searchMessages(_ query: MessageQuery) async throws -> [MessageRecord]
}

public struct StoredDirectoryVersion: Sendable, Hashable {
    public var version: Int64
    public var createdAt: Timestamp
    public var actor: String
    public var document: DirectoryDocument
    public var changes: [DirectoryChange]

    public init(version: Int64, createdAt: Timestamp, actor: String, document: DirectoryDocument, changes: [DirectoryChange]) {
        (self.version, self.createdAt, self.actor, self.document, self.changes) = (version, createdAt, actor, document, changes)
    }
}

public struct DirectoryVersionConflict: Error, Hashable, Sendable {
    public var expected: Int64?
    public var current: Int64?
    public init(expected: Int64?, current: Int64?) { (self.expected, self.current) = (expected, current) }
}

public struct MessageQuery: Sendable, Hashable {
    public var mailbox: MailboxID?
    public var workflowID: String?
    public var status: MessageStatus?
    public var since: Timestamp?
    public var limit: Int

    public init(mailbox: MailboxID? = nil, workflowID: String? = nil, status: MessageStatus? = nil, since: Timestamp? = nil, limit: Int = 100) {
        (self.mailbox, self.workflowID, self.status, self.since, self.limit) = (mailbox, workflowID, status, since, limit)
    }
}

/// How directory documents and changes are stored as text, the same by every backend.
public enum DirectoryJSON {
    public static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

/// A store that can announce directory changes made by any process sharing it, so they reach every
/// instance at once instead of at the next poll.
public protocol DirectoryChangeFeed: Sendable {
    /// Calls `changed` on every change until cancelled; throws when the feed is lost.
    func watchDirectoryChanges(_ changed: @escaping @Sendable () -> Void) async throws
}

/// A replay cache shared by every instance on one store (single-use NHSMESH tokens across a cluster).
public protocol SharedReplayCache: Sendable {
    /// Records the token's digest; false if any instance has already spent it.
    func spendToken(digest: String, expiresAt: Timestamp, now: Timestamp) async throws -> Bool
    /// Removes digests past their window; returns how many.
    func forgetExpiredTokens(now: Timestamp) async throws -> Int
}

/// A request's token, to be spent in the shared replay cache.
public struct TokenSpend: Sendable, Hashable {
    public let digest: String
    public let expiresAt: Timestamp

    public init(digest: String, expiresAt: Timestamp) { (self.digest, self.expiresAt) = (digest, expiresAt) }
}

/// The token a write was to spend had been spent already, by this instance or another: nothing was written.
public struct TokenAlreadySpent: Error, Sendable {
    public init() {}
}

/// A shared replay cache that can spend a send's token in the commit that delivers its message, so a
/// send waits for one commit instead of the token's and then its own.
public protocol TokenSpendingMessageStore: SharedReplayCache, MessageStore {
    /// `createMessage`, spending `token` first or in the same commit. Throws `TokenAlreadySpent`,
    /// having written nothing, if any instance has spent it before.
    func createMessage(
        _ message: MessageRecord, firstChunk: StagedChunk, now: Timestamp, onDelivery: DeliveryCompanion?, spending token: TokenSpend
    ) async throws -> MessageRecord
}

extension DirectoryStore {
    /// A save that approves no proposal: an edit that needs no second admin, or the operator's own files.
    public func saveDirectory(
        _ document: DirectoryDocument, expectedVersion: Int64?, actor: String, changes: [DirectoryChange], now: Timestamp
    ) async throws -> Int64 {
        try await saveDirectory(document, expectedVersion: expectedVersion, actor: actor, changes: changes, now: now, approving: nil)
    }

    /// Reads the whole audit log, page by page, and checks its hash chain.
    public func verifyAuditChain() async throws -> AuditChain.Verdict {
        var verifier = AuditChain.Verifier()
        var after: Int64 = 0
        while true {
            let page = try await auditEntries(afterSequence: after, limit: 2_000)
            if let broken = verifier.feed(page) { return broken }
            guard let last = page.last, page.count == 2_000 else { return .intact(entries: verifier.count) }
            after = last.sequence
        }
    }
}

/// The audit detail of a created admin token, the same from every backend.
public enum AdminTokenAudit {
    public static func created(role: AdminRole, expiresAt: Timestamp?) -> String {
        JSONValue.compact([("role", .string(role.rawValue)), ("expires_at", expiresAt.map { .string($0.isoUTC) })]).serialized
    }
}
