import HandoverCore
import HandoverStore
import NIOCore

extension PostgresStore: TokenSpendingMessageStore {
    public func stageSegment(uploadID: String, index: Int, bytes: ByteBuffer, now: Timestamp) async throws {
        _ = try await write { tx in
            try await tx.execute(
                """
                INSERT INTO segments (upload_id, idx, created_at, data) VALUES ($1, $2, $3, $4)
                ON CONFLICT (upload_id, idx) DO UPDATE SET data = excluded.data, created_at = excluded.created_at
                """, [uploadID, index, now, bytes])
        }
    }

    public func createMessage(
        _ message: MessageRecord, firstChunk: StagedChunk, now: Timestamp,
        onDelivery: DeliveryCompanion?
    ) async throws -> MessageRecord {
        try await createMessage(message, firstChunk: firstChunk, now: now, onDelivery: onDelivery, token: nil)
    }

    public func createMessage(
        _ message: MessageRecord, firstChunk: StagedChunk, now: Timestamp, onDelivery: DeliveryCompanion?, spending token: TokenSpend
    ) async throws -> MessageRecord {
        try await createMessage(message, firstChunk: firstChunk, now: now, onDelivery: onDelivery, token: token)
    }

    /// The usual send (delivered at once, nothing made with it, a body of at most 64 KiB) is one
    /// statement, which also spends its token; any other spends its token first.
    private func createMessage(
        _ message: MessageRecord, firstChunk: StagedChunk, now: Timestamp, onDelivery: DeliveryCompanion?, token: TokenSpend?
    ) async throws -> MessageRecord {
        let transition = MessageLifecycle.created(message, firstChunkSize: firstChunk.size, now: now, companion: onDelivery)
        if transition.effects == MessageLifecycle.plainDelivery, let inline = firstChunk.rowInline {
            var record = transition.message
            let delivered = record
            record.inboxSequence = try await deliveries.submit(
                PlainDelivery(record: delivered, chunk: firstChunk, inline: inline, now: now, token: token), in: self)
            return record
        }
        if let token, try await !spendToken(digest: token.digest, expiresAt: token.expiresAt, now: now) { throw TokenAlreadySpent() }
        return try await write { tx in
            let record = try await Self.apply(transition, row: .insert, now: now, tx)
            try await Self.attach(firstChunk, to: record.id, number: 1, now: now, tx)
            return record
        }
    }

    public func addChunk(
        messageID: MessageID, sender: MailboxID, number: Int, total: Int, encoding: ContentEncoding,
        chunk: StagedChunk, now: Timestamp, onDelivery: DeliveryCompanion?
    ) async throws -> MessageRecord {
        try await write { tx in
            guard let current = try await Self.fetchMessage(messageID, lock: true, tx) else { throw MeshError.messageDoesNotExist }
            guard current.sender == sender else { throw MeshError.forbidden }
            let previous: Int64? = try await tx.row(
                "SELECT size FROM chunks WHERE message_id = $1 AND chunk_no = $2",
                [messageID.rawValue, number]
            ).map { try $0("size") }
            let transition = try MessageLifecycle.addingChunk(
                current, number: number, total: total, encoding: encoding, size: chunk.size, replacing: previous, now: now, companion: onDelivery
            ).get()
            if previous != nil { try await Self.detachChunk(messageID, number: number, tx) }
            try await Self.attach(chunk, to: messageID, number: number, now: now, tx)
            return try await Self.apply(transition, row: .update, now: now, tx)
        }
    }

    public func message(_ id: MessageID) async throws -> MessageRecord? {
        try await read { tx in try await Self.fetchMessage(id, lock: false, tx) }
    }

    public func chunk(messageID: MessageID, number: Int) async throws -> StoredChunk? {
        try await read { tx in try await tx.row(ChunkSQL.self, [messageID.rawValue, number]).flatMap(StoredChunk.init(row:)) }
    }

    public func messageWithChunk(_ id: MessageID, number: Int) async throws -> (message: MessageRecord, chunk: StoredChunk?)? {
        try await read { tx in
            try await tx.row(MessageWithChunkSQL.self, [id.rawValue, number]).map { (try MessageRecord(row: $0), try StoredChunk(row: $0)) }
        }
    }

    public func segment(uploadID: String, index: Int) async throws -> ByteBuffer? {
        try await read { tx in
            try await tx.row(SegmentSQL.self, [uploadID, index]).map {
                try $0("data", as: ByteBuffer.self)
            }
        }
    }

    public func listInbox(mailbox: MailboxID, afterSequence: Int64?, filter: WorkflowFilter?, limit: Int) async throws -> InboxPage {
        var sql = InboxPageSQL.unfiltered
        var arguments: [any SQLArgumentConvertible] = [mailbox.rawValue, afterSequence ?? 0]
        if let filter {
            let clause: String
            switch filter.match {
            case .equals: clause = "upper(workflow_id) = $3"
            case .beginsWith: clause = "starts_with(upper(workflow_id), $3)"
            case .contains: clause = "strpos(upper(workflow_id), $3) > 0"
            }
            sql += filter.negated ? " AND NOT (\(clause))" : " AND \(clause)"
            arguments.append(filter.value)
        }
        sql += " ORDER BY inbox_seq LIMIT $\(arguments.count + 1)"
        arguments.append(limit + 1)
        let finalSQL = InboxPage.withCount(page: sql, mailbox: "$1::text"), finalArguments = arguments
        return try await read { tx in
            // The usual listing, with no workflow filter, is prepared; a filtered one is parsed each time.
            let rows = filter == nil ? try await tx.rows(InboxPageSQL.self, finalArguments) : try await tx.rows(finalSQL, finalArguments)
            let entries = try rows.compactMap { row in
                try row("message_id", as: String?.self).map { InboxEntry(id: MessageID($0), sequence: try row("inbox_seq")) }
            }
            return InboxPage(count: try rows.first.flatMap { try $0("accepted", as: Int64?.self) }.map(Int.init), entries: entries, limit: limit)
        }
    }

    public func richListing(_ query: RichListingQuery) async throws -> [MessageRecord] {
        let inbox = query.side == .inbox
        var sql =
            "SELECT \(MessageRecord.columns) FROM messages "
            + "WHERE \(inbox ? "recipient = $1 AND status != 'uploading'" : "sender = $1") AND created_at > $2"
        var arguments: [any SQLArgumentConvertible] = [query.mailbox.rawValue, query.since]
        if let after = query.after {
            sql += " AND (created_at, message_id) < ($3, $4)"
            arguments += [after.createdAt, after.messageID.rawValue]
        }
        // Newest first on both sides, as NHS's sandbox serves them.
        sql += " ORDER BY created_at DESC, message_id DESC"
        sql += " LIMIT $\(arguments.count + 1)"
        arguments.append(query.limit + 1)
        let (finalSQL, finalArguments) = (sql, arguments)
        return try await read { tx in try await tx.rows(finalSQL, finalArguments).map(MessageRecord.init(row:)) }
    }

    public func countInbox(mailbox: MailboxID) async throws -> Int {
        try await read { tx in
            Int(
                try await tx.row(InboxCountSQL.self, [mailbox.rawValue]).map {
                    try $0("accepted", as: Int64.self)
                } ?? 0)
        }
    }

    public func acknowledge(messageID: MessageID, recipient: MailboxID?, now: Timestamp) async throws -> MessageRecord? {
        // Usually an unlocked read and one statement (`AcknowledgeSQL`); otherwise the row is locked
        // and the transition applied in a transaction.
        let quick = try await writeStatement { tx in try await Self.acknowledgeQuickly(messageID, recipient: recipient, now: now, tx) }
        if case .done(let message) = quick { return message }
        return try await write { tx in
            guard let current = try await Self.fetchMessage(messageID, lock: true, tx) else { return nil }
            if let recipient, current.recipient != recipient { throw MeshError.forbidden }
            guard let transition = MessageLifecycle.acknowledged(current, now: now) else { return current }
            return try await Self.apply(transition, row: .update, now: now, tx)
        }
    }

    public func messages(sender: MailboxID, localID: String) async throws -> [MessageRecord] {
        try await read { tx in
            try await tx.rows(
                "SELECT \(MessageRecord.columns) FROM messages WHERE sender = $1 AND local_id = $2 ORDER BY seq LIMIT 100",
                [sender.rawValue, localID]
            ).map(MessageRecord.init(row:))
        }
    }

    public func reduceCrossingSubjects(
        closedBefore: Timestamp, limit: Int, now: Timestamp,
        reduce: @escaping @Sendable (CrossingRecord) -> CrossingRecord
    ) async throws -> Int {
        try await write { tx in
            let due = try await tx.rows(
                """
                SELECT message_id, crossing FROM messages WHERE crossing_closed_at < $1 ORDER BY crossing_closed_at LIMIT $2
                FOR UPDATE SKIP LOCKED
                """, [closedBefore, limit])
            var ids: [String] = []
            for row in due {
                let id = try row("message_id", as: String.self)
                let reduced = MessageRecord.crossing(fromJSON: try row("crossing", as: String?.self)).map(reduce)
                try await tx.execute(
                    "UPDATE messages SET crossing = $1, crossing_closed_at = NULL WHERE message_id = $2",
                    [reduced.flatMap(MessageRecord.crossingText), id])
                ids.append(id)
            }
            if !ids.isEmpty { tx.audit(EventDetails.crossingSubjectsReduced(ids), now: now) }
            return ids.count
        }
    }

    public func carriesFHIRMessage(id: String) async throws -> Bool {
        try await read { tx in
            !(try await tx.rows("SELECT 1 FROM messages WHERE fhir_message_id = $1 LIMIT 1", [String(id.prefix(200))])).isEmpty
        }
    }

    public func expireDue(now: Timestamp, policy: ExpiryPolicy, limit: Int) async throws -> Int {
        let ids = idGenerator
        return try await write { tx in
            // SKIP LOCKED: instances sweeping together take disjoint messages, so each NDR is sent once.
            let due = try await tx.rows(
                """
                SELECT \(MessageRecord.columns) FROM messages WHERE status = 'accepted' AND expires_at <= $1 ORDER BY expires_at LIMIT $2
                FOR UPDATE SKIP LOCKED
                """, [now, limit]
            ).map(MessageRecord.init(row:))
            for message in due {
                guard let transition = MessageLifecycle.expired(message, policy: policy, reportID: ids.next(now: now), now: now) else { continue }
                try await Self.apply(transition, row: .update, now: now, tx)
            }
            return due.count
        }
    }

    public func inboxDepths() async throws -> [InboxDepth] {
        try await read { tx in
            try await tx.rows(
                """
                SELECT c.mailbox, c.accepted, (SELECT m.delivered_at FROM messages m WHERE m.recipient = c.mailbox AND m.status = 'accepted'
                                               ORDER BY m.inbox_seq LIMIT 1) AS oldest
                FROM inbox_counts c WHERE c.accepted > 0
                """
            ).map { row in
                InboxDepth(
                    mailbox: MailboxID(try row("mailbox")), count: Int(try row("accepted", as: Int64.self)),
                    oldestDeliveredAt: try row.timestamp("oldest"))
            }
        }
    }

    public func abandonIncompleteUploads(now: Timestamp, policy: ExpiryPolicy, limit: Int) async throws -> Int {
        let ids = idGenerator
        return try await write { tx in
            let stale = try await tx.rows(
                """
                SELECT \(MessageRecord.columns) FROM messages WHERE status = 'uploading' AND created_at < $1 ORDER BY created_at LIMIT $2
                FOR UPDATE SKIP LOCKED
                """, [now.adding(seconds: -policy.uploadTimeoutSeconds), limit]
            ).map(MessageRecord.init(row:))
            for message in stale {
                guard let transition = MessageLifecycle.abandoned(message, policy: policy, reportID: ids.next(now: now), now: now) else { continue }
                try await Self.apply(transition, row: .update, now: now, tx)
            }
            return stale.count
        }
    }

    public func purgePayloads(deliveredBefore: Timestamp, limit: Int, now: Timestamp) async throws -> Int {
        try await write { tx in
            let ids = try await tx.rows(
                """
                SELECT message_id FROM messages WHERE NOT payload_purged AND delivered_at < $1 ORDER BY delivered_at LIMIT $2
                FOR UPDATE SKIP LOCKED
                """, [deliveredBefore, limit]
            ).map { try $0("message_id", as: String.self) }
            for id in ids {
                try await tx.execute("DELETE FROM segments WHERE upload_id IN (SELECT upload_id FROM chunks WHERE message_id = $1)", [id])
                try await tx.execute("DELETE FROM chunks WHERE message_id = $1", [id])
                try await tx.execute("UPDATE messages SET payload_purged = TRUE WHERE message_id = $1", [id])
            }
            if !ids.isEmpty { tx.audit(EventDetails.payloadsPurged(ids), now: now) }
            return ids.count
        }
    }

    public func discardAbandonedUploads(stagedBefore: Timestamp) async throws -> Int {
        try await write { tx in
            try await tx.execute(
                """
                DELETE FROM segments s WHERE s.created_at < $1 AND NOT EXISTS (SELECT 1 FROM chunks c WHERE c.upload_id = s.upload_id) RETURNING 1
                """, [stagedBefore])
        }
    }

    public func reset(mailbox: MailboxID?, now: Timestamp) async throws {
        try await write { tx in
            if let mailbox {
                let filter = "SELECT message_id FROM messages WHERE recipient = $1 OR sender = $1"
                try await tx.execute(
                    "DELETE FROM segments WHERE upload_id IN (SELECT upload_id FROM chunks WHERE message_id IN (\(filter)))", [mailbox.rawValue])
                for table in ["message_events", "deadlines", "alerts"] {
                    try await tx.execute("DELETE FROM \(table) WHERE message_id IN (\(filter))", [mailbox.rawValue])
                }
                try await tx.execute("DELETE FROM messages WHERE recipient = $1 OR sender = $1", [mailbox.rawValue])
            } else {
                try await tx.execute("TRUNCATE segments, chunks, message_events, deadlines, webhook_attempts, webhook_deliveries, alerts, messages")
            }
            try await tx.execute("DELETE FROM inbox_counts")
            try await tx.execute(
                """
                INSERT INTO inbox_counts (mailbox, accepted) SELECT recipient, count(*) FROM messages WHERE status = 'accepted' GROUP BY recipient
                """)
            tx.audit(EventDetails.reset(mailbox), now: now)
        }
    }

    // MARK: - Helpers run inside a transaction

    static func fetchMessage(_ id: MessageID, lock: Bool, _ tx: SQLTransaction) async throws -> MessageRecord? {
        let arguments: [any SQLArgumentConvertible] = [id.rawValue]
        let row = lock ? try await tx.row(MessageForUpdateSQL.self, arguments) : try await tx.row(MessageSQL.self, arguments)
        return try row.map(MessageRecord.init(row:))
    }

    /// A delivery: one more in the recipient's inbox count, then the next inbox position. The count's
    /// row lock is held to commit, so one mailbox's deliveries commit in position order and a cursor
    /// never passes a position that has yet to commit.
    static func enterInbox(_ recipient: MailboxID, _ tx: SQLTransaction) async throws -> Int64 {
        try await tx.row(
            """
            INSERT INTO inbox_counts (mailbox, accepted) VALUES ($1, 1) ON CONFLICT (mailbox) DO UPDATE SET accepted = inbox_counts.accepted + 1
            RETURNING nextval('inbox_sequence') AS seq
            """, [recipient.rawValue]
        ).orThrow()("seq")
    }

    static func leaveInbox(_ recipient: MailboxID, _ tx: SQLTransaction) async throws {
        try await tx.execute(LeaveInboxSQL.self, [recipient.rawValue])
    }

    /// A small inline body goes into the chunk's row; a larger one into a segment row of its own,
    /// written by the same statement (one round trip).
    static func attach(_ chunk: StagedChunk, to id: MessageID, number: Int, now: Timestamp, _ tx: SQLTransaction) async throws {
        let rowInline = chunk.rowInline
        let insertChunk =
            "INSERT INTO chunks (message_id, chunk_no, upload_id, size, segment_count, sha256, data) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        let arguments: [any SQLArgumentConvertible] = [
            id.rawValue, number, chunk.uploadID, chunk.size, chunk.segmentCount, chunk.sha256, rowInline,
        ]
        if rowInline == nil, let inline = chunk.inlineSegment {
            try await tx.execute(
                "WITH s AS (INSERT INTO segments (upload_id, idx, created_at, data) VALUES ($3, 0, $8, $9)) \(insertChunk)",
                arguments + [now, inline])
        } else {
            try await tx.execute(insertChunk, arguments)
        }
    }

    static func detachChunk(_ id: MessageID, number: Int, _ tx: SQLTransaction) async throws {
        try await tx.execute(
            "DELETE FROM segments WHERE upload_id IN (SELECT upload_id FROM chunks WHERE message_id = $1 AND chunk_no = $2)",
            [id.rawValue, number])
        try await tx.execute("DELETE FROM chunks WHERE message_id = $1 AND chunk_no = $2", [id.rawValue, number])
    }
}

// The hot statements of a list, download and acknowledgement, prepared once per connection.

enum MessageSQL: PreparedText { static let sql = "SELECT \(MessageRecord.columns) FROM messages WHERE message_id = $1" }
enum MessageForUpdateSQL: PreparedText { static let sql = MessageSQL.sql + " FOR UPDATE" }
enum ChunkSQL: PreparedText {
    static let sql = "SELECT upload_id, size, segment_count, sha256, data FROM chunks WHERE message_id = $1 AND chunk_no = $2"
}
enum MessageWithChunkSQL: PreparedText { static let sql = MessageRecord.withChunkSQL(id: "$1", number: "$2") }
/// A segment row, or a small body kept in its chunk's row (`StagedChunk.rowInlineLimit`).
enum SegmentSQL: PreparedText {
    static let sql = """
        SELECT data FROM segments WHERE upload_id = $1 AND idx = $2
        UNION ALL SELECT data FROM chunks WHERE upload_id = $1 AND $2 = 0 AND data IS NOT NULL LIMIT 1
        """
}
enum InboxPageSQL: PreparedText {
    static let unfiltered = "SELECT message_id, inbox_seq FROM messages WHERE recipient = $1 AND status = 'accepted' AND inbox_seq > $2"
    static let sql = InboxPage.withCount(page: unfiltered + " ORDER BY inbox_seq LIMIT $3", mailbox: "$1::text")
}
enum InboxCountSQL: PreparedText { static let sql = "SELECT accepted FROM inbox_counts WHERE mailbox = $1" }
enum LeaveInboxSQL: PreparedText { static let sql = "UPDATE inbox_counts SET accepted = greatest(accepted - 1, 0) WHERE mailbox = $1" }
