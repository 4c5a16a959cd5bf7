/// What the escalation rules need to know about a message.
public struct EscalationFacts: Hashable, Sendable {
    public var deliveredAt: Timestamp
    public var downloaded: Bool
    public var acknowledged: Bool
    public var responsibility: ResponsibilityState
    public var hasOutcome: Bool
    /// Never delivered: nothing to escalate. (An expired message is still unowned, so its alerts stay.)
    public var closed: Bool

    public init(deliveredAt: Timestamp, downloaded: Bool, acknowledged: Bool, responsibility: ResponsibilityState, hasOutcome: Bool, closed: Bool) {
        (self.deliveredAt, self.downloaded, self.acknowledged, self.responsibility, self.hasOutcome, self.closed) =
            (deliveredAt, downloaded, acknowledged, responsibility, hasOutcome, closed)
    }
}

/// Escalation policy evaluation (contract §2 and §4), pure functions of the message's state and `now`.
public enum EscalationRules {
    /// Whether a stage's condition holds. A declined message counts as not accepted: responsibility
    /// stayed with the sender, and nobody at the receiving end owns it.
    public static func holds(_ condition: EscalationCondition, _ f: EscalationFacts) -> Bool {
        guard !f.closed else { return false }
        switch condition {
        case .notDownloaded: return !f.downloaded
        case .notAcknowledged: return !f.acknowledged
        case .notAccepted: return f.responsibility != .accepted
        case .noOutcome: return !f.hasOutcome
        }
    }

    /// When each stage falls due, measured from delivery (on the policy's calendar for working time).
    public static func dueTimes(_ policy: EscalationPolicy, deliveredAt: Timestamp, calendar: WorkingTime?) -> [Timestamp] {
        policy.stages.map { add($0.after, to: deliveredAt, calendar: calendar) }
    }

    /// The next re-notification of an open alert, or nil if the stage does not repeat.
    public static func nextRepeat(_ stage: EscalationStage, after last: Timestamp, calendar: WorkingTime?) -> Timestamp? {
        stage.repeatEvery.map { add($0, to: last, calendar: calendar) }
    }

    /// When an acknowledgement made `now` lapses under the alert's policy (nil: it holds).
    public static func acknowledgementLapsesAt(_ alert: Alert, now: Timestamp, index: DirectoryIndex) -> Timestamp? {
        guard let policy = index.escalationPolicy(alert.policy), let lapse = policy.acknowledgementLapse else { return nil }
        return add(lapse, to: now, calendar: index.workingTime(of: policy))
    }

    static func add(_ duration: DirectoryDuration, to t: Timestamp, calendar: WorkingTime?) -> Timestamp {
        if let calendar { return calendar.add(duration, to: t) }
        // Validation refuses working-time durations without a calendar; elapsed time is the safe reading.
        switch duration {
        case .elapsed(let s): return t.adding(seconds: s)
        case .workingHours(let h): return t.adding(seconds: Int64(h) * 3600)
        case .workingDays(let d): return t.adding(seconds: Int64(d) * 86_400)
        }
    }
}
