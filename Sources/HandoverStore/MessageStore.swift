import HandoverCore
import NIOCore

/// Where messages and their payloads live. One method per intent, each one transaction; every
/// backend passes the same conformance checks (Tests/HandoverStoreTests). A method that returns means
/// its change is durably committed.
/// Given a message just delivered, the message (and body) to deliver with it, if any.
public typealias DeliveryCompanion = MessageTransition.DeliveryCompanion

public protocol MessageStore: Sendable {
    /// Writes one segment of a chunk being uploaded. Segments are invisible until a chunk refers to
    /// them; ones never referred to are removed by `discardAbandonedUploads`.
    func stageSegment(uploadID: String, index: Int, bytes: ByteBuffer, now: Timestamp) async throws

    /// Stores a new message with its first chunk (status from `MessageLifecycle.created`). If it is
    /// delivered at once, `onDelivery` may return a message to deliver in the same transaction (an
    /// ITK3 infrastructure acknowledgement), so the two are committed or lost together.
    func createMessage(
        _ message: MessageRecord, firstChunk: StagedChunk, now: Timestamp,
        onDelivery: DeliveryCompanion?
    ) async throws -> MessageRecord

    /// Stores chunk `number` (2...N) of a message being uploaded by `sender`, delivering it when complete.
    /// Errors are `MeshError` (404 unknown, 403 not the sender, 417/406/423 per the lifecycle).
    func addChunk(
        messageID: MessageID, sender: MailboxID, number: Int, total: Int, encoding: ContentEncoding,
        chunk: StagedChunk, now: Timestamp, onDelivery: DeliveryCompanion?
    ) async throws -> MessageRecord

    func message(_ id: MessageID) async throws -> MessageRecord?

    /// A stored chunk's layout, or nil if the message has no such chunk (or its payload was purged).
    func chunk(messageID: MessageID, number: Int) async throws -> StoredChunk?

    /// A message and its chunk `number` (nil if it has no such chunk), read in one statement: what a
    /// download needs before it streams (with a small body, all it needs).
    func messageWithChunk(_ id: MessageID, number: Int) async throws -> (message: MessageRecord, chunk: StoredChunk?)?

    /// One segment of a stored chunk, in order from 0 (segment 0 of a body kept in the chunk's row
    /// too; `segment(of:index:)` takes that from the chunk already read).
    func segment(uploadID: String, index: Int) async throws -> ByteBuffer?

    /// Delivered, unacknowledged messages in `mailbox`'s inbox, oldest first, after `afterSequence`.
    func listInbox(mailbox: MailboxID, afterSequence: Int64?, filter: WorkflowFilter?, limit: Int) async throws -> InboxPage

    /// The number of delivered, unacknowledged messages in `mailbox`'s inbox.
    func countInbox(mailbox: MailboxID) async throws -> Int
    /// Up to `query.limit + 1` messages of a mailbox's inbox (received, any status but still uploading;
    /// oldest first) or outbox (sent, any status; newest first) created after `query.since`, after
    /// `query.after`. Read through an index on (recipient or sender, created_at).
    func richListing(_ query: RichListingQuery) async throws -> [MessageRecord]
    /// Every non-empty inbox: how many messages wait, and when the oldest was delivered (for metrics;
    /// one index lookup per inbox, whatever the inboxes hold).
    func inboxDepths() async throws -> [InboxDepth]

    /// Acknowledges a delivered message; idempotent. Returns the message as it now is, nil if unknown.
    /// With `recipient`, a message addressed to another mailbox throws `MeshError.forbidden` (checked
    /// in the same transaction, so the message is read once).
    func acknowledge(messageID: MessageID, recipient: MailboxID?, now: Timestamp) async throws -> MessageRecord?

    /// Messages `sender` sent with `localID` (v1 tracking by local id).
    func messages(sender: MailboxID, localID: String) async throws -> [MessageRecord]
    /// Reduces the subjects of crossings that closed before `closedBefore` (`reduce` decides how),
    /// audited; returns how many.
    func reduceCrossingSubjects(
        closedBefore: Timestamp, limit: Int, now: Timestamp,
        reduce: @escaping @Sendable (CrossingRecord) -> CrossingRecord
    ) async throws -> Int
    /// Whether a message already carried this FHIR `MessageHeader.id` (a duplicate, ITK's 20007).
    func carriesFHIRMessage(id: String) async throws -> Bool

    /// Expires up to `limit` delivered messages whose expiry has passed and puts an NDR in each
    /// sender's inbox, atomically per message. Returns how many expired.
    func expireDue(now: Timestamp, policy: ExpiryPolicy, limit: Int) async throws -> Int

    /// Deletes the payloads of up to `limit` messages delivered before `deliveredBefore`. Metadata stays for tracking.
    func purgePayloads(deliveredBefore: Timestamp, limit: Int, now: Timestamp) async throws -> Int

    /// Removes segments staged before `before` that no chunk refers to (aborted uploads).
    func discardAbandonedUploads(stagedBefore: Timestamp) async throws -> Int
    /// The store's own periodic work while a broker serves (SQLite copies WAL frames into the main
    /// file; PostgreSQL chains queued audit entries), until the calling task is cancelled. The broker
    /// runs it under its service group (`StoreService`); a command that opens a store briefly does not.
    func runMaintenance() async
    /// Finishes background work and releases connections at shutdown. SQLite checkpoints its whole
    /// WAL into the main file first, so a copy of a stopped store's main file is complete.
    func close() async
    /// Chunked uploads still incomplete `policy.uploadTimeoutSeconds` after they began: each becomes
    /// `error`, its chunks and segments are deleted, the sender gets a report, and it is audited.
    func abandonIncompleteUploads(now: Timestamp, policy: ExpiryPolicy, limit: Int) async throws -> Int

    /// Deletes every message (or one mailbox's, sent or received). Sandbox mode only.
    func reset(mailbox: MailboxID?, now: Timestamp) async throws
}

extension MessageStore {
    public func createMessage(_ message: MessageRecord, firstChunk: StagedChunk, now: Timestamp) async throws -> MessageRecord {
        try await createMessage(message, firstChunk: firstChunk, now: now, onDelivery: nil)
    }

    public func addChunk(
        messageID: MessageID, sender: MailboxID, number: Int, total: Int, encoding: ContentEncoding,
        chunk: StagedChunk, now: Timestamp
    ) async throws -> MessageRecord {
        try await addChunk(
            messageID: messageID, sender: sender, number: number, total: total, encoding: encoding, chunk: chunk, now: now,
            onDelivery: nil)
    }

    /// Segment `index` of a stored chunk: a body kept in the chunk's row came with the chunk.
    public func segment(of chunk: StoredChunk, index: Int) async throws -> ByteBuffer? {
        if index == 0, let body = chunk.rowBody { return body }
        return try await segment(uploadID: chunk.uploadID, index: index)
    }
}

/// A chunk body written to the store but not yet attached to a message.
public struct StagedChunk: Sendable {
    public let uploadID: String
    public let size: Int64
    public let segmentCount: Int
    public let sha256: String
    /// For a chunk that fit in one segment, the bytes, written with the message in one transaction
    /// (one fsync for small messages, and group commit can batch them).
    public let inlineSegment: ByteBuffer?

    public init(uploadID: String, size: Int64, segmentCount: Int, sha256: String, inlineSegment: ByteBuffer?) {
        (self.uploadID, self.size, self.segmentCount, self.sha256, self.inlineSegment) = (uploadID, size, segmentCount, sha256, inlineSegment)
    }

    /// Bodies up to this size are kept in the chunk's own row (`chunks.data`) rather than a segment
    /// row: three fewer index entries in every small send's transaction. The bound keeps
    /// `handover db copy`'s batches of 500 chunk rows within 32 MiB.
    public static let rowInlineLimit = 64 * 1024

    /// The bytes to keep in the chunk's row, if it has them inline and they are small enough.
    public var rowInline: ByteBuffer? { inlineSegment.flatMap { $0.readableBytes <= Self.rowInlineLimit ? $0 : nil } }
}

/// A stored chunk's layout, and its body when that is kept in the chunk's own row.
public struct StoredChunk: Sendable, Hashable {
    public let uploadID: String
    public let size: Int64
    public let segmentCount: Int
    public let sha256: String
    /// A body of at most `StagedChunk.rowInlineLimit` kept in the chunk's row, read with the chunk so
    /// that a small download needs no read of its own for the bytes; nil when the body is in segments.
    public let rowBody: ByteBuffer?

    public init(uploadID: String, size: Int64, segmentCount: Int, sha256: String, rowBody: ByteBuffer? = nil) {
        (self.uploadID, self.size, self.segmentCount, self.sha256, self.rowBody) = (uploadID, size, segmentCount, sha256, rowBody)
    }
}

/// One id in an inbox listing, with its delivery sequence (the cursor's position).
public struct InboxEntry: Sendable, Hashable {
    public let id: MessageID
    public let sequence: Int64
    public init(id: MessageID, sequence: Int64) { (self.id, self.sequence) = (id, sequence) }
}

public struct InboxDepth: Sendable, Hashable {
    public let mailbox: MailboxID
    public let count: Int
    public let oldestDeliveredAt: Timestamp?
    public init(mailbox: MailboxID, count: Int, oldestDeliveredAt: Timestamp?) {
        (self.mailbox, self.count, self.oldestDeliveredAt) = (mailbox, count, oldestDeliveredAt)
    }
}

public struct InboxPage: Sendable, Hashable {
    public let entries: [InboxEntry]
    /// Whether more matching messages follow the last entry.
    public let hasMore: Bool
    /// Every delivered, unacknowledged message in the inbox (what `countInbox` says), read with the page.
    public let count: Int
    public init(entries: [InboxEntry], hasMore: Bool, count: Int) { (self.entries, self.hasMore, self.count) = (entries, hasMore, count) }

    /// A page query (`message_id, inbox_seq` … `ORDER BY inbox_seq LIMIT` …) that also reads the
    /// inbox's count, so a listing is one statement: a row per entry (`accepted, message_id,
    /// inbox_seq`), or one row with NULL entry columns when the page is empty. `mailbox` is the
    /// backend's placeholder for the mailbox. The join does not promise the page's order, and ordering
    /// it again in SQL sorted every page in a temporary B-tree (SQLite), so `init(count:entries:limit:)`
    /// puts the entries in order instead.
    public static func withCount(page: String, mailbox: String) -> String {
        "SELECT c.accepted, p.message_id, p.inbox_seq FROM (SELECT \(mailbox) AS mailbox) x "
            + "LEFT JOIN inbox_counts c ON c.mailbox = x.mailbox LEFT JOIN (\(page)) p ON TRUE"
    }

    /// The page from `withCount`'s rows (`limit + 1` entries at most were asked for), in inbox order
    /// (the rows almost always arrive in it, and Swift's sort takes one pass over a run in order).
    public init(count: Int?, entries: [InboxEntry], limit: Int) {
        let ordered = entries.sorted { $0.sequence < $1.sequence }
        self.init(entries: Array(ordered.prefix(limit)), hasMore: ordered.count > limit, count: count ?? 0)
    }
}

/// The store cannot answer now (its database is unreachable or too slow). The HTTP layer answers 503;
/// nothing was committed, so the client can retry.
public struct StoreUnavailable: Error, CustomStringConvertible, Sendable {
    /// Why, in words that stay the same (the error `code` clients and dashboards see).
    public enum Cause: String, Sendable {
        /// The database cannot be reached, or did not answer in time.
        case unavailable = "store-unavailable"
        /// The disk under the store is full: nothing new is accepted until space is freed.
        case full = "storage-full"
        /// The database is locked, out of memory or failing its I/O: a retry may succeed.
        case failing = "store-failing"
    }

    /// For logs only: never shown to clients.
    public let reason: String
    public let cause: Cause
    public init(reason: String, cause: Cause = .unavailable) { (self.reason, self.cause) = (reason, cause) }
    public var description: String { reason }
}

/// A store with a connection pool reports how busy it is (for `/metrics`: PostgreSQL).
public protocol DatabasePoolGauge: Sendable {
    /// Calls holding or waiting for a pooled connection now.
    var callsInFlight: Int { get }
    /// Connections the pool may open.
    var poolSize: Int { get }
}

extension MessageStore {
    /// Acknowledges whoever the recipient is (the sweeper, tests).
    public func acknowledge(messageID: MessageID, now: Timestamp) async throws -> MessageRecord? {
        try await acknowledge(messageID: messageID, recipient: nil, now: now)
    }
}
