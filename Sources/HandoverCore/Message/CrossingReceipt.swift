/// The canonical receipt of a delivered message (issue 5): what crossed, between whom, by which
/// route and when. Its bytes are exactly what the broker signs, so field order and formatting are fixed.
public enum CrossingReceipt {
    /// 2: the crossing record (identity, lawful basis, provenance, intent, flags) is signed too.
    public static let version: Int64 = 2

    /// `payloadSHA256` covers the payload bytes as stored, chunk after chunk (with any transfer
    /// Content-Encoding the sender applied), so a sender can check it against what it sent.
    public static func canonical(_ m: MessageRecord, payloadSHA256: String, payloadBytes: Int64) -> String {
        JSONValue.compact([
            ("receipt_version", .int(version)), ("broker", "Handover"), ("message_id", .string(m.id.rawValue)),
            ("sender", m.sender.map { .string($0.rawValue) }), ("recipient", .string(m.recipient.rawValue)),
            ("workflow_id", .string(m.workflowID)), ("local_id", m.localID.map { .string($0) }),
            ("payload_sha256", .string(payloadSHA256)), ("payload_bytes", .int(payloadBytes)), ("chunks", .int(Int64(m.totalChunks))),
            ("route", m.route?.json),
            ("uploaded_at", .string(m.createdAt.isoUTC)), ("delivered_at", m.deliveredAt.map { .string($0.isoUTC) }),
            ("crossing", m.crossing.map { _ in m.crossingJSON(for: .bothEnds) }),
        ]).serialized
    }
}
