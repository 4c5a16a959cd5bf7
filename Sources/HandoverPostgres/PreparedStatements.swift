import HandoverCore
import HandoverStore
import PostgresNIO

/// The usual send — one chunk that fits in one segment, delivered at once — as one statement (its own
/// transaction, one round trip instead of six), prepared once per connection. It writes what the
/// general path writes: the inbox count and position (count row locked first, as `enterInbox`), the
/// message, its segment and chunk, the `delivered` event, its queued audit entry and the scorecard facts.
/// Profiled on PostgreSQL under saturated sends, parsing, analysing and planning this seven-part
/// statement were about 30 % of the database's CPU per send; prepared, they are paid once per
/// connection. Two variants: with and without the crossing's scorecard facts.
enum DeliveryWithFacts: PreparedText { static let sql = DeliverySQL.single(facts: true) }
enum DeliveryWithoutFacts: PreparedText { static let sql = DeliverySQL.single(facts: false) }

extension SQLTransaction {
    /// Runs the delivery statement (prepared on this connection at its first use) and returns the
    /// message's inbox position.
    func deliver(_ delivery: PlainDelivery) async throws -> Int64 {
        let (record, chunk, inline, now) = (delivery.record, delivery.chunk, delivery.inline, delivery.now)
        let facts = ScorecardRow(message: record)
        var list = ArgumentList(capacity: DeliverySQL.mostArgumentsPerDelivery)
        DeliverySQL.arguments(record, facts: facts, chunk: chunk, inline: inline, now: now, into: &list)
        let arguments = list.values
        let answer = facts == nil ? try await row(DeliveryWithoutFacts.self, arguments) : try await row(DeliveryWithFacts.self, arguments)
        guard let answer else { throw UnexpectedRow(detail: "the delivery returned no inbox position") }
        return try answer("inbox_seq")
    }
}

/// A MESH request spends its token here first, with the others waiting then (`TokenSpend`), unless its
/// delivery's statement spends it (`DeliveryBatch`): prepared once per connection for the same reason.
struct SpendTokensStatement: PostgresPreparedStatement {
    typealias Row = String
    static let name = preparedStatementName(for: sql)
    static let sql = """
        INSERT INTO replay_tokens (digest, expires_at) SELECT * FROM unnest($1::TEXT[], $2::BIGINT[]) AS s (digest, expires_at)
        ORDER BY digest ON CONFLICT DO NOTHING RETURNING digest
        """
    let spends: [TokenSpend]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(spends.map(\.digest))
        bindings.append(spends.map(\.expiresAt.microsecondsSinceEpoch))
        return bindings
    }
    func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
}
