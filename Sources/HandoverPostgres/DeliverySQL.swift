import HandoverCore
import HandoverStore
import NIOCore
import Synchronization

/// The plain delivery's statement text and its arguments: one delivery (`single`, prepared once per
/// connection) or several in one statement (`batch`, see `PostgresStore.writeDeliveries`). Each delivery's
/// arguments are one block in one order: the recipient, the message's columns (its inbox position
/// taken from the counter instead), id, upload and time, the facts, then the chunk (its body in its
/// own row) and the audit subject.
enum DeliverySQL {
    static let messageColumnCount = MessageRecord.columns.split(separator: ",").count + 1
    static let factColumnCount = ScorecardSQL.columns.split(separator: ",").count
    /// One delivery's arguments with facts (see `arguments`): recipient, message less its position,
    /// id, upload, time, facts, the chunk's four and the audit subject.
    static let mostArgumentsPerDelivery = 1 + (messageColumnCount - 1) + 3 + factColumnCount + 5

    /// One delivery: the count row is locked and the position taken from the sequence in one step.
    static func single(facts: Bool) -> String {
        let p = DeliveryPlaceholders(from: 1, facts: facts)
        return """
            WITH c AS (INSERT INTO inbox_counts (mailbox, accepted) VALUES (\(p.recipient), 1)
                       ON CONFLICT (mailbox) DO UPDATE SET accepted = inbox_counts.accepted + 1 RETURNING nextval('inbox_sequence') AS seq),
                 m AS (INSERT INTO messages (\(MessageRecord.columns), deadlines_planned)
                     VALUES \(p.messageTuple(inboxSequence: "(SELECT seq FROM c)")) RETURNING inbox_seq),
            \(companions([p]))
            SELECT inbox_seq FROM m
            """
    }

    /// Several deliveries, `withFacts[i]` telling whether the i-th carries scorecard facts. Every
    /// recipient's count row is locked first, in mailbox order (so two batches never wait on each
    /// other in a cycle), before any position is taken: each message's position is a scalar subquery
    /// over `c`, which PostgreSQL runs to its end before the first of them yields. Positions are so
    /// taken under the count row's lock, as in `single` and `enterInbox`, and a mailbox's positions
    /// follow its commits.
    static func batch(withFacts: [Bool]) -> String {
        // Batches whose deliveries all carry facts, or none, are the usual ones: their texts (at most
        // 128, about 4 MiB) are kept, since building one showed as 3 % of the broker's CPU.
        let uniform = withFacts.allSatisfy { $0 == withFacts.first }
        let key = withFacts.count * 2 + (withFacts.first == true ? 1 : 0)
        if uniform, let text = uniformBatches.withLock({ $0[key] }) { return text }
        let text = batchText(withFacts: withFacts)
        if uniform { uniformBatches.withLock { $0[key] = text } }
        return text
    }

    private static let uniformBatches = Mutex<[Int: String]>([:])

    private static func batchText(withFacts: [Bool]) -> String {
        var next = 1
        let deliveries = withFacts.map { facts in
            let p = DeliveryPlaceholders(from: next, facts: facts)
            next = p.next
            return p
        }
        let recipients = deliveries.map { "(\($0.recipient))" }.joined(separator: ", ")
        let messages = deliveries.map {
            $0.messageTuple(inboxSequence: "(SELECT nextval('inbox_sequence') FROM c WHERE mailbox = \($0.recipient))")
        }
        return """
            WITH c AS (INSERT INTO inbox_counts (mailbox, accepted)
                       SELECT r, count(*) FROM (VALUES \(recipients)) AS v (r) GROUP BY r ORDER BY r
                       ON CONFLICT (mailbox) DO UPDATE SET accepted = inbox_counts.accepted + excluded.accepted RETURNING mailbox),
                 m AS (INSERT INTO messages (\(MessageRecord.columns), deadlines_planned)
                     VALUES \(messages.joined(separator: ",\n")) RETURNING message_id, inbox_seq),
            \(companions(deliveries))
            SELECT message_id, inbox_seq FROM m
            """
    }

    /// The rows written with the message: its chunk, its `delivered` event, its queued audit entry
    /// and, where there are any, its scorecard facts.
    private static func companions(_ deliveries: [DeliveryPlaceholders]) -> String {
        func rows(_ tuple: (DeliveryPlaceholders) -> String?) -> String { deliveries.compactMap(tuple).joined(separator: ", ") }
        var parts = [
            "ch AS (INSERT INTO chunks (message_id, chunk_no, upload_id, size, segment_count, sha256, data) VALUES \(rows(\.chunkTuple)))",
            "e AS (INSERT INTO message_events (message_id, at, kind, detail) VALUES \(rows(\.eventTuple)))",
            "a AS (INSERT INTO audit_pending (at, actor, action, subject, detail) VALUES \(rows(\.auditTuple)))",
        ]
        let facts = rows(\.factsTuple)
        if !facts.isEmpty { parts.append("f AS (INSERT INTO crossing_facts (\(ScorecardSQL.columns)) VALUES \(facts))") }
        return "     " + parts.joined(separator: ",\n     ")
    }

    /// One delivery's argument block (see the type's comment for its order).
    static func arguments(
        _ record: MessageRecord, facts: ScorecardRow?, chunk: StagedChunk, inline: ByteBuffer, now: Timestamp,
        into out: inout [any SQLArgumentConvertible]
    ) {
        out.append(record.recipient.rawValue)
        for (index, value) in record.rowArguments.enumerated() where index != MessageRecord.inboxSequenceColumn { out.append(value) }
        out.append(record.escalationPolicy == nil)
        out += [record.id.rawValue, chunk.uploadID, now] as [any SQLArgumentConvertible]
        if let facts { out += facts.arguments }
        out += [inline, chunk.size, chunk.segmentCount, chunk.sha256, "message \(record.id.rawValue)"] as [any SQLArgumentConvertible]
    }
}

/// One delivery's placeholders, numbered on from `first` in the order of `DeliverySQL.arguments`.
struct DeliveryPlaceholders {
    let recipient: String
    /// The message row's values, without its inbox position, which each statement computes.
    let messageValues: [String]
    let id, upload, at: String
    let facts: [String]?
    let inline, size, segments, sha256, subject: String
    /// The first number after this delivery's.
    let next: Int

    init(from first: Int, facts withFacts: Bool) {
        var count = first - 1
        func take() -> String {
            count += 1
            return "$\(count)"
        }
        recipient = take()
        messageValues = (1..<DeliverySQL.messageColumnCount).map { _ in take() }
        (id, upload, at) = (take(), take(), take())
        facts = withFacts ? (0..<DeliverySQL.factColumnCount).map { _ in take() } : nil
        (inline, size, segments, sha256, subject) = (take(), take(), take(), take(), take())
        next = count + 1
    }

    func messageTuple(inboxSequence: String) -> String {
        var values = messageValues
        values.insert(inboxSequence, at: MessageRecord.inboxSequenceColumn)
        return "(" + values.joined(separator: ", ") + ")"
    }

    var chunkTuple: String { "(\(id), 1, \(upload), \(size), \(segments), \(sha256), \(inline))" }
    var eventTuple: String { "(\(id), \(at), 'delivered', '{}')" }
    var auditTuple: String { "(\(at), 'broker', 'message.delivered', \(subject), '{}')" }
    var factsTuple: String? { facts.map { "(" + $0.joined(separator: ", ") + ")" } }
}
