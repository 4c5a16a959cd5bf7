import Foundation
import GRDB
import HandoverCore
import HandoverStore
import NIOCore

extension MessageRecord {
    static let columns = MessageRecord.storedColumns

    /// Reads a row selected as `SELECT \(columns) …`, by position: looking 38 columns up by name
    /// showed in the profile of every message read.
    init(row: some ColumnValues) {
        func ts(_ i: Int) -> Timestamp? { (row[i] as Int64?).map { Timestamp(microsecondsSinceEpoch: $0) } }
        let statusEvent: StatusEvent? = (row[18] as String?).map { code in
            StatusEvent(
                code: code, event: row[19] ?? "", description: row[20] ?? "", success: row[21] ?? true,
                at: Timestamp(microsecondsSinceEpoch: row[22] ?? 0))
        }
        let route: RouteTaken? = (row[30] as String?).flatMap { RouteTaken.AddressedBy(rawValue: $0) }.map {
            RouteTaken(addressedBy: $0, address: row[31] ?? "", service: row[32], directoryVersion: row[33] ?? 0)
        }
        self.init(
            id: MessageID(row[0] as String), type: MessageType(rawValue: row[1]) ?? .data,
            sender: (row[2] as String?).map(MailboxID.init), recipient: MailboxID(row[3] as String),
            workflowID: row[4], subject: row[5], localID: row[6], partnerID: row[7],
            fileName: row[8], checksum: row[9], contentType: row[10],
            contentEncoding: ContentEncoding(rawValue: row[11]) ?? .identity,
            contentCompressed: row[12], contentEncrypted: row[13],
            totalChunks: row[14], receivedChunks: row[15], fileSize: row[16],
            status: MessageStatus(rawValue: row[17]) ?? .error, statusEvent: statusEvent,
            linkedMessageID: (row[23] as String?).map(MessageID.init),
            createdAt: ts(24) ?? .distantPast, deliveredAt: ts(25), acknowledgedAt: ts(26),
            expiresAt: ts(27), expirySeconds: row[28], inboxSequence: row[29], route: route,
            escalationPolicy: row[34], responsibilityRequired: row[35] ?? false,
            responsibility: (row[36] as String?).flatMap { try? JSONDecoder().decode(ResponsibilityRecord.self, from: Data($0.utf8)) },
            downloadedAt: ts(37), crossing: MessageRecord.crossing(fromJSON: row[38]))
    }

    static let insertSQL =
        "INSERT INTO messages (\(columns), deadlines_planned) VALUES (" + Array(repeating: "?", count: 42).joined(separator: ", ") + ")"

    func insert(_ db: Database, crossingText: CrossingText? = nil) throws {
        try db.run(sql: Self.insertSQL) { row in
            addStoredValues(to: &row, crossingText: crossingText)
            row.add(escalationPolicy == nil)  // deadlines_planned
        }
        try ScorecardRow(message: self)?.upsert(db)
    }

    static let updateSQL = """
        UPDATE messages SET received_chunks = ?, file_size = ?, status = ?, status_code = ?, status_event = ?,
            status_description = ?, status_success = ?, status_at = ?, delivered_at = ?, acknowledged_at = ?,
            expires_at = ?, inbox_seq = ?, responsibility = ?, downloaded_at = ?, crossing_closed_at = ?
        WHERE message_id = ?
        """

    /// Writes every mutable field back (the lifecycle functions decide the values), bound one by one
    /// as the insert's are (each acknowledgement writes this row).
    func update(_ db: Database) throws {
        try db.run(sql: Self.updateSQL) { row in
            addProgressAndStatus(to: &row)
            row.add(deliveredAt)
            row.add(acknowledgedAt)
            row.add(expiresAt)
            row.add(inboxSequence)
            row.add(responsibilityJSON)
            row.add(downloadedAt)
            row.add(crossingClosedAt)
            row.add(id.rawValue)
        }
        try ScorecardRow(message: self)?.upsert(db)
    }
}

extension StoredChunk {
    /// Reads `upload_id, size, segment_count, sha256, data` from column `first` on; nil when the
    /// chunk's columns are NULL (a message without that chunk, read through a left join).
    init?(row: some ColumnValues, from first: Int) {
        guard let uploadID = row[first] as String? else { return nil }
        self.init(
            uploadID: uploadID, size: row[first + 1], segmentCount: row[first + 2], sha256: row[first + 3],
            rowBody: (row[first + 4] as Data?).map { ByteBuffer(bytes: $0) })
    }
}
