import GRDB
import HandoverCore
import HandoverStore

extension ScorecardRow {
    /// Writes or refreshes this crossing's facts row (in the transaction that changed the message).
    func upsert(_ db: Database) throws {
        func flag(_ b: Bool) -> Int64 { b ? 1 : 0 }
        let placeholders = Array(repeating: "?", count: 16).joined(separator: ", ")
        try db.run(sql: "INSERT INTO crossing_facts (\(ScorecardSQL.columns)) VALUES (\(placeholders)) \(ScorecardSQL.updatedOnConflict)", arguments: [
            messageID.rawValue, senderOrganisation, receiverOrganisation, workflowID, createdAt.microsecondsSinceEpoch, identity, flag(consent),
            flag(provenance), flag(clinicalIntent), flag(forInformation), flag(serviceRouting), flag(outcome), acceptBy?.microsecondsSinceEpoch,
            acceptedAt?.microsecondsSinceEpoch, secondsToAcceptance, secondsToOutcome,
        ])
    }
}

extension SQLiteMessageStore: ScorecardStore {
    static func sql(_ text: String) -> String {
        text.replacingOccurrences(of: "{now}", with: ":now").replacingOccurrences(of: "{since}", with: ":since").replacingOccurrences(of: "{until}", with: ":until")
    }

    public func boundaryTallies(since: Timestamp, until: Timestamp, now: Timestamp) async throws -> [BoundaryTally] {
        try await read { db in
            let window: StatementArguments = ["now": now.microsecondsSinceEpoch, "since": since.microsecondsSinceEpoch, "until": until.microsecondsSinceEpoch]
            return try Row.fetchAll(db, sql: Self.sql(ScorecardSQL.tallies), arguments: window).map { row in
                var tally = BoundaryTally(from: row["sender_org"], to: row["receiver_org"], workflowID: row["workflow"], n: row["n"],
                                          identity: row["identity"], consent: row["consent"], provenance: row["provenance"], intent: row["intent"],
                                          responsibilityCounted: row["ar_n"], responsibilityHeld: row["ar_ok"], routing: row["routing"],
                                          outcomeCounted: row["out_n"], outcomeRecorded: row["out_ok"])
                func median(_ column: String, _ count: Int) throws -> Int64? {
                    guard count > 0 else { return nil }
                    return try Int64.fetchOne(db, sql: """
                        SELECT \(column) FROM crossing_facts WHERE sender_org = ? AND receiver_org = ? AND workflow = ?
                            AND created_at >= ? AND created_at < ? AND \(column) IS NOT NULL ORDER BY \(column) LIMIT 1 OFFSET ?
                        """, arguments: [tally.from, tally.to, tally.workflowID, since.microsecondsSinceEpoch, until.microsecondsSinceEpoch, (count - 1) / 2])
                }
                tally.medianSecondsToAcceptance = try median("secs_to_accept", row["accepted_n"])
                tally.medianSecondsToOutcome = try median("secs_to_outcome", row["outcome_n"])
                return tally
            }
        }
    }

    public func boundaryCrossings(from: String, to: String, workflowID: String, failing flow: Flow?, since: Timestamp, until: Timestamp,
                                  now: Timestamp, limit: Int) async throws -> [MessageID] {
        try await read { db in
            let condition = flow.map { " AND " + ScorecardSQL.failing($0) } ?? ""
            return try String.fetchAll(db, sql: Self.sql("""
                SELECT message_id FROM crossing_facts WHERE sender_org = :from AND receiver_org = :to AND workflow = :workflow
                    AND created_at >= {since} AND created_at < {until}\(condition) ORDER BY created_at DESC LIMIT :limit
                """), arguments: ["from": from, "to": to, "workflow": workflowID, "now": now.microsecondsSinceEpoch,
                                  "since": since.microsecondsSinceEpoch, "until": until.microsecondsSinceEpoch, "limit": limit]).map(MessageID.init)
        }
    }
}
