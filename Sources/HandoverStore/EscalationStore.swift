import HandoverCore

/// Responsibility, the message timeline, escalation deadlines, alerts and webhook deliveries.
/// Every method is one transaction, so a decision, its business ack and the alerts it resolves
/// commit together, and an alert and its notifications are raised exactly once.
public protocol EscalationStore: Sendable {
    /// Records the recipient's first download (and resolves not-downloaded alerts).
    func markDownloaded(messageID: MessageID, now: Timestamp) async throws

    /// Applies the transition `decide` makes from the message as it stands, in one transaction with
    /// the message locked against concurrent change (redirects, withdrawals, amendments). `decide`
    /// throws to refuse (`MeshError` for who may, `ResponsibilityMachine.Refusal` for the state).
    func transform(
        messageID: MessageID, now: Timestamp, decide: @escaping @Sendable (MessageRecord) throws -> MessageTransition
    ) async throws -> MessageRecord

    func events(messageID: MessageID) async throws -> [MessageEvent]

    /// Computes deadlines for delivered messages that have a policy and none yet. Returns how many were planned.
    func planDeadlines(limit: Int, plan: @escaping @Sendable (MessageRecord) -> [(stage: Int, due: Timestamp)]) async throws -> Int

    /// Fires deadlines due by `now`: `raise` decides the alert (nil: the condition no longer holds).
    /// Two schedulers on one store never raise the same message's stage twice.
    func fireDueDeadlines(
        now: Timestamp, limit: Int, raise: @escaping @Sendable (MessageRecord, Int, Timestamp) -> AlertPlan?
    ) async throws -> [Alert]

    /// Opens again the acknowledged alerts whose acknowledgement has lapsed (recorded in the message's
    /// timeline), then re-notifies open alerts whose repeat is due; `renotify` returns nil when the alert should resolve.
    func renotifyDueAlerts(now: Timestamp, limit: Int, renotify: @escaping @Sendable (Alert, MessageRecord) -> AlertPlan?) async throws -> Int

    /// The earliest time the scheduler has work: a deadline, a repeat, or now if deliveries await planning.
    func nextEscalationWork(now: Timestamp) async throws -> Timestamp?

    func alerts(state: Alert.State?, limit: Int) async throws -> [Alert]
    /// Unresolved alerts counted by workflow and stage, by the database (for `/metrics`: its cost
    /// does not grow with rows fetched).
    func unresolvedAlertCounts() async throws -> [UnresolvedAlertCount]
    func alerts(messageID: MessageID) async throws -> [Alert]
    func alert(id: String) async throws -> Alert?
    /// Sends pending acknowledgement and resolution notices (an outbox the same transactions fill):
    /// `plan` turns each into notifications, stored with it in one transaction. Returns how many were sent.
    func sendAlertNotices(
        now: Timestamp, limit: Int, plan: @escaping @Sendable (AlertNotice, Alert, MessageRecord) -> [AlertNotification]
    ) async throws -> Int

    /// Acknowledges an open alert (stopping its repeats) until `lapsesAt`, when it opens again if its
    /// condition still holds (`renotifyDueAlerts`); nil: it holds until the alert resolves. Returns nil if unknown.
    func acknowledgeAlert(id: String, by person: Person, note: String?, lapsesAt: Timestamp?, now: Timestamp) async throws -> Alert?
    /// Brings a message's next scheduled escalation stage forward to `now` (a duty team's "escalate
    /// now"); the scheduler then raises it as if it were due. Returns that stage, or nil if none is left.
    func bringForwardNextStage(messageID: MessageID, by person: Person, now: Timestamp) async throws -> Int?
    /// Pauses an open alert's repeats until `until` (it stays open; its escalation stages, and so
    /// a safeguarding workflow's not-accepted deadline, do not move). Nil if no open alert repeats.
    func snoozeAlert(id: String, until: Timestamp, by person: Person, reason: String, now: Timestamp) async throws -> Alert?

    /// Hands an unresolved alert to another operator (`to`), recorded on the alert and in the
    /// message's timeline. Its state, repeats and the message's deadlines do not change. Nil if the
    /// alert is unknown or resolved.
    func reassignAlert(id: String, to person: Person, by actor: Person, now: Timestamp) async throws -> Alert?

    /// Leases up to `limit` webhook deliveries due by `now` for `leaseSeconds`.
    func claimWebhookDeliveries(now: Timestamp, limit: Int, leaseSeconds: Int64) async throws -> [WebhookDelivery]
    func recordWebhookAttempt(deliveryID: String, now: Timestamp, status: Int?, error: String?, next: WebhookDelivery.Next) async throws
    func webhookDeliveries(alertID: String) async throws -> [WebhookDelivery]
}

/// One entry of a message's timeline.
public struct MessageEvent: Hashable, Sendable {
    public var at: Timestamp
    public var kind: String
    public var detail: String
    public init(at: Timestamp, kind: String, detail: String) { (self.at, self.kind, self.detail) = (at, kind, detail) }
}

public struct WebhookDelivery: Hashable, Sendable {
    public enum Next: Hashable, Sendable { case delivered, retry(at: Timestamp), abandon }

    public var id: String
    public var alertID: String
    public var webhookID: String
    public var body: String
    public var createdAt: Timestamp
    public var attempts: Int
    public var state: String
    public var attemptLog: [(at: Timestamp, status: Int?, error: String?)]

    public init(
        id: String, alertID: String, webhookID: String, body: String, createdAt: Timestamp, attempts: Int, state: String,
        attemptLog: [(at: Timestamp, status: Int?, error: String?)] = []
    ) {
        (self.id, self.alertID, self.webhookID, self.body, self.createdAt, self.attempts, self.state, self.attemptLog) =
            (id, alertID, webhookID, body, createdAt, attempts, state, attemptLog)
    }

    public static func == (a: Self, b: Self) -> Bool { a.id == b.id && a.attempts == b.attempts && a.state == b.state }
    public func hash(into h: inout Hasher) { h.combine(id) }
}

/// Everything the broker stores, in one backend.
public typealias BrokerStore = MessageStore & EscalationStore & DirectoryStore & ScorecardStore & ConsoleStore

/// How many alerts are unresolved (open or acknowledged) for one workflow and stage.
public struct UnresolvedAlertCount: Hashable, Sendable {
    public var workflowID: String
    public var stage: Int
    public var count: Int
    public init(workflowID: String, stage: Int, count: Int) { (self.workflowID, self.stage, self.count) = (workflowID, stage, count) }
}

extension EscalationStore {
    /// Applies a responsibility decision or outcome by the recipient. `change` is the pure state
    /// transition; `ack` builds the business ack for the sender. Throws `MeshError` (unknown message,
    /// not the recipient) or `ResponsibilityMachine.Refusal`.
    public func updateResponsibility(
        messageID: MessageID, recipient: MailboxID, event: String, now: Timestamp,
        change: @escaping @Sendable (MessageRecord) -> Result<ResponsibilityRecord, ResponsibilityMachine.Refusal>,
        ack: @escaping @Sendable (MessageRecord, ResponsibilityRecord) -> (MessageRecord, [UInt8])?
    ) async throws -> MessageRecord {
        try await transform(messageID: messageID, now: now) { message in
            guard message.recipient == recipient else { throw MeshError.forbidden }
            return ResponsibilityMachine.applied(try change(message).get(), to: message, event: event, acknowledgement: ack)
        }
    }
}
