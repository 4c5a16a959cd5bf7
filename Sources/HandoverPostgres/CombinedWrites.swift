import HandoverCore
import HandoverStore

/// Data-modifying statements run as one: each a part of `WITH w0 AS (…), w1 AS (…) SELECT 1`, its
/// placeholders numbered on after the previous part's, so the arguments are each part's in turn. One
/// round trip instead of one a part. Only for parts that change different rows and read nothing
/// another part writes: PostgreSQL applies one change per row in a statement, and every part sees
/// the database as it was before the statement began.
func combinedWrites(_ parts: [String]) -> String {
    var offset = 0
    var named: [String] = []
    for (index, part) in parts.enumerated() {
        let (text, count) = renumbered(part, after: offset)
        named.append("w\(index) AS (\(text))")
        offset += count
    }
    return "WITH " + named.joined(separator: ", ") + " SELECT 1"
}

/// `sql` with each placeholder `$n` written `$(n + offset)`, and the highest `n` (its parameters).
func renumbered(_ sql: String, after offset: Int) -> (text: String, parameters: Int) {
    var out = ""
    var highest = 0
    var index = sql.startIndex
    while index < sql.endIndex {
        let character = sql[index]
        index = sql.index(after: index)
        guard character == "$" else {
            out.append(character)
            continue
        }
        let digits = sql[index...].prefix { $0.isASCII && $0.isNumber }
        guard let number = Int(digits) else {
            out.append(character)
            continue
        }
        highest = max(highest, number)
        out += "$\(number + offset)"
        index = digits.endIndex
    }
    return (out, highest)
}

/// A message event's row and its audit entry, as parts for `combinedWrites`.
enum InsertEventSQL { static let sql = "INSERT INTO message_events (message_id, at, kind, detail) VALUES ($1, $2, $3, $4)" }
enum QueueAuditSQL { static let sql = "INSERT INTO audit_pending (at, actor, action, subject, detail) VALUES ($1, $2, $3, $4, $5)" }

/// An acknowledgement that does only `MessageLifecycle.acknowledgementEffects` (no escalation
/// policy, so no alert to resolve): the message's row, its inbox count, its event and audit entry
/// and, for a crossing, its scorecard facts, in one statement instead of five.
enum AcknowledgementSQL: PreparedText {
    static let parts = [UpdateMessageSQL.sql, LeaveInboxSQL.sql, InsertEventSQL.sql, QueueAuditSQL.sql]
    static let sql = combinedWrites(parts)
}
enum AcknowledgementWithFactsSQL: PreparedText { static let sql = combinedWrites(AcknowledgementSQL.parts + [UpsertFactsSQL.sql]) }

/// A first download of a message with no escalation policy (`MessageLifecycle.downloadEffects`, no
/// alert to resolve): the mark, its event and audit entry, in one statement and its own implicit
/// transaction. No row when the message was already marked or has a policy.
enum MarkPlainDownloadSQL: PreparedText {
    static let sql = """
        WITH u AS (UPDATE messages SET downloaded_at = $1 WHERE message_id = $2 AND downloaded_at IS NULL AND escalation_policy IS NULL
                   RETURNING message_id),
             e AS (INSERT INTO message_events (message_id, at, kind, detail) SELECT message_id, $1, $3, $4 FROM u),
             a AS (INSERT INTO audit_pending (at, actor, action, subject, detail) SELECT $1, $5, $6, $7, $4 FROM u)
        SELECT message_id FROM u
        """
}

extension PostgresStore {
    /// The one event among `effects` (the one-statement paths write it themselves).
    static func soleEvent(_ effects: [MessageEffect]) -> (kind: String, detail: String)? {
        let events: [(String, String)] = effects.compactMap {
            guard case .event(let kind, let detail) = $0 else { return nil }
            return (kind, detail)
        }
        return events.count == 1 ? events[0] : nil
    }

    /// The event's arguments for `InsertEventSQL` and `QueueAuditSQL`, in that order.
    static func eventArguments(_ id: MessageID, _ event: (kind: String, detail: String), _ now: Timestamp) -> [any SQLArgumentConvertible] {
        let audit = eventAudit(id, event.kind, event.detail)
        return [id.rawValue, now, event.kind, event.detail, now, audit.actor, audit.action, audit.subject, audit.detail]
    }

    /// `apply` of an acknowledgement, in one statement when it does only what
    /// `MessageLifecycle.acknowledgementEffects` says; false when it does more (it is then left to `apply`).
    static func writeAcknowledgement(
        _ transition: MessageTransition, was current: MessageRecord, now: Timestamp, _ tx: SQLTransaction
    )
        async throws -> Bool
    {
        guard current.escalationPolicy == nil, transition.effects == MessageLifecycle.acknowledgementEffects,
            let event = soleEvent(transition.effects)
        else { return false }
        let message = transition.message
        let arguments = message.updateArguments + [message.recipient.rawValue] + eventArguments(message.id, event, now)
        if let facts = ScorecardRow(message: message) {
            try await tx.execute(AcknowledgementWithFactsSQL.self, arguments + facts.arguments)
        } else {
            try await tx.execute(AcknowledgementSQL.self, arguments)
        }
        return true
    }
}
