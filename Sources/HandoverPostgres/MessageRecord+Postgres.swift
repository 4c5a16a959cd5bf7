import Foundation
import HandoverCore
import HandoverStore

extension MessageRecord {
    static let columns = MessageRecord.storedColumns
    /// Where `inbox_seq` sits in `columns` (and `addStoredValues`).
    static let inboxSequenceColumn = storedColumnNames.firstIndex(of: "inbox_seq")!

    init(row: SQLRow) throws {
        let statusEvent: StatusEvent? = try (row("status_code", as: String?.self)).map { code in
            StatusEvent(
                code: code, event: try row("status_event") ?? "", description: try row("status_description") ?? "",
                success: try row("status_success") ?? true, at: try row.timestamp("status_at") ?? Timestamp(microsecondsSinceEpoch: 0))
        }
        let route: RouteTaken? = try (row("route_by", as: String?.self)).flatMap { RouteTaken.AddressedBy(rawValue: $0) }.map {
            RouteTaken(
                addressedBy: $0, address: try row("route_address") ?? "", service: try row("route_service"),
                directoryVersion: try row("route_version") ?? 0)
        }
        self.init(
            id: MessageID(try row("message_id")), type: MessageType(rawValue: try row("message_type")) ?? .data,
            sender: try (row("sender", as: String?.self)).map(MailboxID.init), recipient: MailboxID(try row("recipient")),
            workflowID: try row("workflow_id"), subject: try row("subject"), localID: try row("local_id"), partnerID: try row("partner_id"),
            fileName: try row("file_name"), checksum: try row("checksum"), contentType: try row("content_type"),
            contentEncoding: ContentEncoding(rawValue: try row("content_encoding")) ?? .identity,
            contentCompressed: try row("content_compressed"), contentEncrypted: try row("content_encrypted"),
            totalChunks: Int(try row("total_chunks", as: Int64.self)), receivedChunks: Int(try row("received_chunks", as: Int64.self)),
            fileSize: try row("file_size"),
            status: MessageStatus(rawValue: try row("status")) ?? .error, statusEvent: statusEvent,
            linkedMessageID: try (row("linked_message_id", as: String?.self)).map(MessageID.init),
            createdAt: try row.requiredTimestamp("created_at"), deliveredAt: try row.timestamp("delivered_at"),
            acknowledgedAt: try row.timestamp("acknowledged_at"),
            expiresAt: try row.timestamp("expires_at"), expirySeconds: try row("expiry_seconds"), inboxSequence: try row("inbox_seq"), route: route,
            escalationPolicy: try row("escalation_policy"), responsibilityRequired: try row("responsibility_required"),
            responsibility: try (row("responsibility", as: String?.self)).flatMap {
                try? JSONDecoder().decode(ResponsibilityRecord.self, from: Data($0.utf8))
            },
            downloadedAt: try row.timestamp("downloaded_at"), crossing: MessageRecord.crossing(fromJSON: try row("crossing")))
    }

    private var insertArguments: [any SQLArgumentConvertible] {
        var row = ArgumentList(capacity: 42)
        addStoredValues(to: &row)
        row.add(escalationPolicy == nil)  // deadlines_planned
        return row.values
    }

    func insert(_ tx: SQLTransaction) async throws {
        let placeholders = (1...42).map { "$\($0)" }.joined(separator: ", ")
        try await tx.execute(
            "INSERT INTO messages (\(MessageRecord.columns), deadlines_planned) VALUES (\(placeholders))", insertArguments)
        try await ScorecardRow(message: self)?.upsert(tx)
    }

    /// Writes every mutable field back (the lifecycle functions decide the values).
    func update(_ tx: SQLTransaction) async throws {
        try await tx.execute(UpdateMessageSQL.self, updateArguments)
        try await ScorecardRow(message: self)?.upsert(tx)
    }

    /// `UpdateMessageSQL`'s arguments: every mutable field, then the id.
    var updateArguments: [any SQLArgumentConvertible] { mutableValues + [id.rawValue] }

    /// The values of `UpdateMessageSQL.columns`, in order.
    var mutableValues: [any SQLArgumentConvertible] {
        [
            receivedChunks, fileSize, status.rawValue, statusEvent?.code, statusEvent?.event, statusEvent?.description,
            statusEvent?.success, statusEvent?.at, deliveredAt, acknowledgedAt, expiresAt, inboxSequence, responsibilityJSON,
            downloadedAt, crossingClosedAt,
        ]
    }

}

enum UpdateMessageSQL: PreparedText {
    /// Every column a transition may change.
    static let columns = [
        "received_chunks", "file_size", "status", "status_code", "status_event", "status_description", "status_success", "status_at",
        "delivered_at", "acknowledged_at", "expires_at", "inbox_seq", "responsibility", "downloaded_at", "crossing_closed_at",
    ]
    /// `column = $1, …` in order.
    static let assignments = columns.enumerated().map { "\($1) = $\($0 + 1)" }.joined(separator: ", ")
    static let sql = "UPDATE messages SET \(assignments) WHERE message_id = $\(columns.count + 1)"
}

extension StoredChunk {
    /// Reads `upload_id, size, segment_count, sha256, data`; nil when they are NULL (a message without
    /// that chunk, read through a left join).
    init?(row: SQLRow) throws {
        guard let uploadID = try row("upload_id", as: String?.self) else { return nil }
        self.init(
            uploadID: uploadID, size: try row("size"), segmentCount: Int(try row("segment_count", as: Int64.self)),
            sha256: try row("sha256"), rowBody: try row("data"))
    }
}
