/// Decides, purely, what happens when an escalation stage falls due or an alert's repeat comes round.
public struct AlertPlanner: Sendable {
    public static let alertWorkflow = "HANDOVER_ALERT"

    public let index: DirectoryIndex
    public let newID: @Sendable () -> String
    public let newMessageID: @Sendable (Timestamp) -> MessageID

    public init(index: DirectoryIndex, newID: @escaping @Sendable () -> String, newMessageID: @escaping @Sendable (Timestamp) -> MessageID) {
        (self.index, self.newID, self.newMessageID) = (index, newID, newMessageID)
    }

    public func calendar(for policy: EscalationPolicy) -> WorkingTime? { index.workingTime(of: policy) }

    public func policy(_ id: String?) -> EscalationPolicy? { index.escalationPolicy(id) }

    /// The due time of each stage of the message's policy.
    public func deadlines(for message: MessageRecord) -> [(stage: Int, due: Timestamp)] {
        guard let policy = policy(message.escalationPolicy), let delivered = message.deliveredAt else { return [] }
        return EscalationRules.dueTimes(policy, deliveredAt: delivered, calendar: calendar(for: policy)).enumerated().map { ($0.offset, $0.element) }
    }

    /// The alert for a due stage, or nil if its condition no longer holds (or the policy is gone).
    public func raise(message: MessageRecord, stage: Int, dueAt: Timestamp, now: Timestamp) -> AlertPlan? {
        guard let policy = policy(message.escalationPolicy), stage < policy.stages.count else { return nil }
        let s = policy.stages[stage]
        guard EscalationRules.holds(s.when, message.escalationFacts) else { return nil }
        let alert = Alert(
            id: newID(), messageID: message.id, stage: stage, policy: policy.id, workflowID: message.workflowID,
            condition: s.when, dueAt: dueAt, raisedAt: now, lastNotifiedAt: now,
            nextNotifyAt: EscalationRules.nextRepeat(s, after: now, calendar: calendar(for: policy)))
        return AlertPlan(alert: alert, notifications: notifications(alert, stage: s, message: message, now: now))
    }

    /// A repeat of an open alert whose condition still holds; nil if it should resolve instead.
    public func renotify(_ alert: Alert, message: MessageRecord, now: Timestamp) -> AlertPlan? {
        guard let policy = policy(alert.policy == message.escalationPolicy ? alert.policy : message.escalationPolicy),
            alert.stage < policy.stages.count, EscalationRules.holds(alert.condition, message.escalationFacts)
        else { return nil }
        let s = policy.stages[alert.stage]
        var next = alert
        next.notifyCount += 1
        next.lastNotifiedAt = now
        next.nextNotifyAt = EscalationRules.nextRepeat(s, after: now, calendar: calendar(for: policy))
        return AlertPlan(alert: next, notifications: notifications(next, stage: s, message: message, now: now))
    }

    /// How an acknowledgement or resolution reaches everyone the alert reached: the same targets as
    /// its stage, with `event` `alert.acknowledged` or `alert.resolved`. The operator's note goes to
    /// duty mailboxes only: never to the sender, nor outside the boundary (webhooks, email).
    public func notice(_ notice: AlertNotice, alert: Alert, message: MessageRecord, now: Timestamp) -> [AlertNotification] {
        guard let policy = policy(alert.policy), alert.stage < policy.stages.count else { return [] }
        func body(_ json: JSONValue, includeNote: Bool) -> String {
            guard case .object(var pairs) = json else { return "{}" }
            pairs.insert(("event", .string("alert." + notice.kind.rawValue)), at: 0)
            if let by = notice.by { pairs.append((notice.kind == .acknowledged ? "notice_by" : "notice_resolved_by", personJSON(by))) }
            if includeNote, let note = notice.note { pairs.append(("notice_note", .string(note))) }
            return JSONValue.object(pairs).serialized
        }
        let subject = "Handover alert \(notice.kind.rawValue): \(alert.workflowID) \(alert.condition.rawValue)"
        return notifications(
            alert, stage: policy.stages[alert.stage], message: message, now: now,
            bodies: Bodies(
                duty: body(alert.json(message: message), includeNote: true),
                sender: body(alert.json(message: message, forMailbox: true), includeNote: false),
                outside: body(alert.referenceJSON(message: message), includeNote: false)),
            subject: subject)
    }

    /// What the alert's stage sends now, as a repeat would (Alertmanager's re-posts of open alerts).
    public func currentNotifications(_ alert: Alert, message: MessageRecord, now: Timestamp) -> [AlertNotification] {
        guard let policy = policy(alert.policy), alert.stage < policy.stages.count else { return [] }
        return notifications(alert, stage: policy.stages[alert.stage], message: message, now: now)
    }

    func notifications(_ alert: Alert, stage: EscalationStage, message: MessageRecord, now: Timestamp) -> [AlertNotification] {
        func withEvent(_ json: JSONValue) -> String {
            guard case .object(var pairs) = json else { return json.serialized }
            pairs.insert(("event", .string(alert.notifyCount > 1 ? "alert.repeated" : "alert.raised")), at: 0)
            return JSONValue.object(pairs).serialized
        }
        let body = withEvent(alert.json(message: message))
        return notifications(
            alert, stage: stage, message: message, now: now,
            bodies: Bodies(duty: body, sender: body, outside: withEvent(alert.referenceJSON(message: message))),
            subject: "Handover alert: \(alert.workflowID) \(alert.condition.rawValue)")
    }

    /// What each kind of target reads: duty mailboxes everything operators may see, the sender no
    /// operator's note, and webhooks and email (outside the MESH boundary) references only.
    struct Bodies {
        var duty: String
        var sender: String
        var outside: String
    }

    func notifications(
        _ alert: Alert, stage: EscalationStage, message: MessageRecord, now: Timestamp,
        bodies: Bodies, subject: String
    ) -> [AlertNotification] {
        var out: [AlertNotification] = []
        func toMailbox(_ mailbox: MailboxID, _ body: String) {
            out.append(.mailbox(alertMessage(to: mailbox, alert: alert, now: now, subject: subject), body: Array(body.utf8)))
        }
        func toWebhook(_ id: String) { out.append(.webhook(webhookID: id, deliveryID: newID(), body: bodies.outside)) }
        for target in stage.notify {
            switch target {
            case .mailbox(let m): toMailbox(m, bodies.duty)
            case .sender: if let sender = message.sender { toMailbox(sender, bodies.sender) }
            case .webhook(let id): toWebhook(id)
            case .email(let address): toWebhook(AlertNotification.emailTarget(address))
            case .receiverDuty:
                let duty = receiverDuty(of: message)
                if let m = duty.mailbox { toMailbox(m, bodies.duty) }
                if let h = duty.webhook { toWebhook(h) }
            case .senderLead:
                if let lead = message.sender.flatMap({ index.mailboxes[$0] }).flatMap({ index.organisations[$0.organisation] })?.safeguardingLead {
                    toMailbox(lead, bodies.duty)
                }
            }
        }
        return out
    }

    /// The duty team of whoever holds the message: the service it was routed to, if that service
    /// declares one, else the receiving mailbox's organisation.
    func receiverDuty(of message: MessageRecord) -> DutyContacts {
        if let id = message.route?.service, let service = index.directory.services.first(where: { $0.id == id }), !service.duty.isEmpty {
            return service.duty
        }
        return index.mailboxes[message.recipient].flatMap { index.organisations[$0.organisation] }?.duty ?? DutyContacts()
    }

    func alertMessage(to mailbox: MailboxID, alert: Alert, now: Timestamp, subject: String) -> MessageRecord {
        MessageRecord(
            id: newMessageID(now), sender: nil, recipient: mailbox, workflowID: Self.alertWorkflow,
            subject: subject, localID: alert.id,
            contentType: "application/json", totalChunks: 1, status: .uploading, linkedMessageID: alert.messageID,
            createdAt: now, route: RouteTaken(addressedBy: .system, address: mailbox.rawValue, directoryVersion: index.version))
    }
}

/// The business acknowledgement that carries a decision or outcome back to the sender (contract §4):
/// a DATA message on `<WORKFLOW>_ACK` with `mex-linkedmsgid` set to the original.
public enum BusinessAck {
    public static func message(
        for original: MessageRecord, event: String, record: ResponsibilityRecord, id: MessageID, now: Timestamp,
        directoryVersion: Int64
    ) -> (MessageRecord, [UInt8])? {
        guard let sender = original.sender else { return nil }
        let body = JSONValue.compact([
            ("event", .string(event)), ("message_id", .string(original.id.rawValue)), ("workflow_id", .string(original.workflowID)),
            ("local_id", original.localID.map { .string($0) }), ("recipient", .string(original.recipient.rawValue)),
            ("responsibility", .string(record.state.rawValue)), ("decided_by", record.decidedBy.map(personJSON)),
            ("decided_at", record.decidedAt.map { .string($0.isoUTC) }), ("note", record.note.map { .string($0) }),
            ("reason", record.declineReason.map { .string($0) }),
            ("outcome", record.outcomeCode.map { .string($0) }), ("outcome_detail", record.outcomeDetail.map { .string($0) }),
            ("outcome_by", record.outcomeBy.map(personJSON)), ("outcome_at", record.outcomeAt.map { .string($0.isoUTC) }),
            ("redirects", record.redirects.map { .array($0.map(\.json)) }),
        ]).serialized
        let ack = MessageRecord(
            id: id, sender: original.recipient, recipient: sender, workflowID: original.workflowID + "_ACK",
            subject: "\(event): \(original.subject ?? original.workflowID)", localID: original.localID, contentType: "application/json",
            totalChunks: 1, status: .uploading, linkedMessageID: original.id, createdAt: now,
            route: RouteTaken(addressedBy: .system, address: sender.rawValue, directoryVersion: directoryVersion))
        return (ack, Array(body.utf8))
    }
}
