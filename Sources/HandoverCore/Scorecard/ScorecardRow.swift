/// What the store keeps per crossing so the scorecard is one aggregate query, not a reading of every
/// record: the boundary, the flows already judged, and the times Alert & Responsibility needs (its
/// "not yet due" depends on when the scorecard is asked, so it is decided in the query).
public struct ScorecardRow: Hashable, Sendable {
    public var messageID: MessageID
    public var senderOrganisation: String
    public var receiverOrganisation: String
    public var workflowID: String
    public var createdAt: Timestamp
    public var identity: Double
    public var consent: Bool
    public var provenance: Bool
    public var clinicalIntent: Bool
    public var forInformation: Bool
    public var serviceRouting: Bool
    public var outcome: Bool
    public var acceptBy: Timestamp?
    public var acceptedAt: Timestamp?
    public var secondsToAcceptance: Int64?
    public var secondsToOutcome: Int64?

    /// The row for a stored crossing; nil for what is not a crossing (reports, the broker's own
    /// notices, messages stored before crossings were recorded).
    public init?(message m: MessageRecord) {
        guard m.type == .data, let record = m.crossing, let derived = record.derived,
            let from = derived.senderOrganisation, let to = derived.receiverOrganisation
        else { return nil }
        let acceptBy = derived.acceptBy.flatMap(Timestamp.parseDateTime)
        // Judged as of the end of time: only the not-yet-due rule depends on "now", and the query applies it.
        let facts = CrossingFacts(message: m, notAcceptedDeadline: acceptBy, now: .distantFuture)
        let responsibility = m.responsibility
        self.messageID = m.id
        self.senderOrganisation = from
        self.receiverOrganisation = to
        self.workflowID = derived.offSystem?.workflowID ?? m.workflowID
        self.createdAt = m.createdAt
        self.identity = facts.identity
        self.consent = facts.consent
        self.provenance = facts.provenance
        self.clinicalIntent = facts.clinicalIntent
        self.forInformation = record.intent?.action == "for-information"
        self.serviceRouting = facts.serviceRouting
        self.outcome = facts.outcome ?? false
        self.acceptBy = acceptBy
        self.acceptedAt = responsibility?.state == .accepted ? responsibility?.decidedAt : nil
        self.secondsToAcceptance = facts.secondsToAcceptance
        self.secondsToOutcome = facts.secondsToOutcome
    }
}

/// One boundary's sums, as the store's aggregate query returns them.
public struct BoundaryTally: Hashable, Sendable {
    public var from: String
    public var to: String
    public var workflowID: String
    public var crossings: Int
    /// Per flow: how many crossings counted, and the sum of their credit.
    public var flows: [Flow: (counted: Int, credit: Double)]
    public var medianSecondsToAcceptance: Int64?
    public var medianSecondsToOutcome: Int64?

    public init(from: String, to: String, workflowID: String, crossings: Int, flows: [Flow: (counted: Int, credit: Double)]) {
        (self.from, self.to, self.workflowID, self.crossings, self.flows) = (from, to, workflowID, crossings, flows)
    }

    public static func == (a: BoundaryTally, b: BoundaryTally) -> Bool {
        a.from == b.from && a.to == b.to && a.workflowID == b.workflowID && a.crossings == b.crossings
            && Flow.allCases.allSatisfy { a.flows[$0]?.counted == b.flows[$0]?.counted && a.flows[$0]?.credit == b.flows[$0]?.credit }
    }

    public func hash(into h: inout Hasher) {
        h.combine(from)
        h.combine(to)
        h.combine(workflowID)
        h.combine(crossings)
    }
}

extension BoundaryTally {
    /// From the aggregate query's sums.
    public init(
        from: String, to: String, workflowID: String, n: Int, identity: Double, consent: Int, provenance: Int, intent: Int,
        responsibilityCounted: Int, responsibilityHeld: Int, routing: Int, outcomeCounted: Int, outcomeRecorded: Int
    ) {
        self.init(
            from: from, to: to, workflowID: workflowID, crossings: n,
            flows: [
                .identity: (n, identity), .consent: (n, Double(consent)), .provenance: (n, Double(provenance)), .clinicalIntent: (n, Double(intent)),
                .alertResponsibility: (responsibilityCounted, Double(responsibilityHeld)), .serviceRouting: (n, Double(routing)),
                .outcome: (outcomeCounted, Double(outcomeRecorded)),
            ])
    }
}

extension DirectoryIndex {
    /// When the workflow's first not-accepted escalation stage falls due for a crossing delivered at
    /// `deliveredAt` (working time on the policy's calendar); nil when the workflow has none.
    public func firstNotAcceptedDeadline(workflow: Workflow?, deliveredAt: Timestamp) -> Timestamp? {
        guard let policy = escalationPolicy(workflow?.escalation) else { return nil }
        let due = EscalationRules.dueTimes(policy, deliveredAt: deliveredAt, calendar: workingTime(of: policy))
        return zip(policy.stages, due).first { $0.0.when == .notAccepted }?.1
    }
}
