import HandoverCore
import HandoverStore

/// An acknowledgement that does only `MessageLifecycle.acknowledgementEffects` (no escalation policy,
/// so no alert to resolve) and leaves its scorecard facts as they were: every mutable column written,
/// the inbox count, the event and its audit entry, in one statement with no transaction around it.
/// It takes effect only while the message is as it was read: still accepted, by the same recipient,
/// every mutable column unchanged (PostgreSQL re-reads the row under its lock before it updates it).
/// No row when something changed it since: the general path then decides. Arguments: the new
/// values, the id, the recipient, the values as read, the time, then the event's (`eventArguments`).
enum AcknowledgeSQL: PreparedText {
    static let sql: String = {
        let n = UpdateMessageSQL.columns.count
        let asRead = (0..<n).map { "$\(n + 3 + $0)" }.joined(separator: ", ")
        let (at, event) = (2 * n + 3, 2 * n + 4)
        return """
            WITH u AS (UPDATE messages SET \(UpdateMessageSQL.assignments)
                       WHERE message_id = $\(n + 1) AND recipient = $\(n + 2) AND status = 'accepted' AND escalation_policy IS NULL
                           AND (\(UpdateMessageSQL.columns.joined(separator: ", "))) IS NOT DISTINCT FROM (\(asRead))
                       RETURNING recipient),
                 i AS (UPDATE inbox_counts SET accepted = greatest(accepted - 1, 0) WHERE mailbox = (SELECT recipient FROM u)),
                 e AS (INSERT INTO message_events (message_id, at, kind, detail) SELECT $\(n + 1), $\(at), $\(event), $\(event + 1) FROM u),
                 a AS (INSERT INTO audit_pending (at, actor, action, subject, detail)
                       SELECT $\(at), $\(event + 2), $\(event + 3), $\(event + 4), $\(event + 1) FROM u)
            SELECT recipient FROM u
            """
    }()
}

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

    /// An event's kind, detail and audit entry's actor, action and subject.
    static func eventArguments(_ id: MessageID, _ event: (kind: String, detail: String)) -> [any SQLArgumentConvertible] {
        let audit = eventAudit(id, event.kind, event.detail)  // its detail is the event's
        return [event.kind, event.detail, audit.actor, audit.action, audit.subject]
    }

    /// What `acknowledgeQuickly` did: answered (the message, acknowledged or as it already was; nil
    /// for none), or left the acknowledgement to the general path (see `AcknowledgeSQL`).
    enum QuickAcknowledgement {
        case done(MessageRecord?)
        case general
    }

    /// Two round trips, an unlocked read and `AcknowledgeSQL`, where the locked transaction takes seven.
    static func acknowledgeQuickly(
        _ id: MessageID, recipient: MailboxID?, now: Timestamp, _ tx: SQLTransaction
    ) async throws
        -> QuickAcknowledgement
    {
        guard let current = try await fetchMessage(id, lock: false, tx) else { return .done(nil) }
        if let recipient, current.recipient != recipient { throw MeshError.forbidden }
        // Statuses only move on from accepted, so one that was not accepted still is not.
        guard let transition = MessageLifecycle.acknowledged(current, now: now) else { return .done(current) }
        let after = transition.message
        guard current.escalationPolicy == nil, transition.effects == MessageLifecycle.acknowledgementEffects,
            ScorecardRow(message: current) == ScorecardRow(message: after), let event = soleEvent(transition.effects)
        else { return .general }
        let arguments: [any SQLArgumentConvertible] =
            after.updateArguments + [current.recipient.rawValue] + current.mutableValues + [now] + eventArguments(id, event)
        return try await tx.row(AcknowledgeSQL.self, arguments) == nil ? .general : .done(after)
    }
}
