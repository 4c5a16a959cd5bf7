import HandoverCore
import HandoverStore

extension ScorecardRow {
    /// Writes or refreshes this crossing's facts row (in the transaction that changed the message).
    func upsert(_ tx: SQLTransaction) async throws {
        let placeholders = (1...16).map { "$\($0)" }.joined(separator: ", ")
        try await tx.execute("INSERT INTO crossing_facts (\(ScorecardSQL.columns)) VALUES (\(placeholders)) \(ScorecardSQL.updatedOnConflict)", arguments)
    }

    /// The row's values in `ScorecardSQL.columns` order (flags as 0/1).
    var arguments: [any SQLArgumentConvertible] {
        func flag(_ b: Bool) -> Int { b ? 1 : 0 }
        return [messageID.rawValue, senderOrganisation, receiverOrganisation, workflowID, createdAt, identity, flag(consent), flag(provenance),
                flag(clinicalIntent), flag(forInformation), flag(serviceRouting), flag(outcome), acceptBy, acceptedAt, secondsToAcceptance,
                secondsToOutcome]
    }
}

extension PostgresStore: ScorecardStore {
    static func sql(_ text: String) -> String {
        text.replacingOccurrences(of: "{now}", with: "$1").replacingOccurrences(of: "{since}", with: "$2").replacingOccurrences(of: "{until}", with: "$3")
    }

    public func boundaryTallies(since: Timestamp, until: Timestamp, now: Timestamp) async throws -> [BoundaryTally] {
        try await read { tx in
            var tallies: [BoundaryTally] = []
            for row in try await tx.rows(Self.sql(ScorecardSQL.tallies), [now, since, until]) {
                var tally = BoundaryTally(
                    from: try row("sender_org"), to: try row("receiver_org"), workflowID: try row("workflow"), n: Int(try row("n", as: Int64.self)),
                    identity: try row("identity"), consent: Int(try row("consent", as: Int64.self)), provenance: Int(try row("provenance", as: Int64.self)),
                    intent: Int(try row("intent", as: Int64.self)), responsibilityCounted: Int(try row("ar_n", as: Int64.self)),
                    responsibilityHeld: Int(try row("ar_ok", as: Int64.self)), routing: Int(try row("routing", as: Int64.self)),
                    outcomeCounted: Int(try row("out_n", as: Int64.self)), outcomeRecorded: Int(try row("out_ok", as: Int64.self)))
                func median(_ column: String, _ count: Int64) async throws -> Int64? {
                    guard count > 0 else { return nil }
                    return try await tx.row("""
                        SELECT \(column) AS v FROM crossing_facts WHERE sender_org = $1 AND receiver_org = $2 AND workflow = $3
                            AND created_at >= $4 AND created_at < $5 AND \(column) IS NOT NULL ORDER BY \(column) LIMIT 1 OFFSET $6
                        """, [tally.from, tally.to, tally.workflowID, since, until, (count - 1) / 2]).map { try $0("v", as: Int64.self) }
                }
                tally.medianSecondsToAcceptance = try await median("secs_to_accept", try row("accepted_n"))
                tally.medianSecondsToOutcome = try await median("secs_to_outcome", try row("outcome_n"))
                tallies.append(tally)
            }
            return tallies
        }
    }

    public func boundaryCrossings(from: String, to: String, workflowID: String, failing flow: Flow?, since: Timestamp, until: Timestamp,
                                  now: Timestamp, limit: Int) async throws -> [MessageID] {
        try await read { tx in
            let condition = flow.map { " AND " + ScorecardSQL.failing($0) } ?? ""
            return try await tx.rows(Self.sql("""
                SELECT message_id FROM crossing_facts WHERE sender_org = $4 AND receiver_org = $5 AND workflow = $6
                    AND created_at >= {since} AND created_at < {until}\(condition) ORDER BY created_at DESC LIMIT $7
                """), [now, since, until, from, to, workflowID, limit]).map { MessageID(try $0("message_id", as: String.self)) }
        }
    }
}
