import Foundation

/// Everything a notification that leaves the broker (a webhook of any format, an email) may say about
/// an alert: references only. Never the payload, the subject line, the sender's local id, an NHS
/// number, an operator's note or any crossing field: chat rooms, pagers and mail relays are outside
/// the boundary. Built from the stored delivery body (itself references only, `Alert.referenceJSON`)
/// and the directory, at the moment of sending.
public struct AlertFacts: Hashable, Sendable {
    public enum Event: String, Hashable, Sendable {
        case raised = "alert.raised", repeated = "alert.repeated", acknowledged = "alert.acknowledged", resolved = "alert.resolved"
    }

    public struct Organisation: Hashable, Sendable {
        public var code: String
        public var name: String
        public init(code: String, name: String) { (self.code, self.name) = (code, name) }
        public var label: String { name == code ? code : "\(name) (\(code))" }
    }

    public var event: Event
    public var alertID: String
    public var messageID: String
    public var workflowID: String
    /// One-based, as the admin API shows it.
    public var stage: Int
    public var condition: EscalationCondition
    public var dueAt: Timestamp
    public var raisedAt: Timestamp
    public var deliveredAt: Timestamp?
    public var sending: Organisation?
    public var receiving: Organisation?
    public var acknowledgedBy: String?
    public var resolvedAt: Timestamp?
    public var resolvedReason: String?
    /// Where a person opens the alert (the console), if the broker knows its public address.
    public var link: String?
    public var now: Timestamp
    /// `handover alerts test`: a clearly marked notification that checks a route.
    public var isTest = false

    public init(
        event: Event, alertID: String, messageID: String, workflowID: String, stage: Int, condition: EscalationCondition,
        dueAt: Timestamp, raisedAt: Timestamp, deliveredAt: Timestamp? = nil, sending: Organisation? = nil,
        receiving: Organisation? = nil, acknowledgedBy: String? = nil, resolvedAt: Timestamp? = nil, resolvedReason: String? = nil,
        link: String? = nil, now: Timestamp
    ) {
        (self.event, self.alertID, self.messageID, self.workflowID, self.stage, self.condition) = (
            event, alertID, messageID, workflowID, stage, condition
        )
        (self.dueAt, self.raisedAt, self.deliveredAt, self.sending, self.receiving) = (dueAt, raisedAt, deliveredAt, sending, receiving)
        (self.acknowledgedBy, self.resolvedAt, self.resolvedReason, self.link, self.now) = (acknowledgedBy, resolvedAt, resolvedReason, link, now)
    }

    /// Reads a stored delivery body; nil if it is not an alert body (so a corrupt row fails its
    /// delivery visibly rather than sending something half-formed). `consoleURL` is the console's
    /// public base address (`--console-url`).
    public static func parse(body: String, index: DirectoryIndex, consoleURL: String?, now: Timestamp) -> AlertFacts? {
        struct Stored: Decodable {
            var event: String?, alert_id: String, message_id: String, workflow_id: String, stage: Int, condition: String
            var due_at: String, raised_at: String, delivered_at: String?, sender: String?, recipient: String?
            var acknowledged_by: Person?, resolved_at: String?, resolved_reason: String?
        }
        guard let s = try? JSONDecoder().decode(Stored.self, from: Data(body.utf8)),
            let event = Event(rawValue: s.event ?? "alert.raised"), let condition = EscalationCondition(rawValue: s.condition),
            let due = Timestamp.parseISO(s.due_at), let raised = Timestamp.parseISO(s.raised_at)
        else { return nil }
        func organisation(of mailbox: String?) -> Organisation? {
            guard let mailbox, let code = index.mailboxes[MailboxID(mailbox)]?.organisation else { return nil }
            return Organisation(code: code.rawValue, name: index.organisations[code]?.name ?? code.rawValue)
        }
        return AlertFacts(
            event: event, alertID: s.alert_id, messageID: s.message_id, workflowID: s.workflow_id, stage: s.stage, condition: condition,
            dueAt: due, raisedAt: raised, deliveredAt: s.delivered_at.flatMap(Timestamp.parseISO),
            sending: organisation(of: s.sender), receiving: organisation(of: s.recipient), acknowledgedBy: s.acknowledged_by?.name,
            resolvedAt: s.resolved_at.flatMap(Timestamp.parseISO), resolvedReason: s.resolved_reason,
            link: consoleURL.map { Self.link(base: $0, alertID: s.alert_id) }, now: now)
    }

    public static func link(base: String, alertID: String) -> String {
        (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/console/alerts/" + alertID
    }

    /// How long the message has waited since it reached the receiving mailbox (until resolution, once resolved).
    public var waitedSeconds: Int64 {
        let end = event == .resolved ? (resolvedAt ?? now) : now
        return max(0, end.secondsSinceEpoch - (deliveredAt ?? raisedAt).secondsSinceEpoch)
    }

    /// Whether the alert still wants attention: raised, repeated, or acknowledged but not resolved.
    public var isFiring: Bool { event != .resolved }

    /// What went wrong, in words a duty manager reads at a glance.
    public var conditionPhrase: String {
        switch condition {
        case .notDownloaded: "not downloaded"
        case .notAcknowledged: "not acknowledged"
        case .notAccepted: "no named person has accepted responsibility"
        case .noOutcome: "no outcome recorded"
        }
    }

    public var eventPhrase: String {
        switch event {
        case .raised: "Alert"
        case .repeated: "Alert (still open)"
        case .acknowledged: "Alert acknowledged"
        case .resolved: "Alert resolved"
        }
    }

    /// One line: what, for whom, how long. Used as a title, a PagerDuty summary and an email subject.
    public var summary: String {
        if isTest { return "TEST: Handover alert route check, no action needed" + (event == .resolved ? " (resolved)" : "") }
        let to = receiving.map { " to \($0.label)" } ?? ""
        return "\(eventPhrase): \(workflowID)\(to): \(conditionPhrase) after \(Self.duration(waitedSeconds))"
    }

    /// The facts, as label and value, in reading order (cards, email, annotations).
    public var facts: [(label: String, value: String)] {
        var out: [(String, String)] = [("Workflow", workflowID), ("Condition", conditionPhrase), ("Stage", String(stage))]
        if let sending { out.append(("From", sending.label)) }
        if let receiving { out.append(("To", receiving.label)) }
        out.append(("Waiting", Self.duration(waitedSeconds)))
        out.append(("Deadline missed", dueAt.isoUTC))
        if let acknowledgedBy { out.append(("Acknowledged by", acknowledgedBy)) }
        if let resolvedReason { out.append(("Resolved", resolvedReason.replacingOccurrences(of: "_", with: " "))) }
        out.append(("Alert", alertID))
        out.append(("Message", messageID))
        return out
    }

    /// "3 h 05 min", "2 d 4 h", "45 s".
    public static func duration(_ seconds: Int64) -> String {
        let s = max(0, seconds)
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min" }
        if s < 86_400 {
            let minutes = (s % 3600) / 60
            return "\(s / 3600) h " + (minutes < 10 ? "0" : "") + "\(minutes) min"
        }
        return "\(s / 86_400) d \((s % 86_400) / 3600) h"
    }

    /// A route check for `handover alerts test`, with made-up references marked as such; one alert id,
    /// so `--resolve` resolves what the check raised in PagerDuty or Alertmanager.
    public static func test(now: Timestamp, resolve: Bool, link: String?) -> AlertFacts {
        var facts = AlertFacts(
            event: resolve ? .resolved : .raised, alertID: "route-check", messageID: "TEST", workflowID: "HANDOVER_TEST",
            stage: 1, condition: .notAccepted, dueAt: now, raisedAt: now, resolvedAt: resolve ? now : nil, link: link, now: now)
        facts.isTest = true
        return facts
    }
}
