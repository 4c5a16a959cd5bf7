import HandoverCore
import HandoverStore
import NIOCore

/// The plain delivery's statement text and its arguments: one delivery (`single`, prepared once per
/// connection; several at once are `DeliveryBatch`'s statement). Each delivery's arguments are one
/// block in one order: the recipient, the message's columns (its inbox position taken from the
/// counter instead), id, upload and time, the facts, then the chunk (its body in its own row) and the
/// audit subject.
enum DeliverySQL {
    static let messageColumnCount = MessageRecord.storedColumnNames.count + 1
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
            \(companions(p))
            SELECT inbox_seq FROM m
            """
    }

    /// The rows written with the message: its chunk, its `delivered` event, its queued audit entry
    /// and, where there are any, its scorecard facts.
    private static func companions(_ p: DeliveryPlaceholders) -> String {
        var parts = [
            "ch AS (INSERT INTO chunks (message_id, chunk_no, upload_id, size, segment_count, sha256, data) VALUES \(p.chunkTuple))",
            "e AS (INSERT INTO message_events (message_id, at, kind, detail) VALUES \(p.eventTuple))",
            "a AS (INSERT INTO audit_pending (at, actor, action, subject, detail) VALUES \(p.auditTuple))",
        ]
        if let facts = p.factsTuple { parts.append("f AS (INSERT INTO crossing_facts (\(ScorecardSQL.columns)) VALUES \(facts))") }
        return "     " + parts.joined(separator: ",\n     ")
    }

    /// One delivery's argument block (see the type's comment for its order).
    static func arguments(
        _ record: MessageRecord, facts: ScorecardRow?, chunk: StagedChunk, inline: ByteBuffer, now: Timestamp,
        into out: inout some ArgumentSink
    ) {
        out.add(record.recipient.rawValue)
        record.addStoredValues(to: &out, inboxSequence: false)
        out.add(record.escalationPolicy == nil)
        out.add(record.id.rawValue)
        out.add(chunk.uploadID)
        out.add(now)
        if let facts { facts.addStoredValues(to: &out) } else { out.absent(count: factColumnCount) }
        out.put(inline)
        out.add(chunk.size)
        out.add(chunk.segmentCount)
        out.add(chunk.sha256)
        out.add("message \(record.id.rawValue)")
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
