extension ResponsibilityMachine {
    /// The sender takes a message back, with a reason: the receiver is told by a `HANDOVER_NOTICE`
    /// message linked to it, and its escalation stops (its open alerts resolve, later stages never
    /// fire). A message already withdrawn or amended cannot be withdrawn again.
    public static func withdraw(
        _ message: MessageRecord, by person: Person, reason: String?, now: Timestamp, noticeID: MessageID, directoryVersion: Int64
    ) -> Result<MessageTransition, Refusal> {
        switch closing(message, as: .withdrawn, by: person, reason: reason, now: now) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let m):
            let (notice, body) = SenderNotice.message(about: m, event: "withdrawn", id: noticeID, now: now, directoryVersion: directoryVersion)
            return .success(
                MessageTransition(
                    m,
                    [
                        .event("withdrawn", detail: EventDetails.closedBySender(m.responsibility ?? ResponsibilityRecord())),
                        .deliverMessage(notice, body: body, announcedAs: "notice_sent", detail: EventDetails.businessAckSent(notice.id)),
                        .resolveAlerts(reason: "withdrawn"),
                    ]))
        }
    }

    /// The sender replaces a message with `replacement` (a new message linked to it, delivered to
    /// the same recipient at once): the original's escalation stops and the replacement's starts
    /// afresh from its own delivery. The replacement itself tells the receiver (`mex-linkedmsgid`).
    public static func amend(
        _ message: MessageRecord, with replacement: MessageRecord, body: [UInt8], by person: Person, reason: String?, now: Timestamp
    ) -> Result<MessageTransition, Refusal> {
        switch closing(message, as: .amended, by: person, reason: reason, now: now) {
        case .failure(let refusal): return .failure(refusal)
        case .success(var m):
            m.responsibility?.replacedBy = replacement.id.rawValue
            return .success(
                MessageTransition(
                    m,
                    [
                        .event("amended", detail: EventDetails.closedBySender(m.responsibility ?? ResponsibilityRecord())),
                        .deliverMessage(
                            replacement, body: body, announcedAs: "replacement_sent", detail: EventDetails.replacementSent(replacement.id)),
                        .resolveAlerts(reason: "amended"),
                    ]))
        }
    }

    /// The replacement of an amended message: the original's addressing, route, workflow, policy and
    /// crossing record, with the sender's new subject and local id, linked to the original. The
    /// record's payload digest is the new payload's; what was read from the old payload is dropped.
    public static func replacement(
        for original: MessageRecord, id: MessageID, body: [UInt8], subject: String?, localID: String?, contentType: String?, fileName: String?,
        now: Timestamp
    ) -> MessageRecord {
        var crossing = original.crossing
        crossing?.derived?.payloadSHA256 = sha256Hex(body)
        crossing?.derived?.fhir = nil
        return MessageRecord(
            id: id, sender: original.sender, recipient: original.recipient, workflowID: original.workflowID,
            subject: subject ?? original.subject, localID: localID ?? original.localID, fileName: fileName, contentType: contentType,
            totalChunks: 1, status: .uploading, linkedMessageID: original.id, createdAt: now, expirySeconds: original.expirySeconds,
            route: original.route, escalationPolicy: original.escalationPolicy, responsibilityRequired: original.responsibilityRequired,
            crossing: crossing)
    }

    /// The sender's side of closing a message: who, when, why; refused once it is already closed.
    private static func closing(
        _ message: MessageRecord, as state: ResponsibilityState, by person: Person, reason: String?, now: Timestamp
    ) -> Result<MessageRecord, Refusal> {
        let record = message.responsibility ?? ResponsibilityRecord()
        guard !person.name.trimmingWhitespace().isEmpty else { return .failure(.personRequired) }
        guard let reason = reason?.trimmingWhitespace(), !reason.isEmpty else { return .failure(.noteRequired) }
        guard message.isInItsRecipientsHands else { return .failure(.notDelivered) }
        if record.state.closedBySender { return .failure(.closedBySender(record.state)) }
        var r = record
        r.state = state
        r.closedBy = person
        r.closedAt = now
        r.closedReason = reason
        var m = message
        m.responsibility = r
        return .success(m)
    }
}

/// What the broker tells a receiver about a message its sender changed (`withdrawn`): a DATA message
/// on workflow `HANDOVER_NOTICE` with `mex-linkedmsgid` set to the message, so a plain MESH client
/// sees it in its ordinary poll.
public enum SenderNotice {
    public static let workflow = "HANDOVER_NOTICE"

    public static func message(
        about original: MessageRecord, event: String, id: MessageID, now: Timestamp, directoryVersion: Int64
    ) -> (MessageRecord, [UInt8]) {
        let record = original.responsibility ?? ResponsibilityRecord()
        let body = JSONValue.compact([
            ("event", .string(event)), ("message_id", .string(original.id.rawValue)), ("workflow_id", .string(original.workflowID)),
            ("sender", original.sender.map { .string($0.rawValue) }), ("by", record.closedBy.map(personJSON)),
            ("at", record.closedAt.map { .string($0.isoUTC) }), ("reason", record.closedReason.map { .string($0) }),
        ]).serialized
        let notice = MessageRecord(
            id: id, sender: original.sender, recipient: original.recipient, workflowID: workflow,
            subject: "\(event): \(original.workflowID)", contentType: "application/json", totalChunks: 1, status: .uploading,
            linkedMessageID: original.id, createdAt: now,
            route: RouteTaken(addressedBy: .system, address: original.recipient.rawValue, directoryVersion: directoryVersion))
        return (notice, Array(body.utf8))
    }
}
