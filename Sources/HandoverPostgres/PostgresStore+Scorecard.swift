import HandoverCore
import HandoverStore

extension ScorecardRow {
    /// Writes or refreshes this crossing's facts row (in the transaction that changed the message).
    func upsert(_ tx: SQLTransaction) async throws {
        try await tx.execute(UpsertFactsSQL.self, arguments)
    }

    /// The row's values in `ScorecardSQL.columns` order (flags as 0/1).
    var arguments: [any SQLArgumentConvertible] {
        var row = ArgumentList(capacity: DeliverySQL.factColumnCount)
        addStoredValues(to: &row)
        return row.values
    }
}

extension PostgresStore: ScorecardStore {
    public func boundaryTallies(since: Timestamp, until: Timestamp, now: Timestamp) async throws -> [BoundaryTally] {
        let window = ScorecardWindow(since: since, until: until)
        return try await snapshot { tx in
            func sums(_ sql: String, _ names: [String], _ arguments: [any SQLArgumentConvertible]) async throws -> [BoundaryTally] {
                try await tx.rows(ScorecardSQL.postgres(sql, names), arguments).map { row in
                    func int(_ column: String) throws -> Int { Int(try row(column, as: Int64.self)) }
                    return BoundaryTally(
                        from: try row("sender_org"), to: try row("receiver_org"), workflowID: try row("workflow"), n: try int("n"),
                        identity: try row("identity"), consent: try int("consent"), provenance: try int("provenance"), intent: try int("intent"),
                        responsibilityCounted: try int("ar_n"), responsibilityHeld: try int("ar_ok"), routing: try int("routing"),
                        outcomeCounted: try int("out_n"), outcomeRecorded: try int("out_ok"))
                }
            }
            func durations(_ sql: String, _ names: [String], _ arguments: [any SQLArgumentConvertible]) async throws -> [DurationCount] {
                try await tx.rows(ScorecardSQL.postgres(sql, names), arguments).compactMap { row in
                    guard let kind = DurationKind(rawValue: try row("kind")) else { return nil }
                    return DurationCount(
                        key: BoundaryKey(from: try row("sender_org"), to: try row("receiver_org"), workflowID: try row("workflow")),
                        kind: kind, bucket: try row("bucket"), count: Int(try row("n", as: Int64.self)))
                }
            }
            let days: [any SQLArgumentConvertible] = [window.days.lowerBound, window.days.upperBound]
            var edges: [BoundaryTally] = []
            var counts = try await durations(ScorecardSQL.dayDurations, ["first", "end"], days)
            for edge in window.edges {
                let touched = ScorecardWindow.days(of: edge)
                let names = ["now", "since", "until", "firstDay", "lastDay"]
                let arguments: [any SQLArgumentConvertible] = [now, edge.lowerBound, edge.upperBound, touched.lowerBound, touched.upperBound]
                edges += try await sums(ScorecardSQL.tallies, names, arguments)
                // Without {now}: PostgreSQL must know every parameter's type, so the list starts at {since}.
                counts += try await durations(ScorecardSQL.edgeDurations, Array(names.dropFirst()), Array(arguments.dropFirst()))
            }
            var notYetDue: [BoundaryKey: Int] = [:]
            for row in try await tx.rows(
                ScorecardSQL.postgres(ScorecardSQL.notYetDue(.postgres), ["now", "since", "until"]),
                [now, window.daysSpan.lowerBound, window.daysSpan.upperBound])
            {
                notYetDue[BoundaryKey(from: try row("sender_org"), to: try row("receiver_org"), workflowID: try row("workflow"))] = Int(
                    try row("n", as: Int64.self))
            }
            var tallies = ScorecardAssembly.tallies(
                days: try await sums(ScorecardSQL.daySums, ["first", "end"], days), notYetDue: notYetDue, edges: edges)
            for lookup in ScorecardAssembly.medianLookups(counts) {
                tallies.setMedian(
                    try await tx.row(
                        ScorecardSQL.postgres(
                            ScorecardSQL.median(lookup.kind), ["from", "to", "workflow", "low", "high", "since", "until", "offset"]),
                        [
                            lookup.key.from, lookup.key.to, lookup.key.workflowID, lookup.seconds.lowerBound, lookup.seconds.upperBound, window.since,
                            window.until, lookup.offset,
                        ]
                    ).map { try $0("v", as: Int64.self) }, for: lookup)
            }
            return tallies
        }
    }

    public func boundaryCrossings(
        from: String, to: String, workflowID: String, failing flow: Flow?, since: Timestamp, until: Timestamp,
        now: Timestamp, limit: Int
    ) async throws -> [MessageID] {
        try await read { tx in
            let condition = flow.map { " AND " + ScorecardSQL.failing($0) } ?? ""
            return try await tx.rows(
                ScorecardSQL.postgres(
                    """
                    SELECT message_id FROM crossing_facts WHERE sender_org = $4 AND receiver_org = $5 AND workflow = $6
                        AND created_at >= {since} AND created_at < {until}\(condition) ORDER BY created_at DESC LIMIT $7
                    """, ["now", "since", "until"]), [now, since, until, from, to, workflowID, limit]
            ).map { MessageID(try $0("message_id", as: String.self)) }
        }
    }
}

enum UpsertFactsSQL: PreparedText {
    static let sql =
        "INSERT INTO crossing_facts (\(ScorecardSQL.columns)) VALUES (\((1...16).map { "$\($0)" }.joined(separator: ", "))) "
        + ScorecardSQL.updatedOnConflict(.postgres)
}
