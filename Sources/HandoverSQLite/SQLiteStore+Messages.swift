import Foundation
import GRDB
import HandoverCore
import HandoverStore
import NIOCore

extension SQLiteStore: MessageStore {
    public func stageSegment(uploadID: String, index: Int, bytes: ByteBuffer, now: Timestamp) async throws {
        try reserve.admitNewData()
        let data = Data(bytes.readableBytesView)
        try await writer.write { db in
            try db.run(
                sql: "INSERT OR REPLACE INTO segments (upload_id, idx, created_at, data) VALUES (?, ?, ?, ?)",
                arguments: [uploadID, index, now.microsecondsSinceEpoch, data])
        }
    }

    public func createMessage(
        _ message: MessageRecord, firstChunk: StagedChunk, now: Timestamp,
        onDelivery: DeliveryCompanion?
    ) async throws -> MessageRecord {
        try reserve.admitNewData()
        let crossingText = CrossingText(message.crossing)
        return try await writer.write { db in
            let transition = MessageLifecycle.created(message, firstChunkSize: firstChunk.size, now: now, companion: onDelivery)
            let record = try Self.apply(transition, row: .insert, now: now, crossingText: crossingText, db)
            try Self.attach(firstChunk, to: record.id, number: 1, now: now, db)
            return record
        }
    }

    public func addChunk(
        messageID: MessageID, sender: MailboxID, number: Int, total: Int, encoding: ContentEncoding,
        chunk: StagedChunk, now: Timestamp, onDelivery: DeliveryCompanion?
    ) async throws -> MessageRecord {
        try reserve.admitNewData()
        return try await writer.write { db in
            guard let current = try Self.fetchMessage(messageID, db) else { throw MeshError.messageDoesNotExist }
            guard current.sender == sender else { throw MeshError.forbidden }
            let previous = try Int64.fetchOne(
                db, sql: "SELECT size FROM chunks WHERE message_id = ? AND chunk_no = ?",
                arguments: [messageID.rawValue, number])
            let transition = try MessageLifecycle.addingChunk(
                current, number: number, total: total, encoding: encoding, size: chunk.size, replacing: previous, now: now, companion: onDelivery
            ).get()
            if previous != nil { try Self.detachChunk(messageID, number: number, db) }
            try Self.attach(chunk, to: messageID, number: number, now: now, db)
            return try Self.apply(transition, row: .update, now: now, db)
        }
    }

    public func message(_ id: MessageID) async throws -> MessageRecord? {
        try await readStatement { db in try Self.fetchMessage(id, db) }
    }

    public func chunk(messageID: MessageID, number: Int) async throws -> StoredChunk? {
        try await readStatement { db in
            try db.cachedStatement(sql: "SELECT upload_id, size, segment_count, sha256, data FROM chunks WHERE message_id = ? AND chunk_no = ?")
                .decodeFirst(arguments: [messageID.rawValue, number]) { StoredChunk(row: $0, from: 0) } ?? nil
        }
    }

    static let withChunkSQL = MessageRecord.withChunkSQL(id: "?1", number: "?2")

    public func messageWithChunk(_ id: MessageID, number: Int) async throws -> (message: MessageRecord, chunk: StoredChunk?)? {
        try await readStatement { db in
            try db.cachedStatement(sql: Self.withChunkSQL).decodeFirst(arguments: [id.rawValue, number]) {
                (MessageRecord(row: $0), StoredChunk(row: $0, from: MessageRecord.storedColumnNames.count))
            }
        }
    }

    /// A segment row, or a small body kept in its chunk's row (`StagedChunk.rowInlineLimit`).
    static let segmentSQL = """
        SELECT data FROM segments WHERE upload_id = ?1 AND idx = ?2
        UNION ALL SELECT data FROM chunks WHERE upload_id = ?1 AND ?2 = 0 AND data IS NOT NULL LIMIT 1
        """

    public func segment(uploadID: String, index: Int) async throws -> ByteBuffer? {
        try await readStatement { db in
            try Data.fetchOne(db.cachedStatement(sql: Self.segmentSQL), arguments: [uploadID, index])
        }.map { ByteBuffer(bytes: $0) }
    }

    public func listInbox(mailbox: MailboxID, afterSequence: Int64?, filter: WorkflowFilter?, limit: Int) async throws -> InboxPage {
        let (sql, arguments) = Self.inboxPageQuery(mailbox: mailbox, afterSequence: afterSequence, filter: filter, limit: limit)
        return try await readStatement { db in
            let rows = try db.cachedStatement(sql: sql).decodeAll(arguments: arguments) { row in
                (count: row[0] as Int?, entry: (row[1] as String?).map { InboxEntry(id: MessageID($0), sequence: row[2]) })
            }
            return InboxPage(count: rows.first?.count, entries: rows.compactMap(\.entry), limit: limit)
        }
    }

    /// The listing's statement, with the inbox's count (`InboxPage.withCount`). Seven texts at most (no
    /// filter, or three matches each negated or not), each compiled once per connection: compiling
    /// the listing on every call showed in the cycle profile.
    static func inboxPageQuery(
        mailbox: MailboxID, afterSequence: Int64?, filter: WorkflowFilter?, limit: Int
    ) -> (sql: String, arguments: StatementArguments) {
        var sql = "SELECT message_id, inbox_seq FROM messages WHERE recipient = ? AND status = 'accepted' AND inbox_seq > ?"
        // The mailbox twice: once to read its count, once for the page.
        var arguments: StatementArguments = [mailbox.rawValue, mailbox.rawValue, afterSequence ?? 0]
        if let filter {
            let clause: String
            switch filter.match {
            case .equals: clause = "upper(workflow_id) = ?"
            case .beginsWith:
                clause = "substr(upper(workflow_id), 1, ?) = ?"
                arguments += [filter.value.utf8.count]
            case .contains: clause = "instr(upper(workflow_id), ?) > 0"
            }
            sql += filter.negated ? " AND NOT (\(clause))" : " AND \(clause)"
            arguments += [filter.value]
        }
        sql += " ORDER BY inbox_seq LIMIT ?"
        arguments += [limit + 1]
        return (InboxPage.withCount(page: sql, mailbox: "?"), arguments)
    }

    public func richListing(_ query: RichListingQuery) async throws -> [MessageRecord] {
        let inbox = query.side == .inbox
        var sql =
            "SELECT \(MessageRecord.columns) FROM messages "
            + "WHERE \(inbox ? "recipient = ? AND status != 'uploading'" : "sender = ?") AND created_at > ?"
        var arguments: StatementArguments = [query.mailbox.rawValue, query.since.microsecondsSinceEpoch]
        if let after = query.after {
            sql += " AND (created_at, message_id) < (?, ?)"
            arguments += [after.createdAt.microsecondsSinceEpoch, after.messageID.rawValue]
        }
        // Newest first on both sides, as NHS's sandbox serves them.
        sql += " ORDER BY created_at DESC, message_id DESC LIMIT ?"
        arguments += [query.limit + 1]
        let (finalSQL, finalArguments) = (sql, arguments)
        return try await read { db in try db.cachedStatement(sql: finalSQL).decodeAll(arguments: finalArguments, MessageRecord.init(row:)) }
    }

    public func countInbox(mailbox: MailboxID) async throws -> Int {
        try await readStatement { db in
            try Int.fetchOne(db.cachedStatement(sql: "SELECT accepted FROM inbox_counts WHERE mailbox = ?"), arguments: [mailbox.rawValue]) ?? 0
        }
    }

    public func acknowledge(messageID: MessageID, recipient: MailboxID?, now: Timestamp) async throws -> MessageRecord? {
        try await writer.write { db in
            guard let current = try Self.fetchMessage(messageID, db) else { return nil }
            if let recipient, current.recipient != recipient { throw MeshError.forbidden }
            guard let transition = MessageLifecycle.acknowledged(current, now: now) else { return current }
            return try Self.apply(transition, row: .update, now: now, db)
        }
    }

    static let byLocalIDSQL = "SELECT \(MessageRecord.columns) FROM messages WHERE sender = ? AND local_id = ? ORDER BY seq LIMIT 100"

    public func messages(sender: MailboxID, localID: String) async throws -> [MessageRecord] {
        try await read { db in
            try Row.fetchAll(
                db, sql: Self.byLocalIDSQL,
                arguments: [sender.rawValue, localID]
            ).map(MessageRecord.init(row:))
        }
    }

    public func reduceCrossingSubjects(
        closedBefore: Timestamp, limit: Int, now: Timestamp,
        reduce: @escaping @Sendable (CrossingRecord) -> CrossingRecord
    ) async throws -> Int {
        try await writer.write { db in
            let due = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT message_id, crossing FROM messages WHERE crossing_closed_at < ? ORDER BY crossing_closed_at LIMIT ?
                        """), arguments: [closedBefore.microsecondsSinceEpoch, limit])
            var ids: [String] = []
            for row in due {
                let id: String = row[0]
                let reduced = MessageRecord.crossing(fromJSON: row[1]).map(reduce)
                try db.run(
                    sql: "UPDATE messages SET crossing = ?, crossing_closed_at = NULL WHERE message_id = ?",
                    arguments: [reduced.flatMap(MessageRecord.crossingText), id])
                ids.append(id)
            }
            if !ids.isEmpty { try Self.appendAudit(EventDetails.crossingSubjectsReduced(ids), now: now, db) }
            return ids.count
        }
    }

    public func carriesFHIRMessage(id: String) async throws -> Bool {
        try await read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM messages WHERE fhir_message_id = ? LIMIT 1", arguments: [String(id.prefix(200))]) ?? false
        }
    }

    public func expireDue(now: Timestamp, policy: ExpiryPolicy, limit: Int) async throws -> Int {
        let ids = idGenerator
        return try await writer.write { db in
            let due = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT \(MessageRecord.columns) FROM messages WHERE status = 'accepted' AND expires_at <= ? ORDER BY expires_at LIMIT ?
                        """), arguments: [now.microsecondsSinceEpoch, limit]
            ).map(MessageRecord.init(row:))
            for message in due {
                guard let transition = MessageLifecycle.expired(message, policy: policy, reportID: ids.next(now: now), now: now) else { continue }
                try Self.apply(transition, row: .update, now: now, db)
            }
            return due.count
        }
    }

    static let purgeCandidatesSQL =
        "SELECT message_id FROM messages WHERE payload_purged = 0 AND delivered_at < ? ORDER BY delivered_at LIMIT ?"

    public func purgePayloads(deliveredBefore: Timestamp, limit: Int, now: Timestamp) async throws -> Int {
        try await writer.write { db in
            let ids = try String.fetchAll(
                db.cachedStatement(sql: Self.purgeCandidatesSQL), arguments: [deliveredBefore.microsecondsSinceEpoch, limit])
            for id in ids {
                try db.run(sql: "DELETE FROM segments WHERE upload_id IN (SELECT upload_id FROM chunks WHERE message_id = ?)", arguments: [id])
                try db.run(sql: "DELETE FROM chunks WHERE message_id = ?", arguments: [id])
                try db.run(sql: "UPDATE messages SET payload_purged = 1 WHERE message_id = ?", arguments: [id])
            }
            if !ids.isEmpty { try Self.appendAudit(EventDetails.payloadsPurged(ids), now: now, db) }
            return ids.count
        }
    }

    public func discardAbandonedUploads(stagedBefore: Timestamp) async throws -> Int {
        try await writer.write { db in
            try db.run(
                sql: """
                    DELETE FROM segments WHERE created_at < ? AND upload_id NOT IN (SELECT upload_id FROM chunks)
                    """, arguments: [stagedBefore.microsecondsSinceEpoch])
            return db.changesCount
        }
    }

    public func inboxDepths() async throws -> [InboxDepth] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT c.mailbox, c.accepted, (SELECT m.delivered_at FROM messages m WHERE m.recipient = c.mailbox AND m.status = 'accepted'
                                                       ORDER BY m.inbox_seq LIMIT 1) AS oldest
                        FROM inbox_counts c WHERE c.accepted > 0
                        """)
            ).map { row in
                InboxDepth(
                    mailbox: MailboxID(row[0] as String), count: row[1],
                    oldestDeliveredAt: (row[2] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)))
            }
        }
    }

    public func abandonIncompleteUploads(now: Timestamp, policy: ExpiryPolicy, limit: Int) async throws -> Int {
        let ids = idGenerator
        return try await writer.write { db in
            let stale = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT \(MessageRecord.columns) FROM messages WHERE status = 'uploading' AND created_at < ? ORDER BY created_at LIMIT ?
                        """), arguments: [now.adding(seconds: -policy.uploadTimeoutSeconds).microsecondsSinceEpoch, limit]
            ).map(MessageRecord.init(row:))
            for message in stale {
                guard let transition = MessageLifecycle.abandoned(message, policy: policy, reportID: ids.next(now: now), now: now) else { continue }
                try Self.apply(transition, row: .update, now: now, db)
            }
            return stale.count
        }
    }

    public func reset(mailbox: MailboxID?, now: Timestamp) async throws {
        try await writer.write { db in
            if let mailbox {
                let filter = "SELECT message_id FROM messages WHERE recipient = ?1 OR sender = ?1"
                try db.run(
                    sql: "DELETE FROM segments WHERE upload_id IN (SELECT upload_id FROM chunks WHERE message_id IN (\(filter)))",
                    arguments: [mailbox.rawValue])
                for table in ["message_events", "deadlines", "alerts"] {
                    try db.run(sql: "DELETE FROM \(table) WHERE message_id IN (\(filter))", arguments: [mailbox.rawValue])
                }
                try db.run(sql: "DELETE FROM messages WHERE recipient = ?1 OR sender = ?1", arguments: [mailbox.rawValue])
                try Self.recountInboxes(db)
            } else {
                try db.execute(
                    sql: """
                        DELETE FROM segments; DELETE FROM chunks; DELETE FROM message_events; DELETE FROM deadlines;
                        DELETE FROM webhook_attempts; DELETE FROM webhook_deliveries; DELETE FROM alerts; DELETE FROM messages;
                        """)
                try Self.recountInboxes(db)
            }
            try Self.appendAudit(EventDetails.reset(mailbox), now: now, db)
        }
    }

    // MARK: - Helpers run inside a write transaction

    static func fetchMessage(_ id: MessageID, _ db: Database) throws -> MessageRecord? {
        try db.cachedStatement(sql: "SELECT \(MessageRecord.columns) FROM messages WHERE message_id = ?")
            .decodeFirst(arguments: [id.rawValue], MessageRecord.init(row:))
    }

    /// A delivery: the next inbox position (strictly increasing in delivery order; writes are
    /// serialised, so max + 1 is safe) and one more in the recipient's inbox count. The count is kept
    /// in the same transaction so `approx_inbox_count` costs one row read, however full the inbox.
    static func enterInbox(_ recipient: MailboxID, _ db: Database) throws -> Int64 {
        try db.run(sql: "INSERT INTO inbox_counts (mailbox, accepted) VALUES (?, 1) ON CONFLICT (mailbox) DO UPDATE SET accepted = accepted + 1") {
            $0.add(recipient.rawValue)
        }
        return (try db.firstValue(sql: "SELECT max(inbox_seq) FROM messages") ?? 0) + 1
    }

    /// A message leaving the inbox (acknowledged or expired).
    static func leaveInbox(_ recipient: MailboxID, _ db: Database) throws {
        try db.run(sql: "UPDATE inbox_counts SET accepted = max(accepted - 1, 0) WHERE mailbox = ?") { $0.add(recipient.rawValue) }
    }

    static func recountInboxes(_ db: Database) throws {
        try db.execute(
            sql: """
                DELETE FROM inbox_counts;
                INSERT INTO inbox_counts (mailbox, accepted) SELECT recipient, count(*) FROM messages WHERE status = 'accepted' GROUP BY recipient;
                """)
    }

    static let insertChunkSQL =
        "INSERT INTO chunks (message_id, chunk_no, upload_id, size, segment_count, sha256, data) VALUES (?, ?, ?, ?, ?, ?, ?)"

    /// A small inline body goes into the chunk's row; a larger one into a segment row of its own.
    static func attach(_ chunk: StagedChunk, to id: MessageID, number: Int, now: Timestamp, _ db: Database) throws {
        let rowInline = chunk.rowInline
        if rowInline == nil, let inline = chunk.inlineSegment {
            try db.run(
                sql: "INSERT INTO segments (upload_id, idx, created_at, data) VALUES (?, 0, ?, ?)",
                arguments: [chunk.uploadID, now.microsecondsSinceEpoch, Data(inline.readableBytesView)])
        }
        try db.run(sql: insertChunkSQL) { row in
            row.add(id.rawValue)
            row.add(number)
            row.add(chunk.uploadID)
            row.add(chunk.size)
            row.add(chunk.segmentCount)
            row.add(chunk.sha256)
            row.add(bytes: rowInline)
        }
    }

    static func detachChunk(_ id: MessageID, number: Int, _ db: Database) throws {
        try db.run(
            sql: "DELETE FROM segments WHERE upload_id IN (SELECT upload_id FROM chunks WHERE message_id = ? AND chunk_no = ?)",
            arguments: [id.rawValue, number])
        try db.run(sql: "DELETE FROM chunks WHERE message_id = ? AND chunk_no = ?", arguments: [id.rawValue, number])
    }
}
