import Foundation
import GRDB
import HandoverCore

extension MessageRecord {
    static let columns = MessageRecord.storedColumns

    init(row: Row) {
        let statusEvent: StatusEvent? = (row["status_code"] as String?).map { code in
            StatusEvent(code: code, event: row["status_event"] ?? "", description: row["status_description"] ?? "",
                        success: row["status_success"] ?? true, at: Timestamp(microsecondsSinceEpoch: row["status_at"] ?? 0))
        }
        let route: RouteTaken? = (row["route_by"] as String?).flatMap { RouteTaken.AddressedBy(rawValue: $0) }.map {
            RouteTaken(addressedBy: $0, address: row["route_address"] ?? "", service: row["route_service"], directoryVersion: row["route_version"] ?? 0)
        }
        func ts(_ name: String) -> Timestamp? { (row[name] as Int64?).map { Timestamp(microsecondsSinceEpoch: $0) } }
        self.init(
            id: MessageID(row["message_id"]), type: MessageType(rawValue: row["message_type"]) ?? .data,
            sender: (row["sender"] as String?).map(MailboxID.init), recipient: MailboxID(row["recipient"]),
            workflowID: row["workflow_id"], subject: row["subject"], localID: row["local_id"], partnerID: row["partner_id"],
            fileName: row["file_name"], checksum: row["checksum"], contentType: row["content_type"],
            contentEncoding: ContentEncoding(rawValue: row["content_encoding"]) ?? .identity,
            contentCompressed: row["content_compressed"], contentEncrypted: row["content_encrypted"],
            totalChunks: row["total_chunks"], receivedChunks: row["received_chunks"], fileSize: row["file_size"],
            status: MessageStatus(rawValue: row["status"]) ?? .error, statusEvent: statusEvent,
            linkedMessageID: (row["linked_message_id"] as String?).map(MessageID.init),
            createdAt: ts("created_at")!, deliveredAt: ts("delivered_at"), acknowledgedAt: ts("acknowledged_at"),
            expiresAt: ts("expires_at"), expirySeconds: row["expiry_seconds"], inboxSequence: row["inbox_seq"], route: route,
            escalationPolicy: row["escalation_policy"], responsibilityRequired: row["responsibility_required"] ?? false,
            responsibility: (row["responsibility"] as String?).flatMap { try? JSONDecoder().decode(ResponsibilityRecord.self, from: Data($0.utf8)) },
            downloadedAt: ts("downloaded_at"))
    }

    var rowArguments: StatementArguments {
        [
            id.rawValue, type.rawValue, sender?.rawValue, recipient.rawValue, workflowID, subject, localID, partnerID,
            fileName, checksum, contentType, contentEncoding.rawValue, contentCompressed, contentEncrypted, totalChunks,
            receivedChunks, fileSize, status.rawValue, statusEvent?.code, statusEvent?.event, statusEvent?.description,
            statusEvent?.success, statusEvent?.at.microsecondsSinceEpoch, linkedMessageID?.rawValue,
            createdAt.microsecondsSinceEpoch, deliveredAt?.microsecondsSinceEpoch, acknowledgedAt?.microsecondsSinceEpoch,
            expiresAt?.microsecondsSinceEpoch, expirySeconds, inboxSequence,
            route?.addressedBy.rawValue, route?.address, route?.service, route?.directoryVersion,
            escalationPolicy, responsibilityRequired, responsibilityJSON, downloadedAt?.microsecondsSinceEpoch,
        ]
    }

    static let insertSQL = "INSERT INTO messages (\(columns), deadlines_planned) VALUES (" + Array(repeating: "?", count: 39).joined(separator: ", ") + ")"

    func insert(_ db: Database) throws {
        try db.run(sql: Self.insertSQL, arguments: rowArguments + [escalationPolicy == nil])
    }

    /// Writes every mutable field back (the lifecycle functions decide the values).
    func update(_ db: Database) throws {
        try db.run(sql: """
            UPDATE messages SET received_chunks = ?, file_size = ?, status = ?, status_code = ?, status_event = ?,
                status_description = ?, status_success = ?, status_at = ?, delivered_at = ?, acknowledged_at = ?,
                expires_at = ?, inbox_seq = ?, responsibility = ?, downloaded_at = ?
            WHERE message_id = ?
            """,
            arguments: [receivedChunks, fileSize, status.rawValue, statusEvent?.code, statusEvent?.event, statusEvent?.description,
                        statusEvent?.success, statusEvent?.at.microsecondsSinceEpoch, deliveredAt?.microsecondsSinceEpoch,
                        acknowledgedAt?.microsecondsSinceEpoch, expiresAt?.microsecondsSinceEpoch, inboxSequence, responsibilityJSON,
                        downloadedAt?.microsecondsSinceEpoch, id.rawValue])
    }
}
