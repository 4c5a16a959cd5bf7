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
    static let responsibilityHeld = held("")

    /// The boundaries with crossings in a part-day (`{firstDay}`…`{lastDay}`, from the day sums), each
    /// joined to its rows in `{since}..<{until}`: the boundary index is then searched per boundary
    /// rather than scanned whole. (CROSS JOIN keeps SQLite's loop in that order.)
    static let edgeRows = """
        (SELECT DISTINCT sender_org AS b_from, receiver_org AS b_to, workflow AS b_workflow FROM crossing_days
            WHERE day >= {firstDay} AND day <= {lastDay}) b CROSS JOIN crossing_facts f
        """
    static let edgeRowsMatch =
        "f.sender_org = b.b_from AND f.receiver_org = b.b_to AND f.workflow = b.b_workflow AND f.created_at >= {since} AND f.created_at < {until}"

    /// Each boundary's sums over a part-day, judged against `{now}`.
    public static let tallies = """
        SELECT f.sender_org AS sender_org, f.receiver_org AS receiver_org, f.workflow AS workflow, count(*) AS n,
            sum(identity) AS identity, sum(consent) AS consent, sum(provenance) AS provenance, sum(intent) AS intent,
            sum(CASE WHEN \(responsibilityCounted) THEN 1 ELSE 0 END) AS ar_n,
            sum(CASE WHEN \(responsibilityHeld) THEN 1 ELSE 0 END) AS ar_ok,
            sum(routing) AS routing,
            sum(CASE WHEN for_information = 0 THEN 1 ELSE 0 END) AS out_n,
            sum(CASE WHEN for_information = 0 THEN outcome ELSE 0 END) AS out_ok
        FROM \(edgeRows) WHERE \(edgeRowsMatch)
        GROUP BY f.sender_org, f.receiver_org, f.workflow
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

    /// Refreshes a crossing's row only when one of its judged facts changed, so a download or a
    /// status change rewrites nothing and the day sums' triggers do not fire.
    public static func updatedOnConflict(_ d: ScorecardDialect) -> String {
        let changing = ["identity", "consent", "provenance", "intent", "routing", "outcome", "accepted_at", "secs_to_accept", "secs_to_outcome"]
        return "ON CONFLICT (message_id) DO UPDATE SET " + changing.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
            + " WHERE " + changing.map { "crossing_facts.\($0) \(d.differs) excluded.\($0)" }.joined(separator: " OR ")
    }

    /// Replaces `{name}` placeholders with SQLite's `:name`.
    public static func sqlite(_ text: String) -> String {
        var out = text
        while let open = out.range(of: "{"), let close = out[open.upperBound...].range(of: "}") {
            out.replaceSubrange(open.lowerBound..<close.upperBound, with: ":" + out[open.upperBound..<close.lowerBound])
        }
        return out
    }

    /// Replaces `{name}` placeholders with PostgreSQL's `$1`, `$2`… in the order of `names`.
    public static func postgres(_ text: String, _ names: [String]) -> String {
        var out = text
        for (i, name) in names.enumerated() { out = out.replacingOccurrences(of: "{\(name)}", with: "$\(i + 1)") }
        return out
    }
}

/// The scorecard's reads (docs/CROSSINGS.md, "The boundary scorecard").
public protocol ScorecardStore: Sendable {
    /// Each boundary's sums over `since..<until`, with its median times to acceptance and outcome.
    func boundaryTallies(since: Timestamp, until: Timestamp, now: Timestamp) async throws -> [BoundaryTally]
    /// The crossings of one boundary, newest first: all of them, or those failing `flow`.
    func boundaryCrossings(
        from: String, to: String, workflowID: String, failing flow: Flow?, since: Timestamp, until: Timestamp,
        now: Timestamp, limit: Int
    ) async throws -> [MessageID]
}
