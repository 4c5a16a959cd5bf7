import Foundation
import HandoverCore

extension MessageRecord {
    /// The message columns every SQL backend stores, in the order each backend binds them.
    public static let storedColumns = """
        message_id, message_type, sender, recipient, workflow_id, subject, local_id, partner_id, file_name, checksum,
        content_type, content_encoding, content_compressed, content_encrypted, total_chunks, received_chunks, file_size,
        status, status_code, status_event, status_description, status_success, status_at, linked_message_id,
        created_at, delivered_at, acknowledged_at, expires_at, expiry_seconds, inbox_seq,
        route_by, route_address, route_service, route_version,
        escalation_policy, responsibility_required, responsibility, downloaded_at, crossing, fhir_message_id, crossing_closed_at
        """

    /// `storedColumns` one name each, in order (a statement's further columns start at their count).
    public static let storedColumnNames = storedColumns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }

    /// A message and its chunk `number` in one statement (chunk columns NULL when it has none), the
    /// chunk's columns after the message's: `upload_id, size, segment_count, sha256, data`. The
    /// placeholders are each backend's (`?1`, `$1`).
    public static func withChunkSQL(id: String, number: String) -> String {
        "SELECT \(storedColumnNames.map { "m." + $0 }.joined(separator: ", ")), c.upload_id, c.size, c.segment_count, c.sha256, c.data "
            + "FROM messages m LEFT JOIN chunks c ON c.message_id = m.message_id AND c.chunk_no = \(number) WHERE m.message_id = \(id)"
    }
}

extension MessageRecord {
    /// The crossing record as stored (JSON text, keys sorted so equal records store equal text).
    public var crossingJSON: String? { crossing.flatMap(Self.crossingText) }

    public static func crossingText(_ record: CrossingRecord) -> String? { record.jsonValue.serialized }

    public static func crossing(fromJSON text: String?) -> CrossingRecord? {
        text.flatMap(decodedCrossings.record(fromJSON:))
    }

    static let decodedCrossings = DecodedCrossings()

    /// The FHIR `MessageHeader.id` a Transfer of Care payload carried, indexed to find duplicates.
    public var fhirMessageID: String? { crossing?.derived?.fhir?.messageID.map { String($0.prefix(200)) } }

}

extension MessageRecord {
    /// The responsibility record as stored (JSON text).
    public var responsibilityJSON: String? {
        responsibility.flatMap { try? StoredJSON.text($0) }
    }
}
