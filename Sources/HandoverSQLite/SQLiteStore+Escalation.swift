import Foundation
import GRDB
import HandoverCore
import HandoverStore

extension SQLiteStore: EscalationStore {
    public func markDownloaded(messageID: MessageID, now: Timestamp) async throws {
        try await writer.write { db in
            // One statement marks and returns the message (none if it was already marked).
            guard
                let message = try db.cachedStatement(
                    sql: "UPDATE messages SET downloaded_at = ? WHERE message_id = ? AND downloaded_at IS NULL RETURNING \(MessageRecord.columns)"
                ).decodeFirstReturned(arguments: [now.microsecondsSinceEpoch, messageID.rawValue], MessageRecord.init(row:))
            else { return }
            try Self.apply(MessageLifecycle.downloaded(message, now: now), row: .written, now: now, db)
        }
    }

    public func transform(
        messageID: MessageID, now: Timestamp, decide: @escaping @Sendable (MessageRecord) throws -> MessageTransition
    ) async throws -> MessageRecord {
        try await writer.write { db in
            guard let message = try Self.fetchMessage(messageID, db), message.type == .data else { throw MeshError.messageDoesNotExist }
            return try Self.apply(try decide(message), row: .update, now: now, db)
        }
    }

    public func events(messageID: MessageID) async throws -> [MessageEvent] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT at, kind, detail FROM message_events WHERE message_id = ? ORDER BY id"),
                arguments: [messageID.rawValue]
            ).map {
                MessageEvent(at: Timestamp(microsecondsSinceEpoch: $0["at"]), kind: $0["kind"], detail: $0["detail"])
            }
        }
    }

    public func planDeadlines(limit: Int, plan: @escaping @Sendable (MessageRecord) -> [(stage: Int, due: Timestamp)]) async throws -> Int {
        try await writer.write { db in
            let pending = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT \(MessageRecord.columns) FROM messages WHERE deadlines_planned = 0 AND status != 'uploading' ORDER BY seq LIMIT ?
                        """), arguments: [limit]
            ).map(MessageRecord.init(row:))
            for message in pending {
                for (stage, due) in plan(message) {
                    try db.run(
                        sql: "INSERT OR IGNORE INTO deadlines (message_id, stage, due_at) VALUES (?, ?, ?)",
                        arguments: [message.id.rawValue, stage, due.microsecondsSinceEpoch])
                }
                try db.run(sql: "UPDATE messages SET deadlines_planned = 1 WHERE message_id = ?", arguments: [message.id.rawValue])
            }
            return pending.count
        }
    }

    public func fireDueDeadlines(
        now: Timestamp, limit: Int, raise: @escaping @Sendable (MessageRecord, Int, Timestamp) -> AlertPlan?
    ) async throws -> [Alert] {
        try await writer.write { db in
            let due = try Row.fetchAll(
                db, sql: "SELECT message_id, stage, due_at FROM deadlines WHERE state = 'scheduled' AND due_at <= ? ORDER BY due_at LIMIT ?",
                arguments: [now.microsecondsSinceEpoch, limit])
            var raised: [Alert] = []
            for row in due {
                let id = MessageID(row["message_id"]), stage: Int = row["stage"], dueAt = Timestamp(microsecondsSinceEpoch: row["due_at"])
                // Claim the deadline; a second scheduler on this store finds it already fired.
                try db.run(
                    sql: "UPDATE deadlines SET state = 'fired' WHERE message_id = ? AND stage = ? AND state = 'scheduled'",
                    arguments: [id.rawValue, stage])
                guard db.changesCount == 1, let message = try Self.fetchMessage(id, db) else { continue }
                guard let plan = raise(message, stage, dueAt) else {
                    try db.run(sql: "UPDATE deadlines SET state = 'skipped' WHERE message_id = ? AND stage = ?", arguments: [id.rawValue, stage])
                    continue
                }
                try Self.insertAlert(plan.alert, db)
                guard db.changesCount == 1 else { continue }
                try Self.deliver(plan, now: now, db)
                try Self.addEvent(id, "alert_raised", EventDetails.alertRaised(plan.alert, stage: stage), now, db)
                raised.append(plan.alert)
            }
            return raised
        }
    }

    public func renotifyDueAlerts(now: Timestamp, limit: Int, renotify: @escaping @Sendable (Alert, MessageRecord) -> AlertPlan?) async throws -> Int
    {
        try await writer.write { db in
            // Acknowledgements that have lapsed: open again (then due for a repeat below).
            let lapsed = try Row.fetchAll(
                db, sql: "SELECT * FROM alerts WHERE state = 'acknowledged' AND next_notify_at <= ? ORDER BY next_notify_at LIMIT ?",
                arguments: [now.microsecondsSinceEpoch, limit]
            ).map(Self.alert(row:))
            for alert in lapsed {
                try db.run(
                    sql: "UPDATE alerts SET state = 'open', acknowledged_by = NULL, acknowledged_note = NULL, acknowledged_at = NULL WHERE id = ?",
                    arguments: [alert.id])
                try Self.addEvent(
                    alert.messageID, "alert_acknowledgement_lapsed", EventDetails.acknowledgementLapsed(alert.id, by: alert.acknowledgedBy), now, db)
            }
            let due = try Row.fetchAll(
                db, sql: "SELECT * FROM alerts WHERE state = 'open' AND next_notify_at <= ? ORDER BY next_notify_at LIMIT ?",
                arguments: [now.microsecondsSinceEpoch, limit]
            ).map(Self.alert(row:))
            var count = 0
            for alert in due {
                guard let message = try Self.fetchMessage(alert.messageID, db) else { continue }
                guard let plan = renotify(alert, message) else {
                    try Self.resolveClearedAlerts(message, reason: "condition no longer holds", now: now, db)
                    // A stage that no longer exists: stop repeating.
                    try db.run(sql: "UPDATE alerts SET next_notify_at = NULL WHERE id = ? AND state = 'open'", arguments: [alert.id])
                    continue
                }
                try db.run(
                    sql: "UPDATE alerts SET notify_count = ?, last_notified_at = ?, next_notify_at = ? WHERE id = ?",
                    arguments: [plan.alert.notifyCount, now.microsecondsSinceEpoch, plan.alert.nextNotifyAt?.microsecondsSinceEpoch, alert.id])
                try Self.deliver(plan, now: now, db)
                try Self.addEvent(alert.messageID, "alert_renotified", EventDetails.alertRenotified(alert.id, count: plan.alert.notifyCount), now, db)
                count += 1
            }
            return count
        }
    }

    public func nextEscalationWork(now: Timestamp) async throws -> Timestamp? {
        try await read { db in
            if try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM messages WHERE deadlines_planned = 0 AND status != 'uploading')")) == true
            {
                return now
            }
            let deadline = try Int64.fetchOne(db.cachedStatement(sql: "SELECT min(due_at) FROM deadlines WHERE state = 'scheduled'"))
            let repeatAt = try Int64.fetchOne(db.cachedStatement(sql: "SELECT min(next_notify_at) FROM alerts WHERE state = 'open'"))
            let lapseAt = try Int64.fetchOne(db.cachedStatement(sql: "SELECT min(next_notify_at) FROM alerts WHERE state = 'acknowledged'"))
            return [deadline, repeatAt, lapseAt].compactMap { $0 }.min().map { Timestamp(microsecondsSinceEpoch: $0) }
        }
    }

    public func alerts(state: Alert.State?, limit: Int) async throws -> [Alert] {
        try await read { db in
            // "open" means unresolved, as in the metrics: acknowledged is a sub-state of open.
            if state == .open {
                return try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT * FROM alerts WHERE state IN ('open', 'acknowledged') ORDER BY raised_at DESC LIMIT ?"),
                    arguments: [limit]
                ).map(Self.alert(row:))
            }
            if let state {
                return try Row.fetchAll(
                    db.cachedStatement(sql: "SELECT * FROM alerts WHERE state = ? ORDER BY raised_at DESC LIMIT ?"),
                    arguments: [state.rawValue, limit]
                ).map(Self.alert(row:))
            }
            return try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM alerts ORDER BY raised_at DESC LIMIT ?"), arguments: [limit]).map(
                Self.alert(row:))
        }
    }

    public func unresolvedAlertCounts() async throws -> [UnresolvedAlertCount] {
        try await read { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT workflow_id, stage, COUNT(*) AS n FROM alerts WHERE state IN ('open', 'acknowledged') GROUP BY workflow_id, stage
                        """)
            ).map { UnresolvedAlertCount(workflowID: $0["workflow_id"], stage: $0["stage"], count: $0["n"]) }
        }
    }

    public func alerts(messageID: MessageID) async throws -> [Alert] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM alerts WHERE message_id = ? ORDER BY stage"), arguments: [messageID.rawValue])
                .map(Self.alert(row:))
        }
    }

    public func alert(id: String) async throws -> Alert? {
        try await read { db in try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM alerts WHERE id = ?"), arguments: [id]).map(Self.alert(row:)) }
    }

    public func acknowledgeAlert(id: String, by person: Person, note: String?, lapsesAt: Timestamp?, now: Timestamp) async throws -> Alert? {
        let who = try StoredJSON.text(person)
        return try await writer.write { db in
            try db.run(
                sql: """
                    UPDATE alerts SET state = 'acknowledged', acknowledged_by = ?, acknowledged_note = ?, acknowledged_at = ?, next_notify_at = ?
                    WHERE id = ? AND state = 'open'
                    """, arguments: [who, note, now.microsecondsSinceEpoch, lapsesAt?.microsecondsSinceEpoch, id])
            guard let alert = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM alerts WHERE id = ?"), arguments: [id]).map(Self.alert(row:))
            else { return nil }
            if db.changesCount > 0 {
                try Self.addEvent(alert.messageID, "alert_acknowledged", EventDetails.alertAcknowledged(id, by: person, note: note), now, db)
                try Self.queueNotice(AlertNotice(alertID: id, kind: .acknowledged, by: person, note: note, at: now), db)
            }
            return alert
        }
    }

    public func bringForwardNextStage(messageID: MessageID, by person: Person, now: Timestamp) async throws -> Int? {
        try await writer.write { db in
            guard
                let stage = try Int.fetchOne(
                    db, sql: "SELECT min(stage) FROM deadlines WHERE message_id = ? AND state = 'scheduled'", arguments: [messageID.rawValue])
            else { return nil }
            try db.run(
                sql: "UPDATE deadlines SET due_at = ? WHERE message_id = ? AND stage = ? AND state = 'scheduled' AND due_at > ?",
                arguments: [now.microsecondsSinceEpoch, messageID.rawValue, stage, now.microsecondsSinceEpoch])
            try Self.addEvent(messageID, "escalated_now", EventDetails.stageBroughtForward(stage, by: person), now, db)
            return stage
        }
    }

    public func snoozeAlert(id: String, until: Timestamp, by person: Person, reason: String, now: Timestamp) async throws -> Alert? {
        try await writer.write { db in
            try db.run(
                sql: "UPDATE alerts SET next_notify_at = ? WHERE id = ? AND state = 'open' AND next_notify_at IS NOT NULL",
                arguments: [until.microsecondsSinceEpoch, id])
            guard db.changesCount > 0,
                let alert = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM alerts WHERE id = ?"), arguments: [id]).map(Self.alert(row:))
            else { return nil }
            try Self.addEvent(alert.messageID, "alert_snoozed", EventDetails.alertSnoozed(id, by: person, until: until), now, db)
            return alert
        }
    }

    public func reassignAlert(id: String, to person: Person, by actor: Person, now: Timestamp) async throws -> Alert? {
        let who = try StoredJSON.text(person)
        return try await writer.write { db in
            try db.run(
                sql: "UPDATE alerts SET assigned_to = ?, assigned_at = ? WHERE id = ? AND state != 'resolved'",
                arguments: [who, now.microsecondsSinceEpoch, id])
            guard db.changesCount > 0,
                let alert = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM alerts WHERE id = ?"), arguments: [id]).map(Self.alert(row:))
            else { return nil }
            try Self.addEvent(alert.messageID, "alert_reassigned", EventDetails.alertReassigned(id, to: person, by: actor), now, db)
            return alert
        }
    }

    public func claimWebhookDeliveries(now: Timestamp, limit: Int, leaseSeconds: Int64) async throws -> [WebhookDelivery] {
        try await writer.write { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT * FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= ?1 AND claimed_until <= ?1
                            ORDER BY next_attempt_at LIMIT ?2
                        """), arguments: [now.microsecondsSinceEpoch, limit])
            for row in rows {
                try db.run(
                    sql: "UPDATE webhook_deliveries SET claimed_until = ? WHERE id = ?",
                    arguments: [now.adding(seconds: leaseSeconds).microsecondsSinceEpoch, row["id"] as String])
            }
            return rows.map(Self.delivery(row:))
        }
    }

    public func recordWebhookAttempt(deliveryID: String, now: Timestamp, status: Int?, error: String?, next: WebhookDelivery.Next) async throws {
        try await writer.write { db in
            try db.run(
                sql: "INSERT INTO webhook_attempts (delivery_id, at, status, error) VALUES (?, ?, ?, ?)",
                arguments: [deliveryID, now.microsecondsSinceEpoch, status, error])
            switch next {
            case .delivered:
                try db.run(
                    sql: "UPDATE webhook_deliveries SET attempts = attempts + 1, state = 'delivered', claimed_until = 0 WHERE id = ?",
                    arguments: [deliveryID])
            case .retry(let at):
                try db.run(
                    sql: "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?, claimed_until = 0 WHERE id = ?",
                    arguments: [at.microsecondsSinceEpoch, deliveryID])
            case .abandon:
                try db.run(
                    sql: "UPDATE webhook_deliveries SET attempts = attempts + 1, state = 'abandoned', claimed_until = 0 WHERE id = ?",
                    arguments: [deliveryID])
            }
        }
    }

    public func webhookDeliveries(alertID: String) async throws -> [WebhookDelivery] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM webhook_deliveries WHERE alert_id = ? ORDER BY created_at"), arguments: [alertID])
                .map { row in
                    var d = Self.delivery(row: row)
                    d.attemptLog = try Row.fetchAll(
                        db.cachedStatement(sql: "SELECT at, status, error FROM webhook_attempts WHERE delivery_id = ? ORDER BY id"), arguments: [d.id]
                    ).map {
                        (Timestamp(microsecondsSinceEpoch: $0["at"]), $0["status"], $0["error"])
                    }
                    return d
                }
        }
    }

    // MARK: - Helpers inside a write transaction

    /// Records a message event in its timeline and in the hash-chained audit log (never a payload).
    static func addEvent(_ id: MessageID, _ kind: String, _ detail: String, _ now: Timestamp, _ db: Database) throws {
        try db.run(sql: "INSERT INTO message_events (message_id, at, kind, detail) VALUES (?, ?, ?, ?)") {
            $0.add(id.rawValue)
            $0.add(now.microsecondsSinceEpoch)
            $0.add(kind)
            $0.add(detail)
        }
        try appendAudit(AuditRecord(actor: "broker", action: "message.\(kind)", subject: "message \(id.rawValue)", detail: detail), now: now, db)
    }

    static func deliver(_ plan: AlertPlan, now: Timestamp, _ db: Database) throws {
        for notification in plan.notifications {
            switch notification {
            case .mailbox(let message, let body): try insertDelivered(message, body: body, now: now, db)
            case .webhook(let webhookID, let deliveryID, let body):
                try db.run(
                    sql: """
                        INSERT INTO webhook_deliveries (id, alert_id, webhook_id, body, created_at, next_attempt_at, state)
                            VALUES (?, ?, ?, ?, ?, ?, 'pending')
                        """, arguments: [deliveryID, plan.alert.id, webhookID, body, now.microsecondsSinceEpoch, now.microsecondsSinceEpoch])
            }
        }
    }

    /// Resolves this message's unresolved alerts whose condition no longer holds.
    static func resolveClearedAlerts(_ message: MessageRecord, reason: String, now: Timestamp, _ db: Database) throws {
        // Alerts exist only for messages delivered under an escalation policy (deadlines are planned
        // from it), so the others skip the lookup.
        guard message.escalationPolicy != nil else { return }
        let facts = message.escalationFacts
        let open = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT * FROM alerts WHERE message_id = ? AND state != 'resolved'"), arguments: [message.id.rawValue]
        ).map(alert(row:))
        let by = message.resolvingPerson
        let byJSON = by.map { personJSON($0).serialized }
        for alert in open where !EscalationRules.holds(alert.condition, facts) {
            try db.run(
                sql:
                    "UPDATE alerts SET state = 'resolved', resolved_at = ?, resolved_reason = ?, resolved_by = ?, next_notify_at = NULL WHERE id = ?",
                arguments: [now.microsecondsSinceEpoch, reason, byJSON, alert.id])
            try addEvent(message.id, "alert_resolved", EventDetails.alertResolved(alert.id, reason: reason), now, db)
            try queueNotice(AlertNotice(alertID: alert.id, kind: .resolved, by: by, at: now), db)
        }
    }

    static func queueNotice(_ notice: AlertNotice, _ db: Database) throws {
        try db.run(
            sql: "INSERT INTO alert_notices (alert_id, kind, detail, created_at) VALUES (?, ?, ?, ?)",
            arguments: [notice.alertID, notice.kind.rawValue, notice.detail, notice.at.microsecondsSinceEpoch])
    }

    public func sendAlertNotices(
        now: Timestamp, limit: Int, plan: @escaping @Sendable (AlertNotice, Alert, MessageRecord) -> [AlertNotification]
    ) async throws -> Int {
        try await writer.write { db in
            let pending = try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM alert_notices WHERE sent = 0 ORDER BY id LIMIT ?"), arguments: [limit])
            for row in pending {
                try db.run(sql: "UPDATE alert_notices SET sent = 1 WHERE id = ?", arguments: [row["id"] as Int64])
                guard
                    let notice = AlertNotice.parse(
                        id: row["id"], alertID: row["alert_id"], kind: row["kind"], detail: row["detail"],
                        at: Timestamp(microsecondsSinceEpoch: row["created_at"])),
                    let alert = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM alerts WHERE id = ?"), arguments: [notice.alertID]).map(
                        Self.alert(row:)),
                    let message = try Self.fetchMessage(alert.messageID, db)
                else { continue }
                try Self.deliver(AlertPlan(alert: alert, notifications: plan(notice, alert, message)), now: now, db)
            }
            return pending.count
        }
    }

    static func insertAlert(_ a: Alert, _ db: Database) throws {
        try db.run(
            sql: """
                INSERT OR IGNORE INTO alerts (id, message_id, stage, policy, workflow_id, condition,
                    due_at, raised_at, state, notify_count, last_notified_at, next_notify_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)
                """,
            arguments: [
                a.id, a.messageID.rawValue, a.stage, a.policy, a.workflowID, a.condition.rawValue, a.dueAt.microsecondsSinceEpoch,
                a.raisedAt.microsecondsSinceEpoch, a.notifyCount, a.lastNotifiedAt.microsecondsSinceEpoch, a.nextNotifyAt?.microsecondsSinceEpoch,
            ])
    }

    static func alert(row: Row) -> Alert {
        func ts(_ k: String) -> Timestamp? { (row[k] as Int64?).map { Timestamp(microsecondsSinceEpoch: $0) } }
        return Alert(
            id: row["id"], messageID: MessageID(row["message_id"]), stage: row["stage"], policy: row["policy"], workflowID: row["workflow_id"],
            condition: EscalationCondition(rawValue: row["condition"]) ?? .notAccepted, dueAt: ts("due_at") ?? .distantPast,
            raisedAt: ts("raised_at") ?? .distantPast,
            state: Alert.State(rawValue: row["state"]) ?? .open,
            acknowledgedBy: (row["acknowledged_by"] as String?).flatMap { try? JSONDecoder().decode(Person.self, from: Data($0.utf8)) },
            acknowledgedNote: row["acknowledged_note"], acknowledgedAt: ts("acknowledged_at"), resolvedAt: ts("resolved_at"),
            resolvedReason: row["resolved_reason"],
            resolvedBy: (row["resolved_by"] as String?).flatMap { try? JSONDecoder().decode(Person.self, from: Data($0.utf8)) },
            assignedTo: (row["assigned_to"] as String?).flatMap { try? JSONDecoder().decode(Person.self, from: Data($0.utf8)) },
            assignedAt: ts("assigned_at"),
            notifyCount: row["notify_count"], lastNotifiedAt: ts("last_notified_at") ?? .distantPast, nextNotifyAt: ts("next_notify_at"))
    }

    static func delivery(row: Row) -> WebhookDelivery {
        WebhookDelivery(
            id: row["id"], alertID: row["alert_id"], webhookID: row["webhook_id"], body: row["body"],
            createdAt: Timestamp(microsecondsSinceEpoch: row["created_at"]), attempts: row["attempts"], state: row["state"])
    }
}
