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
}

extension MessageRecord {
    /// The crossing record as stored (JSON text, keys sorted so equal records store equal text).
    public var crossingJSON: String? { crossing.flatMap(Self.crossingText) }

    public static func crossingText(_ record: CrossingRecord) -> String? { record.jsonValue.serialized }

    public static func crossing(fromJSON text: String?) -> CrossingRecord? {
        text.flatMap { try? JSONDecoder().decode(CrossingRecord.self, from: Data($0.utf8)) }
    }

    /// The FHIR `MessageHeader.id` a Transfer of Care payload carried, indexed to find duplicates.
    public var fhirMessageID: String? { crossing?.derived?.fhir?.messageID.map { String($0.prefix(200)) } }

}

extension MessageRecord {
    /// The responsibility record as stored (JSON text).
    public var responsibilityJSON: String? {
        responsibility.flatMap { try? JSONEncoder().encode($0) }.map { String(decoding: $0, as: UTF8.self) }
    }
}
