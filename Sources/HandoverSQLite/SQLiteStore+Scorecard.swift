import GRDB
import HandoverCore
import HandoverStore

extension ScorecardRow {
    /// Built once: every send writes one (a profile showed the string building at 1.5 % of a send).
    private static let upsertSQL =
        "INSERT INTO crossing_facts (\(ScorecardSQL.columns)) VALUES (\(Array(repeating: "?", count: 16).joined(separator: ", "))) "
        + ScorecardSQL.updatedOnConflict(.sqlite)

    /// Writes or refreshes this crossing's facts row (in the transaction that changed the message).
    func upsert(_ db: Database) throws {
        try db.run(sql: Self.upsertSQL) { row in addStoredValues(to: &row) }
    }
}

extension SQLiteStore: ScorecardStore {
    public func boundaryTallies(since: Timestamp, until: Timestamp, now: Timestamp) async throws -> [BoundaryTally] {
        let window = ScorecardWindow(since: since, until: until)
        return try await read { db in
            func sums(_ sql: String, _ arguments: StatementArguments) throws -> [BoundaryTally] {
                try Row.fetchAll(db, sql: ScorecardSQL.sqlite(sql), arguments: arguments).map { row in
                    BoundaryTally(
                        from: row["sender_org"], to: row["receiver_org"], workflowID: row["workflow"], n: row["n"],
                        identity: row["identity"], consent: row["consent"], provenance: row["provenance"], intent: row["intent"],
                        responsibilityCounted: row["ar_n"], responsibilityHeld: row["ar_ok"], routing: row["routing"],
                        outcomeCounted: row["out_n"], outcomeRecorded: row["out_ok"])
                }
            }
            func durations(_ sql: String, _ arguments: StatementArguments) throws -> [DurationCount] {
                try Row.fetchAll(db, sql: ScorecardSQL.sqlite(sql), arguments: arguments).compactMap { row in
                    DurationKind(rawValue: row["kind"]).map {
                        DurationCount(
                            key: BoundaryKey(from: row["sender_org"], to: row["receiver_org"], workflowID: row["workflow"]), kind: $0,
                            bucket: row["bucket"], count: row["n"])
                    }
                }
            }
            let days: StatementArguments = ["first": window.days.lowerBound, "end": window.days.upperBound]
            let span: StatementArguments = [
                "now": now.microsecondsSinceEpoch, "since": window.daysSpan.lowerBound.microsecondsSinceEpoch,
                "until": window.daysSpan.upperBound.microsecondsSinceEpoch,
            ]
            var edges: [BoundaryTally] = []
            var counts = try durations(ScorecardSQL.dayDurations, days)
            for edge in window.edges {
                let touched = ScorecardWindow.days(of: edge)
                let range: StatementArguments = [
                    "now": now.microsecondsSinceEpoch, "since": edge.lowerBound.microsecondsSinceEpoch,
                    "until": edge.upperBound.microsecondsSinceEpoch, "firstDay": touched.lowerBound, "lastDay": touched.upperBound,
                ]
                edges += try sums(ScorecardSQL.tallies, range)
                counts += try durations(ScorecardSQL.edgeDurations, range)
            }
            let notYetDue = try Row.fetchAll(db, sql: ScorecardSQL.sqlite(ScorecardSQL.notYetDue(.sqlite)), arguments: span).reduce(
                into: [BoundaryKey: Int]()
            ) {
                $0[BoundaryKey(from: $1["sender_org"], to: $1["receiver_org"], workflowID: $1["workflow"])] = $1["n"]
            }
            var tallies = ScorecardAssembly.tallies(days: try sums(ScorecardSQL.daySums, days), notYetDue: notYetDue, edges: edges)
            for lookup in ScorecardAssembly.medianLookups(counts) {
                tallies.setMedian(
                    try Int64.fetchOne(
                        db, sql: ScorecardSQL.sqlite(ScorecardSQL.median(lookup.kind)),
                        arguments: [
                            "from": lookup.key.from, "to": lookup.key.to, "workflow": lookup.key.workflowID, "low": lookup.seconds.lowerBound,
                            "high": lookup.seconds.upperBound, "since": window.since.microsecondsSinceEpoch,
                            "until": window.until.microsecondsSinceEpoch,
                            "offset": lookup.offset,
                        ]), for: lookup)
            }
            return tallies
        }
    }

    public func boundaryCrossings(
        from: String, to: String, workflowID: String, failing flow: Flow?, since: Timestamp, until: Timestamp,
        now: Timestamp, limit: Int
    ) async throws -> [MessageID] {
        try await read { db in
            let condition = flow.map { " AND " + ScorecardSQL.failing($0) } ?? ""
            return try String.fetchAll(
                db,
                sql: ScorecardSQL.sqlite(
                    """
                    SELECT message_id FROM crossing_facts WHERE sender_org = :from AND receiver_org = :to AND workflow = :workflow
                        AND created_at >= {since} AND created_at < {until}\(condition) ORDER BY created_at DESC LIMIT :limit
                    """),
                arguments: [
                    "from": from, "to": to, "workflow": workflowID, "now": now.microsecondsSinceEpoch,
                    "since": since.microsecondsSinceEpoch, "until": until.microsecondsSinceEpoch, "limit": limit,
                ]
            ).map(MessageID.init)
        }
    }
}
