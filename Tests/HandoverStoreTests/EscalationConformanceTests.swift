import Foundation
import HandoverCore
import HandoverStore
import NIOCore
import Synchronization
import Testing

/// The escalation half of the store contract, for every backend: deadlines planned once, each
/// alert raised once however many schedulers race, notifications stored with it, repeats,
/// acknowledgement, resolution, webhook leases, responsibility with its business ack, and an
/// audit chain that still verifies afterwards.
@Suite("EscalationStore conformance")
struct EscalationConformanceTests {
    let t0 = CivilDateTime(year: 2026, month: 11, day: 25, hour: 12).timestamp

    func deliver(_ id: String, _ store: any BrokerStore, policy: String? = "P") async throws {
        var m = MessageRecord(
            id: MessageID(id), sender: MailboxID("ALICE"), recipient: MailboxID("BOB"), workflowID: "SAFEGUARDING",
            totalChunks: 1, status: .uploading, createdAt: t0, expirySeconds: 86_400)
        m.escalationPolicy = policy
        _ = try await store.createMessage(
            m,
            firstChunk: StagedChunk(
                uploadID: "u-\(id)", size: 1, segmentCount: 1, sha256: "",
                inlineSegment: ByteBuffer(bytes: [1])), now: t0)
    }

    func plan(_ message: MessageRecord, stage: Int, now: Timestamp, repeatAt: Timestamp?) -> AlertPlan {
        let alert = Alert(
            id: "A-\(message.id.rawValue)-\(stage)-\(UUID().uuidString.prefix(8))", messageID: message.id, stage: stage, policy: "P",
            workflowID: message.workflowID, condition: .notDownloaded, dueAt: now, raisedAt: now, lastNotifiedAt: now, nextNotifyAt: repeatAt)
        let note = MessageRecord(
            id: MessageID("N-\(alert.id)"), sender: nil, recipient: MailboxID("DUTY"), workflowID: AlertPlanner.alertWorkflow,
            totalChunks: 1, status: .uploading, createdAt: now, expirySeconds: 86_400)
        return AlertPlan(
            alert: alert,
            notifications: [
                .mailbox(note, body: Array("alert".utf8)),
                .webhook(webhookID: "duty-hook", deliveryID: "D-\(alert.id)", body: "{}"),
            ])
    }

    /// A deadline fires while the recipient downloads: the download is made to try to commit between
    /// the scheduler's read of the message and its insert of the alert (the scheduler waits for it, up
    /// to two seconds). Whichever way the store orders them, no alert is left open on a downloaded message.
    @Test(arguments: StoreFactory.all)
    func aDownloadRacingADeadlineNeverLeavesAnAlertOpen(factory: StoreFactory) async throws {
        let store = try await factory.make()
        try await deliver("R1", store)
        _ = try await store.planDeadlines(limit: 10) { _ in [(0, self.t0)] }
        let download = Mutex<Task<Void, any Error>?>(nil)
        let downloadCommitted = DispatchSemaphore(value: 0)
        let now = t0.adding(seconds: 1)
        _ = try await store.fireDueDeadlines(now: now, limit: 10) { message, stage, _ in
            download.withLock {
                $0 = Task {
                    try await store.markDownloaded(messageID: message.id, now: now)
                    downloadCommitted.signal()
                }
            }
            // Without a lock on the message the download commits here, unseen by this transaction;
            // with one it waits for this transaction, and the wait runs out.
            _ = downloadCommitted.wait(timeout: .now() + 2)
            return message.downloadedAt == nil ? self.plan(message, stage: stage, now: now, repeatAt: nil) : nil
        }
        try await download.withLock { $0 }?.value
        let alerts = try await store.alerts(messageID: MessageID("R1"))
        #expect(alerts.allSatisfy { $0.state == .resolved }, "left open: \(alerts.filter { $0.state != .resolved }.map(\.id))")
        #expect(try await store.message(MessageID("R1"))?.downloadedAt != nil)
    }

    @Test(arguments: StoreFactory.all)
    func alertsAreRaisedOnceWithTheirNotificationsAndResolveWhenTheConditionClears(factory: StoreFactory) async throws {
        let store = try await factory.make()
        try await deliver("M1", store)
        try await deliver("M2", store, policy: nil)
        #expect(try await store.nextEscalationWork(now: t0) == t0)
        let planned = try await store.planDeadlines(limit: 10) { _ in [(0, self.t0.adding(seconds: 60))] }
        #expect(planned == 1)
        #expect(try await store.planDeadlines(limit: 10) { _ in [(0, self.t0)] } == 0)
        #expect(try await store.nextEscalationWork(now: t0) == t0.adding(seconds: 60))
        #expect(try await store.fireDueDeadlines(now: t0.adding(seconds: 59), limit: 10) { _, _, _ in nil }.isEmpty)

        // Four schedulers race for the same due deadline: exactly one alert.
        let due = t0.adding(seconds: 61)
        let raised = try await withThrowingTaskGroup(of: [Alert].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    try await store.fireDueDeadlines(now: due, limit: 10) { m, stage, _ in self.plan(m, stage: stage, now: due, repeatAt: nil) }
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(raised.count == 1)
        let alert = try #require(raised.first)
        #expect(try await store.alerts(messageID: MessageID("M1")).map(\.id) == [alert.id])
        #expect(try await store.countInbox(mailbox: MailboxID("DUTY")) == 1)

        // Webhook leases are exclusive; an attempt is recorded.
        let claims = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<3 { group.addTask { try await store.claimWebhookDeliveries(now: due, limit: 10, leaseSeconds: 30).count } }
            return try await group.reduce(0, +)
        }
        #expect(claims == 1)
        try await store.recordWebhookAttempt(deliveryID: "D-\(alert.id)", now: due, status: 204, error: nil, next: .delivered)
        let deliveries = try await store.webhookDeliveries(alertID: alert.id)
        #expect(deliveries.map(\.state) == ["delivered"] && deliveries.first?.attemptLog.first?.status == 204)

        // The recipient downloads: the not-downloaded alert resolves, and a notice is queued for its targets.
        try await store.markDownloaded(messageID: MessageID("M1"), now: due)
        #expect(try await store.alert(id: alert.id)?.state == .resolved)
        final class Noticed: Sendable { let kinds = Mutex<[AlertNotice.Kind]>([]) }
        let noticed = Noticed()
        let sent = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    try await store.sendAlertNotices(now: due, limit: 10) { notice, alert, _ in
                        noticed.kinds.withLock { $0.append(notice.kind) }
                        return [.webhook(webhookID: "duty-hook", deliveryID: "R-\(alert.id)", body: #"{"event":"alert.resolved"}"#)]
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(sent == 1 && noticed.kinds.withLock { $0 } == [.resolved], "three senders racing send the notice once")
        #expect(try await store.webhookDeliveries(alertID: alert.id).contains { $0.id == "R-\(alert.id)" })
        let kinds = try await store.events(messageID: MessageID("M1")).map(\.kind)
        #expect(kinds == ["delivered", "alert_raised", "downloaded", "alert_resolved"])
        #expect(AuditChain.verify(try await store.auditEntries(afterSequence: 0, limit: 1000)) == .intact(entries: 6))
    }

    /// Delivers a message, plans its stages and raises its first at t0, repeating every 600 s; the alert's id.
    func raiseRepeatingAlert(_ message: String, _ store: any BrokerStore, stages: [(stage: Int, due: Timestamp)]? = nil) async throws -> String {
        try await deliver(message, store)
        let planned = stages ?? [(0, t0)]
        _ = try await store.planDeadlines(limit: 10) { _ in planned }
        let raised = try await store.fireDueDeadlines(now: t0, limit: 10) { m, s, _ in
            self.plan(m, stage: s, now: self.t0, repeatAt: self.t0.adding(seconds: 600))
        }
        return try #require(raised.first?.id)
    }

    /// A duty team's snooze pauses repeats (the alert stays open); "escalate now" brings the next
    /// stage forward so it fires at once, and says when no stage is left.
    @Test(arguments: StoreFactory.all)
    func snoozePausesRepeatsAndEscalateNowBringsTheNextStageForward(factory: StoreFactory) async throws {
        let store = try await factory.make()
        let id = try await raiseRepeatingAlert("S1", store, stages: [(0, t0), (1, t0.adding(seconds: 3600))])
        let duty = Person(name: "Dana Duty", role: "operator")
        let snoozed = try await store.snoozeAlert(id: id, until: t0.adding(seconds: 4 * 3600), by: duty, reason: "ward calling back", now: t0)
        #expect(snoozed?.state == .open && snoozed?.nextNotifyAt == t0.adding(seconds: 4 * 3600))
        #expect(try await store.renotifyDueAlerts(now: t0.adding(seconds: 601), limit: 10) { _, _ in nil } == 0, "no repeat while snoozed")
        #expect(try await store.snoozeAlert(id: "nope", until: t0, by: duty, reason: "r", now: t0) == nil)

        #expect(try await store.bringForwardNextStage(messageID: MessageID("S1"), by: duty, now: t0.adding(seconds: 60)) == 1)
        let next = try await store.fireDueDeadlines(now: t0.adding(seconds: 60), limit: 10) { m, s, _ in
            self.plan(m, stage: s, now: self.t0.adding(seconds: 60), repeatAt: nil)
        }
        #expect(next.map(\.stage) == [1], "the second stage fires an hour early")
        #expect(try await store.bringForwardNextStage(messageID: MessageID("S1"), by: duty, now: t0.adding(seconds: 61)) == nil)
        let kinds = try await store.events(messageID: MessageID("S1")).map(\.kind)
        #expect(kinds.contains("alert_snoozed") && kinds.contains("escalated_now"))
    }

    @Test(arguments: StoreFactory.all)
    func aReassignedAlertKeepsItsStateAndRepeats(factory: StoreFactory) async throws {
        let store = try await factory.make()
        let id = try await raiseRepeatingAlert("RA1", store)
        let night = Person(name: "Nell Night", role: "operator")
        let moved = try await store.reassignAlert(id: id, to: night, by: Person(name: "Dana Duty", role: "operator"), now: t0.adding(seconds: 60))
        #expect(moved?.assignedTo == night && moved?.assignedAt == t0.adding(seconds: 60))
        #expect(moved?.state == .open && moved?.nextNotifyAt == t0.adding(seconds: 600), "its repeats keep their time")
        #expect(try await store.alert(id: id)?.assignedTo == night)
        #expect(try await store.events(messageID: MessageID("RA1")).contains { $0.kind == "alert_reassigned" })
        // The admin API and operators see who has it; mailboxes and webhooks do not.
        let alert = try #require(moved)
        #expect(alert.json(message: nil).serialized.contains("Nell Night"))
        #expect(!alert.referenceJSON(message: nil).serialized.contains("Nell Night"))
        #expect(try await store.reassignAlert(id: "nope", to: night, by: night, now: t0) == nil)
        await store.close()
    }

    @Test(arguments: StoreFactory.all)
    func repeatsStopWhenAPersonAcknowledges(factory: StoreFactory) async throws {
        let store = try await factory.make()
        let id = try await raiseRepeatingAlert("R1", store)
        #expect(try await store.nextEscalationWork(now: t0) == t0.adding(seconds: 600))
        let repeated = try await store.renotifyDueAlerts(now: t0.adding(seconds: 600), limit: 10) { alert, m in
            var next = self.plan(m, stage: alert.stage, now: self.t0.adding(seconds: 600), repeatAt: self.t0.adding(seconds: 1200))
            next.alert = alert
            next.alert.notifyCount = alert.notifyCount + 1
            next.alert.nextNotifyAt = self.t0.adding(seconds: 1200)
            return next
        }
        #expect(repeated == 1)
        #expect(try await store.alert(id: id)?.notifyCount == 2)
        #expect(try await store.countInbox(mailbox: MailboxID("DUTY")) == 2)
        let acked = try await store.acknowledgeAlert(
            id: id, by: Person(name: "Dana Duty", team: "MASH"), note: "calling the family", lapsesAt: nil, now: t0.adding(seconds: 700))
        #expect(acked?.state == .acknowledged && acked?.acknowledgedBy?.name == "Dana Duty" && acked?.nextNotifyAt == nil)
        #expect(try await store.acknowledgeAlert(id: "nope", by: Person(name: "x"), note: nil, lapsesAt: nil, now: t0) == nil)
        #expect(try await store.alerts(state: .acknowledged, limit: 10).map(\.id) == [id])
        #expect(try await store.nextEscalationWork(now: t0) == nil)
    }

    /// An acknowledgement that lapses: the alert opens again at the lapse time (not before), is
    /// re-notified, and the lapse is in the message's timeline; the scheduler knows when to wake.
    @Test(arguments: StoreFactory.all)
    func anAcknowledgementLapsesAndTheAlertOpensAgain(factory: StoreFactory) async throws {
        let store = try await factory.make()
        let id = try await raiseRepeatingAlert("L1", store)
        let lapse = t0.adding(seconds: 1800)
        let acked = try await store.acknowledgeAlert(
            id: id, by: Person(name: "Dana Duty"), note: "on it", lapsesAt: lapse, now: t0.adding(seconds: 60))
        #expect(acked?.state == .acknowledged && acked?.nextNotifyAt == lapse)
        #expect(try await store.nextEscalationWork(now: t0.adding(seconds: 60)) == lapse)
        func renotify(at seconds: Int64) async throws -> Int {
            try await store.renotifyDueAlerts(now: t0.adding(seconds: seconds), limit: 10) { alert, m in
                var next = self.plan(m, stage: alert.stage, now: self.t0.adding(seconds: seconds), repeatAt: nil)
                next.alert = alert
                next.alert.notifyCount = alert.notifyCount + 1
                next.alert.nextNotifyAt = nil
                return next
            }
        }
        // Its repeat time (600 s) passes while acknowledged: nothing is sent.
        #expect(try await renotify(at: 1700) == 0)
        #expect(try await store.alert(id: id)?.state == .acknowledged)
        #expect(try await renotify(at: 1800) == 1)
        let reopened = try #require(try await store.alert(id: id))
        #expect(reopened.state == .open && reopened.acknowledgedBy == nil && reopened.notifyCount == 2)
        #expect(try await store.events(messageID: MessageID("L1")).contains { $0.kind == "alert_acknowledgement_lapsed" })
        await store.close()
    }

    @Test(arguments: StoreFactory.all)
    func responsibilityAndItsBusinessAckCommitTogether(factory: StoreFactory) async throws {
        let store = try await factory.make()
        try await deliver("B1", store, policy: nil)
        let person = Person(name: "Sam Social Worker")
        let ack = MessageRecord(
            id: MessageID("ACK1"), sender: MailboxID("BOB"), recipient: MailboxID("ALICE"), workflowID: "SAFEGUARDING_ACK",
            totalChunks: 1, status: .uploading, createdAt: t0, expirySeconds: 86_400)
        let updated = try await store.updateResponsibility(
            messageID: MessageID("B1"), recipient: MailboxID("BOB"), event: "accepted", now: t0,
            change: { _ in
                var r = ResponsibilityRecord()
                r.state = .accepted
                r.decidedBy = person
                return .success(r)
            },
            ack: { _, _ in (ack, Array("{}".utf8)) })
        #expect(updated.responsibility?.state == .accepted)
        #expect(try await store.message(MessageID("B1"))?.responsibility?.decidedBy == person)
        #expect(try await store.countInbox(mailbox: MailboxID("ALICE")) == 1)
        await #expect(throws: MeshError.forbidden) {
            _ = try await store.updateResponsibility(
                messageID: MessageID("B1"), recipient: MailboxID("ALICE"), event: "accepted", now: self.t0,
                change: { _ in .success(ResponsibilityRecord()) }, ack: { _, _ in nil })
        }
        // A refusal changes nothing and sends nothing.
        await #expect(throws: ResponsibilityMachine.Refusal.notDownloaded) {
            _ = try await store.updateResponsibility(
                messageID: MessageID("B1"), recipient: MailboxID("BOB"), event: "declined", now: self.t0,
                change: { _ in .failure(.notDownloaded) }, ack: { _, _ in (ack, []) })
        }
        #expect(try await store.countInbox(mailbox: MailboxID("ALICE")) == 1)
        #expect(try await store.events(messageID: MessageID("B1")).map(\.kind) == ["delivered", "accepted", "business_ack_sent"])
    }
}
