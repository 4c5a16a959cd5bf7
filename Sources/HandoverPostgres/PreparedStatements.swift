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
struct DeliveryStatement<Variant: DeliveryVariant>: PostgresPreparedStatement {
    typealias Row = Int64
    /// Short and distinct: PostgreSQL cuts names at 63 bytes, which would make the two variants'
    /// default names (their Swift type names) one. The suffix changes with the text, so a pooled
    /// server connection never runs an older broker's statement under the same name.
    static var name: String { Variant.name }
    static var sql: String { Variant.sql }
    let arguments: [any SQLArgumentConvertible]

    func makeBindings() throws -> PostgresBindings { PostgresBindings(arguments) }
    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}

protocol DeliveryVariant: Sendable {
    static var name: String { get }
    static var sql: String { get }
}

enum DeliveryWithFacts: DeliveryVariant {
    static let name = "handover_delivery_with_facts_v2"
    static let sql = DeliverySQL.text(facts: true)
}

enum DeliveryWithoutFacts: DeliveryVariant {
    static let name = "handover_delivery_v2"
    static let sql = DeliverySQL.text(facts: false)
}

/// The delivery statement's text and its arguments, in one order: the recipient, the message's
/// columns (its inbox position taken from the counter instead), id, upload and time, the facts, then
/// the chunk (its body in its own row) and the audit subject.
enum DeliverySQL {
    static let messageColumnCount = MessageRecord.columns.split(separator: ",").count + 1
    static let factColumnCount = ScorecardSQL.columns.split(separator: ",").count

    static func text(facts: Bool) -> String {
        var count = 0
        func next() -> String {
            count += 1
            return "$\(count)"
        }
        let recipient = next()
        let values = (0..<messageColumnCount).map { $0 == MessageRecord.inboxSequenceColumn ? "(SELECT seq FROM c)" : next() }
        let (id, upload, at) = (next(), next(), next())
        let factPlaceholders = facts ? (0..<factColumnCount).map { _ in next() }.joined(separator: ", ") : ""
        let factsPart = facts ? ",\n     f AS (INSERT INTO crossing_facts (\(ScorecardSQL.columns)) VALUES (\(factPlaceholders)))" : ""
        let (inline, size, segments, sha256, subject) = (next(), next(), next(), next(), next())
        return """
            WITH c AS (INSERT INTO inbox_counts (mailbox, accepted) VALUES (\(recipient), 1)
                       ON CONFLICT (mailbox) DO UPDATE SET accepted = inbox_counts.accepted + 1 RETURNING nextval('inbox_sequence') AS seq),
                 m AS (INSERT INTO messages (\(MessageRecord.columns), deadlines_planned)
                     VALUES (\(values.joined(separator: ", "))) RETURNING inbox_seq),
                 ch AS (INSERT INTO chunks (message_id, chunk_no, upload_id, size, segment_count, sha256, data)
                        VALUES (\(id), 1, \(upload), \(size), \(segments), \(sha256), \(inline))),
                 e AS (INSERT INTO message_events (message_id, at, kind, detail) VALUES (\(id), \(at), 'delivered', '{}')),
                 a AS (INSERT INTO audit_pending (at, actor, action, subject, detail)
                     VALUES (\(at), 'broker', 'message.delivered', \(subject), '{}'))\(factsPart)
            SELECT inbox_seq FROM m
            """
    }

    static func arguments(
        _ record: MessageRecord, facts: ScorecardRow?, chunk: StagedChunk, inline: ByteBuffer, now: Timestamp
    ) -> [any SQLArgumentConvertible] {
        let row = record.rowArguments + [record.escalationPolicy == nil]
        var out: [any SQLArgumentConvertible] = [record.recipient.rawValue]
        out += row.enumerated().filter { $0.offset != MessageRecord.inboxSequenceColumn }.map(\.element)
        out += [record.id.rawValue, chunk.uploadID, now] as [any SQLArgumentConvertible]
        out += facts?.arguments ?? []
        out += [inline, chunk.size, chunk.segmentCount, chunk.sha256, "message \(record.id.rawValue)"] as [any SQLArgumentConvertible]
        return out
    }
}

extension SQLTransaction {
    /// Runs the delivery statement (prepared on this connection at its first use) and returns the
    /// message's inbox position.
    func deliver(_ record: MessageRecord, chunk: StagedChunk, inline: ByteBuffer, now: Timestamp) async throws -> Int64 {
        let facts = ScorecardRow(message: record)
        let arguments = DeliverySQL.arguments(record, facts: facts, chunk: chunk, inline: inline, now: now)
        let rows =
            facts == nil
            ? try await connection.execute(DeliveryStatement<DeliveryWithoutFacts>(arguments: arguments), logger: logger)
            : try await connection.execute(DeliveryStatement<DeliveryWithFacts>(arguments: arguments), logger: logger)
        var sequence: Int64?
        for try await value in rows where sequence == nil { sequence = value }
        guard let sequence else { throw UnexpectedRow(detail: "the delivery returned no inbox position") }
        return sequence
    }
}

/// Every MESH request spends its token here first: prepared once per connection for the same reason.
struct SpendTokenStatement: PostgresPreparedStatement {
    typealias Row = Int64
    static let name = "handover_spend_token"
    static let sql = "INSERT INTO replay_tokens (digest, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1"
    let digest: String
    let expiresAt: Timestamp

    func makeBindings() throws -> PostgresBindings { PostgresBindings([digest, expiresAt]) }
    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}
