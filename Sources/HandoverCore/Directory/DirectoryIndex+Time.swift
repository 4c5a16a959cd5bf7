/// The directory's clocks: which policy and calendar a workflow's times are counted on.
extension DirectoryIndex {
    /// The escalation policy `id` names, nil when there is none by that id.
    public func escalationPolicy(_ id: String?) -> EscalationPolicy? {
        id.flatMap { id in directory.escalationPolicies.first { $0.id == id } }
    }

    /// The calendar `policy` counts working time on; nil when it names none.
    public func workingTime(of policy: EscalationPolicy) -> WorkingTime? {
        policy.calendar.flatMap { id in directory.calendars.first { $0.id == id } }.flatMap(WorkingTime.init)
    }

    /// How long a message on `workflow` delivered at `deliveredAt` may wait to be acknowledged: the
    /// workflow's `expiry`, working hours and days counted on its escalation policy's calendar, or
    /// `defaultSeconds` when it sets none. Without a calendar (validation warns) a working-time expiry
    /// takes its longest reading, so it never expires a message early. Callers pass the send's time: a
    /// single-chunk message is delivered then, and a chunked one later, which only makes its expiry
    /// later still.
    public func expirySeconds(workflow: Workflow?, deliveredAt: Timestamp, defaultSeconds: Int64) -> Int64 {
        guard let expiry = workflow?.expiry else { return defaultSeconds }
        if let seconds = expiry.elapsedSeconds { return seconds }
        guard let calendar = escalationPolicy(workflow?.escalation).flatMap(workingTime(of:)) else { return expiry.longestExpirySeconds }
        let micros = calendar.add(expiry, to: deliveredAt).microsecondsSinceEpoch - deliveredAt.microsecondsSinceEpoch
        return (micros + 999_999) / 1_000_000
    }
}
