import Foundation
import HandoverCore
import HandoverStore
import NIOCore

extension PostgresStore: EscalationStore {
    public func markDownloaded(messageID: MessageID, now: Timestamp) async throws {
        // Usually one statement, with no transaction around it (four round trips were one): see
        // `MarkPlainDownloadSQL`. A message it leaves alone (already marked, or under an escalation
        // policy) goes through the transaction below, which resolves alerts.
        if let event = Self.soleEvent(MessageLifecycle.downloadEffects) {
            let arguments: [any SQLArgumentConvertible] = [now, messageID.rawValue] + Self.eventArguments(messageID, event)
            if try await writeStatement({ tx in try await tx.row(MarkPlainDownloadSQL.self, arguments) != nil }) { return }
        }
        try await write { tx in
            // One statement marks and returns the message (none if it was already marked).
            guard
                let message = try await tx.row(MarkDownloadedSQL.self, [now, messageID.rawValue]).map(MessageRecord.init(row:))
            else { return }
            try await Self.apply(MessageLifecycle.downloaded(message, now: now), row: .written, now: now, tx)
        }
    }

    public func transform(
        messageID: MessageID, now: Timestamp, decide: @escaping @Sendable (MessageRecord) throws -> MessageTransition
    ) async throws -> MessageRecord {
        try await write { tx in
            guard let message = try await Self.fetchMessage(messageID, lock: true, tx), message.type == .data else {
                throw MeshError.messageDoesNotExist
            }
            return try await Self.apply(try decide(message), row: .update, now: now, tx)
        }
    }

    public func events(messageID: MessageID) async throws -> [MessageEvent] {
        try await read { tx in
            try await tx.rows("SELECT at, kind, detail FROM message_events WHERE message_id = $1 ORDER BY id", [messageID.rawValue]).map {
                MessageEvent(at: try $0.requiredTimestamp("at"), kind: try $0("kind"), detail: try $0("detail"))
            }
        }
    }

    public func planDeadlines(limit: Int, plan: @escaping @Sendable (MessageRecord) -> [(stage: Int, due: Timestamp)]) async throws -> Int {
        try await write { tx in
            let pending = try await tx.rows(
                """
                SELECT \(MessageRecord.columns) FROM messages WHERE NOT deadlines_planned AND status != 'uploading' ORDER BY seq LIMIT $1
                FOR UPDATE SKIP LOCKED
                """, [limit]
            ).map(MessageRecord.init(row:))
            for message in pending {
                for (stage, due) in plan(message) {
                    try await tx.execute(
                        "INSERT INTO deadlines (message_id, stage, due_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                        [message.id.rawValue, stage, due])
                }
                try await tx.execute("UPDATE messages SET deadlines_planned = TRUE WHERE message_id = $1", [message.id.rawValue])
            }
            return pending.count
        }
    }

    public func fireDueDeadlines(
        now: Timestamp, limit: Int, raise: @escaping @Sendable (MessageRecord, Int, Timestamp) -> AlertPlan?
    ) async throws -> [Alert] {
        try await write { tx in
            // Each instance claims disjoint deadlines; one claimed by an instance that dies is released
            // with its transaction and fired by another.
            let due = try await tx.rows(
                """
                SELECT message_id, stage, due_at FROM deadlines WHERE state = 'scheduled' AND due_at <= $1 ORDER BY due_at LIMIT $2
                FOR UPDATE SKIP LOCKED
                """, [now, limit])
            var raised: [Alert] = []
            for row in due {
                let id = MessageID(try row("message_id")), stage = Int(try row("stage", as: Int64.self)), dueAt = try row.requiredTimestamp("due_at")
                try await tx.execute("UPDATE deadlines SET state = 'fired' WHERE message_id = $1 AND stage = $2", [id.rawValue, stage])
                // The message row is locked: a download, acceptance or outcome committing between this
                // read and the alert's insert would find no alert to resolve, leaving it open for good.
                // Locked, that change either commits first (and is read here) or waits and resolves the alert.
                guard let message = try await Self.fetchMessage(id, lock: true, tx) else { continue }
                guard let plan = raise(message, stage, dueAt) else {
                    try await tx.execute("UPDATE deadlines SET state = 'skipped' WHERE message_id = $1 AND stage = $2", [id.rawValue, stage])
                    continue
                }
                guard try await Self.insertAlert(plan.alert, tx) else { continue }
                try await Self.deliver(plan, now: now, tx)
                try await Self.addEvent(id, "alert_raised", EventDetails.alertRaised(plan.alert, stage: stage), now, tx)
                raised.append(plan.alert)
            }
            return raised
        }
    }

    public func renotifyDueAlerts(now: Timestamp, limit: Int, renotify: @escaping @Sendable (Alert, MessageRecord) -> AlertPlan?) async throws -> Int
    {
        try await write { tx in
            // Acknowledgements that have lapsed: open again (then due for a repeat below).
            let lapsed = try await tx.rows(
                """
                SELECT * FROM alerts WHERE state = 'acknowledged' AND next_notify_at <= $1 ORDER BY next_notify_at LIMIT $2 FOR UPDATE SKIP LOCKED
                """, [now, limit]
            ).map(Self.alert(row:))
            for alert in lapsed {
                try await tx.execute(
                    "UPDATE alerts SET state = 'open', acknowledged_by = NULL, acknowledged_note = NULL, acknowledged_at = NULL WHERE id = $1",
                    [alert.id])
                try await Self.addEvent(
                    alert.messageID, "alert_acknowledgement_lapsed", EventDetails.acknowledgementLapsed(alert.id, by: alert.acknowledgedBy), now, tx)
            }
            let due = try await tx.rows(
                """
                SELECT * FROM alerts WHERE state = 'open' AND next_notify_at <= $1 ORDER BY next_notify_at LIMIT $2 FOR UPDATE SKIP LOCKED
                """, [now, limit]
            ).map(Self.alert(row:))
            var count = 0
            for alert in due {
                guard let message = try await Self.fetchMessage(alert.messageID, lock: false, tx) else { continue }
                guard let plan = renotify(alert, message) else {
                    try await Self.resolveClearedAlerts(message, reason: "condition no longer holds", now: now, tx)
                    // A stage that no longer exists: stop repeating.
                    try await tx.execute("UPDATE alerts SET next_notify_at = NULL WHERE id = $1 AND state = 'open'", [alert.id])
                    continue
                }
                try await tx.execute(
                    "UPDATE alerts SET notify_count = $1, last_notified_at = $2, next_notify_at = $3 WHERE id = $4",
                    [plan.alert.notifyCount, now, plan.alert.nextNotifyAt, alert.id])
                try await Self.deliver(plan, now: now, tx)
                try await Self.addEvent(
                    alert.messageID, "alert_renotified", EventDetails.alertRenotified(alert.id, count: plan.alert.notifyCount), now, tx)
                count += 1
            }
            return count
        }
    }

    public func nextEscalationWork(now: Timestamp) async throws -> Timestamp? {
        try await read { tx in
            let row = try await tx.row(
                """
                SELECT EXISTS (SELECT 1 FROM messages WHERE NOT deadlines_planned AND status != 'uploading') AS unplanned,
                       (SELECT min(due_at) FROM deadlines WHERE state = 'scheduled') AS deadline,
                       (SELECT min(next_notify_at) FROM alerts WHERE state = 'open') AS repeat_at,
                       (SELECT min(next_notify_at) FROM alerts WHERE state = 'acknowledged') AS lapse_at
                """
            ).orThrow()
            if try row("unplanned", as: Bool.self) { return now }
            return [try row.timestamp("deadline"), try row.timestamp("repeat_at"), try row.timestamp("lapse_at")].compactMap { $0 }.min()
        }
    }

    public func alerts(state: Alert.State?, limit: Int) async throws -> [Alert] {
        try await read { tx in
            // "open" means unresolved, as in the metrics: acknowledged is a sub-state of open.
            if state == .open {
                return try await tx.rows("SELECT * FROM alerts WHERE state IN ('open', 'acknowledged') ORDER BY raised_at DESC LIMIT $1", [limit])
                    .map(Self.alert(row:))
            }
            if let state {
                return try await tx.rows("SELECT * FROM alerts WHERE state = $1 ORDER BY raised_at DESC LIMIT $2", [state.rawValue, limit]).map(
                    Self.alert(row:))
            }
            return try await tx.rows("SELECT * FROM alerts ORDER BY raised_at DESC LIMIT $1", [limit]).map(Self.alert(row:))
        }
    }

    public func unresolvedAlertCounts() async throws -> [UnresolvedAlertCount] {
        try await read { tx in
            try await tx.rows(
                """
                SELECT workflow_id, stage, COUNT(*) AS n FROM alerts WHERE state IN ('open', 'acknowledged') GROUP BY workflow_id, stage
                """
            ).map {
                UnresolvedAlertCount(
                    workflowID: try $0("workflow_id"), stage: Int(try $0("stage", as: Int64.self)), count: Int(try $0("n", as: Int64.self)))
            }
        }
    }

    public func alerts(messageID: MessageID) async throws -> [Alert] {
        try await read { tx in
            try await tx.rows("SELECT * FROM alerts WHERE message_id = $1 ORDER BY stage", [messageID.rawValue]).map(Self.alert(row:))
        }
    }

    public func alert(id: String) async throws -> Alert? {
        try await read { tx in try await tx.row("SELECT * FROM alerts WHERE id = $1", [id]).map(Self.alert(row:)) }
    }

    public func acknowledgeAlert(id: String, by person: Person, note: String?, lapsesAt: Timestamp?, now: Timestamp) async throws -> Alert? {
        let who = try StoredJSON.text(person)
        return try await write { tx in
            let changed = try await tx.execute(
                """
                UPDATE alerts SET state = 'acknowledged', acknowledged_by = $1, acknowledged_note = $2, acknowledged_at = $3, next_notify_at = $5
                WHERE id = $4 AND state = 'open' RETURNING 1
                """, [who, note, now, id, lapsesAt])
            guard let alert = try await tx.row("SELECT * FROM alerts WHERE id = $1", [id]).map(Self.alert(row:)) else { return nil }
            if changed > 0 {
                try await Self.addEvent(alert.messageID, "alert_acknowledged", EventDetails.alertAcknowledged(id, by: person, note: note), now, tx)
                try await Self.queueNotice(AlertNotice(alertID: id, kind: .acknowledged, by: person, note: note, at: now), tx)
            }
            return alert
        }
    }

    public func bringForwardNextStage(messageID: MessageID, by person: Person, now: Timestamp) async throws -> Int? {
        try await write { tx in
            guard
                let row = try await tx.row(
                    """
                    UPDATE deadlines SET due_at = LEAST(due_at, $2) WHERE message_id = $1 AND state = 'scheduled'
                        AND stage = (SELECT min(stage) FROM deadlines WHERE message_id = $1 AND state = 'scheduled')
                    RETURNING stage
                    """, [messageID.rawValue, now])
            else { return nil }
            let stage = Int(try row("stage", as: Int64.self))
            try await Self.addEvent(messageID, "escalated_now", EventDetails.stageBroughtForward(stage, by: person), now, tx)
            return stage
        }
    }

    public func snoozeAlert(id: String, until: Timestamp, by person: Person, reason: String, now: Timestamp) async throws -> Alert? {
        try await write { tx in
            guard
                let alert = try await tx.row(
                    "UPDATE alerts SET next_notify_at = $1 WHERE id = $2 AND state = 'open' AND next_notify_at IS NOT NULL RETURNING *", [until, id]
                ).map(Self.alert(row:))
            else { return nil }
            try await Self.addEvent(alert.messageID, "alert_snoozed", EventDetails.alertSnoozed(id, by: person, until: until), now, tx)
            return alert
        }
    }

    public func reassignAlert(id: String, to person: Person, by actor: Person, now: Timestamp) async throws -> Alert? {
        let who = try StoredJSON.text(person)
        return try await write { tx in
            guard
                let alert = try await tx.row(
                    "UPDATE alerts SET assigned_to = $1, assigned_at = $2 WHERE id = $3 AND state != 'resolved' RETURNING *", [who, now, id]
                ).map(Self.alert(row:))
            else { return nil }
            try await Self.addEvent(alert.messageID, "alert_reassigned", EventDetails.alertReassigned(id, to: person, by: actor), now, tx)
            return alert
        }
    }

    public func claimWebhookDeliveries(now: Timestamp, limit: Int, leaseSeconds: Int64) async throws -> [WebhookDelivery] {
        try await write { tx in
            try await tx.rows(
                """
                UPDATE webhook_deliveries SET claimed_until = $1 WHERE id IN (
                    SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $2 AND claimed_until <= $2
                    ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
                RETURNING *
                """, [now.adding(seconds: leaseSeconds), now, limit]
            ).map(Self.delivery(row:)).sorted { $0.createdAt < $1.createdAt }
        }
    }

    public func recordWebhookAttempt(deliveryID: String, now: Timestamp, status: Int?, error: String?, next: WebhookDelivery.Next) async throws {
        try await write { tx in
            try await tx.execute(
                "INSERT INTO webhook_attempts (delivery_id, at, status, error) VALUES ($1, $2, $3, $4)", [deliveryID, now, status, error])
            switch next {
            case .delivered:
                try await tx.execute(
                    "UPDATE webhook_deliveries SET attempts = attempts + 1, state = 'delivered', claimed_until = 0 WHERE id = $1", [deliveryID])
            case .retry(let at):
                try await tx.execute(
                    "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $1, claimed_until = 0 WHERE id = $2", [at, deliveryID])
            case .abandon:
                try await tx.execute(
                    "UPDATE webhook_deliveries SET attempts = attempts + 1, state = 'abandoned', claimed_until = 0 WHERE id = $1", [deliveryID])
            }
        }
    }

    public func webhookDeliveries(alertID: String) async throws -> [WebhookDelivery] {
        try await read { tx in
            var deliveries = try await tx.rows("SELECT * FROM webhook_deliveries WHERE alert_id = $1 ORDER BY created_at", [alertID]).map(
                Self.delivery(row:))
            for i in deliveries.indices {
                deliveries[i].attemptLog = try await tx.rows(
                    "SELECT at, status, error FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id",
                    [deliveries[i].id]
                ).map {
                    (try $0.requiredTimestamp("at"), try $0("status", as: Int64?.self).map(Int.init), try $0("error", as: String?.self))
                }
            }
            return deliveries
        }
    }

    // MARK: - Helpers inside a transaction

    /// Records a message event in its timeline and queues it for the hash-chained audit log (never a payload).
    static func addEvent(_ id: MessageID, _ kind: String, _ detail: String, _ now: Timestamp, _ tx: SQLTransaction) async throws {
        tx.pendingEvents.append((id.rawValue, now, kind, detail))
        tx.audit(eventAudit(id, kind, detail), now: now)
    }

    /// The audit entry that goes with a message event.
    static func eventAudit(_ id: MessageID, _ kind: String, _ detail: String) -> AuditRecord {
        AuditRecord(actor: "broker", action: "message.\(kind)", subject: "message \(id.rawValue)", detail: detail)
    }

    static func deliver(_ plan: AlertPlan, now: Timestamp, _ tx: SQLTransaction) async throws {
        for notification in plan.notifications {
            switch notification {
            case .mailbox(let message, let body): try await insertDelivered(message, body: body, now: now, tx)
            case .webhook(let webhookID, let deliveryID, let body):
                try await tx.execute(
                    """
                    INSERT INTO webhook_deliveries (id, alert_id, webhook_id, body, created_at, next_attempt_at, state)
                        VALUES ($1, $2, $3, $4, $5, $5, 'pending')
                    """, [deliveryID, plan.alert.id, webhookID, body, now])
            }
        }
    }

    /// Resolves this message's unresolved alerts whose condition no longer holds.
    static func resolveClearedAlerts(_ message: MessageRecord, reason: String, now: Timestamp, _ tx: SQLTransaction) async throws {
        // Alerts exist only for messages delivered under an escalation policy (deadlines are planned
        // from it), so the others skip the lookup.
        guard message.escalationPolicy != nil else { return }
        let facts = message.escalationFacts
        let open = try await tx.rows("SELECT * FROM alerts WHERE message_id = $1 AND state != 'resolved' FOR UPDATE", [message.id.rawValue]).map(
            alert(row:))
        let by = message.resolvingPerson
        let byJSON = by.map { personJSON($0).serialized }
        for alert in open where !EscalationRules.holds(alert.condition, facts) {
            try await tx.execute(
                "UPDATE alerts SET state = 'resolved', resolved_at = $1, resolved_reason = $2, resolved_by = $3, next_notify_at = NULL WHERE id = $4",
                [now, reason, byJSON, alert.id])
            try await addEvent(message.id, "alert_resolved", EventDetails.alertResolved(alert.id, reason: reason), now, tx)
            try await queueNotice(AlertNotice(alertID: alert.id, kind: .resolved, by: by, at: now), tx)
        }
    }

    static func queueNotice(_ notice: AlertNotice, _ tx: SQLTransaction) async throws {
        try await tx.execute(
            "INSERT INTO alert_notices (alert_id, kind, detail, created_at) VALUES ($1, $2, $3, $4)",
            [notice.alertID, notice.kind.rawValue, notice.detail, notice.at])
    }

    public func sendAlertNotices(
        now: Timestamp, limit: Int, plan: @escaping @Sendable (AlertNotice, Alert, MessageRecord) -> [AlertNotification]
    ) async throws -> Int {
        try await write { tx in
            // SKIP LOCKED: instances sending together take disjoint notices, so each is sent once.
            let pending = try await tx.rows(
                """
                UPDATE alert_notices SET sent = TRUE
                    WHERE id IN (SELECT id FROM alert_notices WHERE NOT sent ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
                RETURNING id, alert_id, kind, detail, created_at
                """, [limit])
            for row in pending {
                guard
                    let notice = AlertNotice.parse(
                        id: try row("id"), alertID: try row("alert_id"), kind: try row("kind"), detail: try row("detail"),
                        at: try row.requiredTimestamp("created_at")),
                    let alert = try await tx.row("SELECT * FROM alerts WHERE id = $1", [notice.alertID]).map(Self.alert(row:)),
                    let message = try await Self.fetchMessage(alert.messageID, lock: false, tx)
                else { continue }
                try await Self.deliver(AlertPlan(alert: alert, notifications: plan(notice, alert, message)), now: now, tx)
            }
            return pending.count
        }
    }

    /// Inserts an alert unless this message's stage already has one; returns whether it was inserted.
    static func insertAlert(_ a: Alert, _ tx: SQLTransaction) async throws -> Bool {
        try await tx.execute(
            """
            INSERT INTO alerts (id, message_id, stage, policy, workflow_id, condition,
                due_at, raised_at, state, notify_count, last_notified_at, next_notify_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10, $11) ON CONFLICT DO NOTHING RETURNING 1
            """,
            [
                a.id, a.messageID.rawValue, a.stage, a.policy, a.workflowID, a.condition.rawValue, a.dueAt, a.raisedAt, a.notifyCount,
                a.lastNotifiedAt, a.nextNotifyAt,
            ]) == 1
    }

    static func alert(row: SQLRow) throws -> Alert {
        Alert(
            id: try row("id"), messageID: MessageID(try row("message_id")), stage: Int(try row("stage", as: Int64.self)), policy: try row("policy"),
            workflowID: try row("workflow_id"), condition: EscalationCondition(rawValue: try row("condition")) ?? .notAccepted,
            dueAt: try row.requiredTimestamp("due_at"), raisedAt: try row.requiredTimestamp("raised_at"),
            state: Alert.State(rawValue: try row("state")) ?? .open,
            acknowledgedBy: try (row("acknowledged_by", as: String?.self)).flatMap { try? JSONDecoder().decode(Person.self, from: Data($0.utf8)) },
            acknowledgedNote: try row("acknowledged_note"), acknowledgedAt: try row.timestamp("acknowledged_at"),
            resolvedAt: try row.timestamp("resolved_at"),
            resolvedReason: try row("resolved_reason"),
            resolvedBy: try (row("resolved_by", as: String?.self)).flatMap { try? JSONDecoder().decode(Person.self, from: Data($0.utf8)) },
            assignedTo: try (row("assigned_to", as: String?.self)).flatMap { try? JSONDecoder().decode(Person.self, from: Data($0.utf8)) },
            assignedAt: try row.timestamp("assigned_at"),
            notifyCount: Int(try row("notify_count", as: Int64.self)),
            lastNotifiedAt: try row.requiredTimestamp("last_notified_at"), nextNotifyAt: try row.timestamp("next_notify_at"))
    }

    static func delivery(row: SQLRow) throws -> WebhookDelivery {
        WebhookDelivery(
            id: try row("id"), alertID: try row("alert_id"), webhookID: try row("webhook_id"), body: try row("body"),
            createdAt: try row.requiredTimestamp("created_at"), attempts: Int(try row("attempts", as: Int64.self)), state: try row("state"))
    }
}

enum MarkDownloadedSQL: PreparedText {
    static let sql = "UPDATE messages SET downloaded_at = $1 WHERE message_id = $2 AND downloaded_at IS NULL RETURNING \(MessageRecord.columns)"
}
