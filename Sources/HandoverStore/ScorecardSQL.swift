import HandoverCore

/// The scorecard's SQL, shared by both backends: a facts row per crossing (written with the message),
/// one aggregate over a window, and the crossings that lowered a flow. `{now}`, `{since}` and
/// `{until}` are replaced by each backend's placeholders; times are microseconds.
public enum ScorecardSQL {
    public static let columns = """
        message_id, sender_org, receiver_org, workflow, created_at, identity, consent, provenance, intent, for_information,
        routing, outcome, accept_by, accepted_at, secs_to_accept, secs_to_outcome
        """

    /// Alert & Responsibility counts a crossing once it is accepted or its deadline has passed
    /// (any time, where the workflow has none); for-information crossings are left out.
    static let responsibilityCounted = "for_information = 0 AND (accepted_at IS NOT NULL OR accept_by IS NULL OR accept_by <= {now})"
    static let responsibilityHeld = "for_information = 0 AND accepted_at IS NOT NULL AND (accept_by IS NULL OR accepted_at <= accept_by)"

    public static let tallies = """
        SELECT sender_org, receiver_org, workflow, count(*) AS n,
            sum(identity) AS identity, sum(consent) AS consent, sum(provenance) AS provenance, sum(intent) AS intent,
            sum(CASE WHEN \(responsibilityCounted) THEN 1 ELSE 0 END) AS ar_n,
            sum(CASE WHEN \(responsibilityHeld) THEN 1 ELSE 0 END) AS ar_ok,
            sum(routing) AS routing,
            sum(CASE WHEN for_information = 0 THEN 1 ELSE 0 END) AS out_n,
            sum(CASE WHEN for_information = 0 THEN outcome ELSE 0 END) AS out_ok,
            count(secs_to_accept) AS accepted_n, count(secs_to_outcome) AS outcome_n
        FROM crossing_facts WHERE created_at >= {since} AND created_at < {until}
        GROUP BY sender_org, receiver_org, workflow ORDER BY sender_org, receiver_org, workflow
        """

    /// The condition a crossing fails `flow` by (for the drill-down from a level to its crossings).
    public static func failing(_ flow: Flow) -> String {
        switch flow {
        case .identity: "identity < 1"
        case .consent: "consent = 0"
        case .provenance: "provenance = 0"
        case .clinicalIntent: "intent = 0"
        case .alertResponsibility: "(\(responsibilityCounted)) AND NOT (\(responsibilityHeld))"
        case .serviceRouting: "routing = 0"
        case .outcome: "for_information = 0 AND outcome = 0"
        }
    }

    public static let updatedOnConflict = """
        ON CONFLICT (message_id) DO UPDATE SET identity = excluded.identity, consent = excluded.consent,
            provenance = excluded.provenance, intent = excluded.intent, routing = excluded.routing, outcome = excluded.outcome,
            accepted_at = excluded.accepted_at, secs_to_accept = excluded.secs_to_accept, secs_to_outcome = excluded.secs_to_outcome
        """
}

/// The scorecard's reads (docs/CROSSINGS.md, "The boundary scorecard").
public protocol ScorecardStore: Sendable {
    /// Each boundary's sums over `since..<until`, with its median times to acceptance and outcome.
    func boundaryTallies(since: Timestamp, until: Timestamp, now: Timestamp) async throws -> [BoundaryTally]
    /// The crossings of one boundary, newest first: all of them, or those failing `flow`.
    func boundaryCrossings(from: String, to: String, workflowID: String, failing flow: Flow?, since: Timestamp, until: Timestamp,
                           now: Timestamp, limit: Int) async throws -> [MessageID]
}

extension BoundaryTally {
    /// From the aggregate query's sums.
    public init(from: String, to: String, workflowID: String, n: Int, identity: Double, consent: Int, provenance: Int, intent: Int,
                responsibilityCounted: Int, responsibilityHeld: Int, routing: Int, outcomeCounted: Int, outcomeRecorded: Int) {
        self.init(from: from, to: to, workflowID: workflowID, crossings: n, flows: [
            .identity: (n, identity), .consent: (n, Double(consent)), .provenance: (n, Double(provenance)), .clinicalIntent: (n, Double(intent)),
            .alertResponsibility: (responsibilityCounted, Double(responsibilityHeld)), .serviceRouting: (n, Double(routing)),
            .outcome: (outcomeCounted, Double(outcomeRecorded)),
        ])
    }
}
