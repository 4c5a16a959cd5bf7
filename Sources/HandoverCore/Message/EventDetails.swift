/// The JSON details of timeline events, the same from every backend (they are also audited, so the
/// bytes matter to the hash chain).
public enum EventDetails {
    public static func responsibility(_ record: ResponsibilityRecord, event: String) -> String {
        let isOutcome = event == "outcome"
        return JSONValue.compact([
            ("state", .string(record.state.rawValue)), ("by", (isOutcome ? record.outcomeBy : record.decidedBy).map(personJSON)),
            ("note", isOutcome ? nil : record.note.map { .string($0) }), ("reason", isOutcome ? nil : record.declineReason.map { .string($0) }),
            ("outcome", isOutcome ? record.outcomeCode.map { .string($0) } : nil),
        ]).serialized
    }

    /// A withdrawal or amendment, shown to both mailboxes: who, when and the sender's reason.
    public static func closedBySender(_ record: ResponsibilityRecord) -> String {
        JSONValue.compact([
            ("state", .string(record.state.rawValue)), ("by", record.closedBy.map(personJSON)), ("reason", record.closedReason.map { .string($0) }),
            ("replaced_by", record.replacedBy.map { .string($0) }),
        ]).serialized
    }

    public static func replacementSent(_ id: MessageID) -> String { "{\"replacement_message_id\":\"\(id.rawValue)\"}" }

    public static func businessAckSent(_ ack: MessageID) -> String { "{\"ack_message_id\":\"\(ack.rawValue)\"}" }
    public static func deliveryAckSent(_ ack: MessageID) -> String { "{\"ack_message_id\":\"\(ack.rawValue)\",\"kind\":\"itk3-infrastructure\"}" }

    public static func alertRaised(_ alert: Alert, stage: Int) -> String {
        "{\"alert_id\":\"\(alert.id)\",\"stage\":\(stage + 1),\"condition\":\"\(alert.condition.rawValue)\"}"
    }

    public static func alertRenotified(_ id: String, count: Int) -> String { "{\"alert_id\":\"\(id)\",\"notify_count\":\(count)}" }

    /// The message's timeline is shown to both mailboxes, so an operator's note stays out of it (it is
    /// kept on the alert and in the audit log, for operators only).
    public static func alertAcknowledged(_ id: String, by person: Person, note: String?) -> String {
        JSONValue.compact([("alert_id", .string(id)), ("by", personJSON(person))]).serialized
    }

    public static func stageBroughtForward(_ stage: Int, by person: Person) -> String {
        JSONValue.compact([("stage", .int(Int64(stage + 1))), ("by", personJSON(person))]).serialized
    }

    public static func alertReassigned(_ id: String, to person: Person, by actor: Person) -> String {
        JSONValue.compact([("alert_id", .string(id)), ("to", personJSON(person)), ("by", personJSON(actor))]).serialized
    }

    public static func acknowledgementLapsed(_ id: String, by person: Person?) -> String {
        JSONValue.compact([("alert_id", .string(id)), ("acknowledged_by", person.map(personJSON))]).serialized
    }

    public static func alertSnoozed(_ id: String, by person: Person, until: Timestamp) -> String {
        JSONValue.compact([("alert_id", .string(id)), ("by", personJSON(person)), ("until", .string(until.isoUTC))]).serialized
    }

    /// The audit entry of one purge batch: which messages lost their payloads (metadata stays).
    public static func payloadsPurged(_ ids: [String]) -> AuditRecord {
        AuditRecord(
            actor: "system", action: "message.payloads_purged", subject: "\(ids.count) message(s)",
            detail: JSONValue.object([("message_ids", .array(ids.map { .string($0) }))]).serialized)
    }

    public static func crossingSubjectsReduced(_ ids: [String]) -> AuditRecord {
        AuditRecord(
            actor: "system", action: "crossing.subjects_reduced", subject: "\(ids.count) message(s)",
            detail: JSONValue.object([("message_ids", .array(ids.map { .string($0) }))]).serialized)
    }

    /// The audit entry of `DELETE /admin/reset` (sandbox mode).
    public static func reset(_ mailbox: MailboxID?) -> AuditRecord {
        AuditRecord(actor: "sandbox", action: "sandbox.reset", subject: mailbox.map { "mailbox \($0)" } ?? "every mailbox")
    }

    public static func uploadAbandoned(received: Int, total: Int) -> String {
        JSONValue.object([("chunks_received", .int(Int64(received))), ("chunks_total", .int(Int64(total)))]).serialized
    }

    public static func alertResolved(_ id: String, reason: String) -> String { "{\"alert_id\":\"\(id)\",\"reason\":\"\(reason)\"}" }

    public static func directoryChange(_ change: DirectoryChange, version: Int64) -> String {
        JSONValue.compact([
            ("version", .int(version)), ("before", change.before.map { .string($0) }), ("after", change.after.map { .string($0) }),
        ]).serialized
    }
}
