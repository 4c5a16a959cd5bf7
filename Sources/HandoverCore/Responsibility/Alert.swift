import Foundation

/// An escalation alert: at most one per message and stage (the store enforces it), re-notified on
/// the stage's `repeat` until acknowledged, resolved when its condition stops holding.
public struct Alert: Hashable, Sendable {
    public enum State: String, Hashable, Sendable, Codable { case open, acknowledged, resolved }

    public var id: String
    public var messageID: MessageID
    public var stage: Int
    public var policy: String
    public var workflowID: String
    public var condition: EscalationCondition
    public var dueAt: Timestamp
    public var raisedAt: Timestamp
    public var state: State
    public var acknowledgedBy: Person?
    public var acknowledgedNote: String?
    public var acknowledgedAt: Timestamp?
    public var resolvedAt: Timestamp?
    public var resolvedReason: String?
    /// Who resolved it: the person who accepted responsibility (or recorded the outcome).
    public var resolvedBy: Person?
    /// The operator the alert was handed to (a duty team's "reassign"); the alert itself stays as it was.
    public var assignedTo: Person?
    public var assignedAt: Timestamp?
    public var notifyCount: Int
    public var lastNotifiedAt: Timestamp
    public var nextNotifyAt: Timestamp?

    public init(
        id: String, messageID: MessageID, stage: Int, policy: String, workflowID: String, condition: EscalationCondition,
        dueAt: Timestamp, raisedAt: Timestamp, state: State = .open, acknowledgedBy: Person? = nil, acknowledgedNote: String? = nil,
        acknowledgedAt: Timestamp? = nil, resolvedAt: Timestamp? = nil, resolvedReason: String? = nil, resolvedBy: Person? = nil,
        assignedTo: Person? = nil, assignedAt: Timestamp? = nil, notifyCount: Int = 1,
        lastNotifiedAt: Timestamp, nextNotifyAt: Timestamp?
    ) {
        self.id = id
        self.messageID = messageID
        self.stage = stage
        self.policy = policy
        self.workflowID = workflowID
        self.condition = condition
        self.dueAt = dueAt
        self.raisedAt = raisedAt
        self.state = state
        self.acknowledgedBy = acknowledgedBy
        self.acknowledgedNote = acknowledgedNote
        self.acknowledgedAt = acknowledgedAt
        self.resolvedAt = resolvedAt
        self.resolvedReason = resolvedReason
        self.resolvedBy = resolvedBy
        (self.assignedTo, self.assignedAt) = (assignedTo, assignedAt)
        self.notifyCount = notifyCount
        self.lastNotifiedAt = lastNotifiedAt
        self.nextNotifyAt = nextNotifyAt
    }

    /// The alert as JSON: what mailboxes, webhooks and the admin API see. Never the payload.
    /// The alert as the admin API shows it; `forMailbox` leaves out what only operators may read
    /// (their acknowledgement note), for tracking.
    public func json(message: MessageRecord?, forMailbox: Bool = false) -> JSONValue {
        .compact([
            ("alert_id", .string(id)), ("state", .string(state.rawValue)), ("message_id", .string(messageID.rawValue)),
            ("workflow_id", .string(workflowID)), ("policy", .string(policy)), ("stage", .int(Int64(stage + 1))),
            ("condition", .string(condition.rawValue)), ("due_at", .string(dueAt.isoUTC)), ("raised_at", .string(raisedAt.isoUTC)),
            ("lag_seconds", .int(max(0, raisedAt.secondsSinceEpoch - dueAt.secondsSinceEpoch))),
            ("notify_count", .int(Int64(notifyCount))), ("sender", message?.sender.map { .string($0.rawValue) }),
            ("recipient", message.map { .string($0.recipient.rawValue) }), ("local_id", message?.localID.map { .string($0) }),
            ("delivered_at", message?.deliveredAt.map { .string($0.isoUTC) }),
            ("summary", .string(summary(message))),
            ("acknowledged_by", acknowledgedBy.map(personJSON)), ("acknowledged_note", forMailbox ? nil : acknowledgedNote.map { .string($0) }),
            ("acknowledged_at", acknowledgedAt.map { .string($0.isoUTC) }),
            ("resolved_at", resolvedAt.map { .string($0.isoUTC) }), ("resolved_reason", resolvedReason.map { .string($0) }),
            ("resolved_by", resolvedBy.map(personJSON)),
            // Who the duty team handed it to is theirs to read; mailboxes and webhooks do not carry it.
            ("assigned_to", forMailbox ? nil : assignedTo.map(personJSON)), ("assigned_at", forMailbox ? nil : assignedAt.map { .string($0.isoUTC) }),
        ])
    }

    /// The alert as webhooks and email carry it, outside the MESH boundary: references only (no
    /// sender's local id, no operator's note), whatever the receiver.
    public func referenceJSON(message: MessageRecord?) -> JSONValue {
        guard case .object(let pairs) = json(message: message, forMailbox: true) else { return .object([]) }
        return .object(pairs.filter { $0.0 != "local_id" })
    }

    func summary(_ m: MessageRecord?) -> String {
        let what: String
        switch condition {
        case .notDownloaded: what = "has not been downloaded"
        case .notAcknowledged: what = "has not been acknowledged"
        case .notAccepted: what = "has no named person accepting responsibility"
        case .noOutcome: what = "has no recorded outcome"
        }
        return "\(workflowID) message \(messageID.rawValue) to \(m?.recipient.rawValue ?? "?") \(what)"
    }
}

public func personJSON(_ p: Person) -> JSONValue {
    .compact([("name", .string(p.name)), ("role", p.role.map { .string($0) }), ("team", p.team.map { .string($0) })])
}

/// What raising or repeating an alert sends, decided by `AlertPlanner` and stored in one transaction.
public enum AlertNotification: Hashable, Sendable {
    /// A DATA message on workflow `HANDOVER_ALERT` into a mailbox.
    case mailbox(MessageRecord, body: [UInt8])
    /// A POST to a webhook, or an email (`emailTarget`), retried by the webhook sender.
    case webhook(webhookID: String, deliveryID: String, body: String)

    /// Email deliveries share the webhook outbox (its retries, attempt log and audit); their target
    /// is written `mailto:ADDRESS` where a webhook's is its id, which never contains a colon.
    public static func emailTarget(_ address: String) -> String { "mailto:" + address }
    public static func emailAddress(target: String) -> String? { target.hasPrefix("mailto:") ? String(target.dropFirst(7)) : nil }
}

public struct AlertPlan: Hashable, Sendable {
    public var alert: Alert
    public var notifications: [AlertNotification]
    public init(alert: Alert, notifications: [AlertNotification]) { (self.alert, self.notifications) = (alert, notifications) }
}

/// Something that happened to an alert after it was raised, told to everyone the alert reached:
/// kept in the store in the same transaction as the change (an outbox), sent by the scheduler.
public struct AlertNotice: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable { case acknowledged, resolved }
    public var id: Int64
    public var alertID: String
    public var kind: Kind
    public var by: Person?
    /// The operator's note (acknowledgements): sent to duty targets and webhooks, never to the sender.
    public var note: String?
    public var at: Timestamp

    public init(id: Int64 = 0, alertID: String, kind: Kind, by: Person?, note: String? = nil, at: Timestamp) {
        (self.id, self.alertID, self.kind, self.by, self.note, self.at) = (id, alertID, kind, by, note, at)
    }

    /// The stored form of `by` and `note`.
    public var detail: String {
        JSONValue.compact([("by", by.map(personJSON)), ("note", note.map { .string($0) })]).serialized
    }

    public static func parse(id: Int64, alertID: String, kind: String, detail: String, at: Timestamp) -> AlertNotice? {
        guard let kind = Kind(rawValue: kind) else { return nil }
        struct Stored: Decodable {
            var by: Person?
            var note: String?
        }
        let stored = (try? JSONDecoder().decode(Stored.self, from: Data(detail.utf8))) ?? Stored()
        return AlertNotice(id: id, alertID: alertID, kind: kind, by: stored.by, note: stored.note, at: at)
    }
}
