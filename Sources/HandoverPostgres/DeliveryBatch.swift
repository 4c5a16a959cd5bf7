import HandoverCore
import HandoverStore
import PostgresNIO

/// Several plain deliveries as one statement whose text does not depend on how many there are: each
/// field of `DeliverySQL.arguments`' block is one array parameter, read back into rows by `unnest`.
/// The statement is so prepared once per connection, like the single delivery's. (A text with a
/// placeholder per value changed with every batch size, and PostgreSQL parsed, analysed and planned
/// each one: about a third of its writer's CPU, by profile.)
enum DeliveryBatch {
    /// The block's fields in `DeliverySQL.arguments` order, each with the name `unnest` gives its
    /// column and the type of its array. Message columns keep their names; the scorecard's facts are
    /// `f_` and the rest `x_`, since several names (message_id, subject, created_at) recur.
    static let layout: [(name: String, element: NullableArray.Element)] = {
        let messageColumns = MessageRecord.storedColumnNames
        let factColumns = ScorecardSQL.columns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        var layout: [(String, NullableArray.Element)] = [("x_recipient", .text)]
        layout += messageColumns.filter { $0 != "inbox_seq" }.map { ($0, messageColumnTypes[$0] ?? .text) }
        layout += [("deadlines_planned", .bool), ("x_id", .text), ("x_upload", .text), ("x_at", .int8)]
        layout += factColumns.map { ("f_" + $0, factColumnTypes[$0] ?? .int8) }
        layout += [("x_inline", .bytea), ("x_size", .int8), ("x_segments", .int8), ("x_sha256", .text), ("x_subject", .text)]
        return layout + tokenFields
    }()

    /// After the block: the token the statement spends, if any (see `sql`).
    static let tokenFields: [(name: String, element: NullableArray.Element)] = [("x_token", .text), ("x_token_expires", .int8)]

    /// The message columns that are not text (see the schema; a test compares the two).
    static let messageColumnTypes: [String: NullableArray.Element] = {
        var types: [String: NullableArray.Element] = [:]
        for name in ["content_compressed", "content_encrypted", "status_success", "responsibility_required"] { types[name] = .bool }
        for name in [
            "total_chunks", "received_chunks", "file_size", "status_at", "created_at", "delivered_at", "acknowledged_at", "expires_at",
            "expiry_seconds", "route_version", "downloaded_at", "crossing_closed_at",
        ] { types[name] = .int8 }
        return types
    }()

    /// The facts columns that are not whole numbers (the flags are sent as int8 into INTEGER columns).
    static let factColumnTypes: [String: NullableArray.Element] = [
        "message_id": .text, "sender_org": .text, "receiver_org": .text, "workflow": .text, "identity": .float8,
    ]

    /// Every recipient's count row is locked first, in mailbox order (so two batches never wait on
    /// each other in a cycle), before any position is taken; each message's position is a scalar
    /// subquery over `c`, which PostgreSQL runs to its end before the first of them yields. Positions
    /// are so taken under the count row's lock, as in `DeliverySQL.single` and
    /// `PostgresStore.enterInbox`, and a mailbox's positions follow its commits.
    ///
    /// A delivery with a token (`x_token`) is written only if this statement spends it (`t`: a digest
    /// spent before, here or by another instance, inserts nothing); of deliveries with one token, the
    /// first. Tokens are inserted in digest order, as `SpendTokensStatement` does, so two statements
    /// spending the same tokens wait on each other in one order, never in a cycle.
    static let sql: String = {
        let casts = layout.enumerated().map { index, field in "$\(index + 1)::\(field.element.rawValue)[]" }
        let messageValues = MessageRecord.storedColumnNames.map {
            $0 == "inbox_seq" ? "(SELECT nextval('inbox_sequence') FROM c WHERE mailbox = d.x_recipient)" : $0
        }
        let facts = ScorecardSQL.columns.split(separator: ",").map { "f_" + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        return """
            WITH r AS MATERIALIZED (SELECT * FROM unnest(\(casts.joined(separator: ", "))) WITH ORDINALITY
                       AS r (\(layout.map(\.name).joined(separator: ", ")), x_n)),
                 t AS (INSERT INTO replay_tokens (digest, expires_at) SELECT x_token, x_token_expires FROM r
                       WHERE x_token IS NOT NULL ORDER BY x_token ON CONFLICT DO NOTHING RETURNING digest),
                 d AS MATERIALIZED (SELECT * FROM r WHERE x_token IS NULL
                       UNION ALL (SELECT DISTINCT ON (x_token) r.* FROM r JOIN t ON t.digest = r.x_token ORDER BY x_token, x_n)),
                 c AS (INSERT INTO inbox_counts (mailbox, accepted) SELECT x_recipient, count(*) FROM d GROUP BY x_recipient ORDER BY x_recipient
                       ON CONFLICT (mailbox) DO UPDATE SET accepted = inbox_counts.accepted + excluded.accepted RETURNING mailbox),
                 m AS (INSERT INTO messages (\(MessageRecord.columns), deadlines_planned)
                       SELECT \(messageValues.joined(separator: ", ")), deadlines_planned FROM d RETURNING message_id, inbox_seq),
                 ch AS (INSERT INTO chunks (message_id, chunk_no, upload_id, size, segment_count, sha256, data)
                       SELECT x_id, 1, x_upload, x_size, x_segments, x_sha256, x_inline FROM d),
                 e AS (INSERT INTO message_events (message_id, at, kind, detail) SELECT x_id, x_at, 'delivered', '{}' FROM d),
                 a AS (INSERT INTO audit_pending (at, actor, action, subject, detail)
                       SELECT x_at, 'broker', 'message.delivered', x_subject, '{}' FROM d),
                 f AS (INSERT INTO crossing_facts (\(ScorecardSQL.columns))
                       SELECT \(facts.joined(separator: ", ")) FROM d WHERE f_message_id IS NOT NULL)
            SELECT message_id, inbox_seq FROM m
            """
    }()

    /// The deliveries' blocks turned into columns; a delivery without facts has NULL in theirs.
    static func columns(_ deliveries: [PlainDelivery]) throws -> [NullableArray] {
        var columns = BatchColumns(count: layout.count, rows: deliveries.count)
        for delivery in deliveries {
            let facts = ScorecardRow(message: delivery.record)
            DeliverySQL.arguments(delivery.record, facts: facts, chunk: delivery.chunk, inline: delivery.inline, now: delivery.now, into: &columns)
            columns.add(delivery.token?.digest)
            columns.add(delivery.token?.expiresAt.microsecondsSinceEpoch)
            try columns.endRow()
        }
        return zip(layout, columns.values).map { NullableArray(column: $0.0.name, element: $0.0.element, values: $0.1) }
    }
}

/// A batch's values by column, filled one row at a time. (Each value was first boxed in a list of
/// `any SQLArgumentConvertible` and then copied to its column: about 2 % of the broker's CPU in a
/// profile of saturated sends on PostgreSQL, now about 0.3 %.)
struct BatchColumns: ArgumentSink {
    /// A row with more or fewer values than the layout has columns: a bug, reported rather than sent.
    struct RowLengthMismatch: Error, CustomStringConvertible {
        let values, columns: Int
        var description: String { "a batch row has \(values) values for \(columns) columns" }
    }

    private(set) var values: [[SQLArgument]]
    private var next = 0

    init(count: Int, rows: Int) {
        values = Array(repeating: [], count: count)
        for index in values.indices { values[index].reserveCapacity(rows) }
    }

    mutating func put(_ value: some SQLArgumentConvertible) { append(value.sqlArgument) }

    mutating func absent(count: Int) { for _ in 0..<count { append(.null) } }

    /// Ends a row; throws if it did not fill every column once.
    mutating func endRow() throws {
        defer { next = 0 }
        guard next == values.count else { throw RowLengthMismatch(values: next, columns: values.count) }
    }

    private mutating func append(_ value: SQLArgument) {
        if next < values.count { values[next].append(value) }
        next += 1
    }
}

/// `DeliveryBatch.sql`, prepared once per connection; its rows are each message's id and inbox position.
struct DeliveryBatchStatement: PostgresPreparedStatement {
    typealias Row = (String, Int64)
    static let name = preparedStatementName(for: sql)
    static let sql = DeliveryBatch.sql
    let deliveries: [PlainDelivery]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: DeliveryBatch.layout.count)
        for column in try DeliveryBatch.columns(deliveries) { try bindings.append(column) }
        return bindings
    }
    func decodeRow(_ row: PostgresRow) throws -> (String, Int64) { try row.decode((String, Int64).self) }
}
