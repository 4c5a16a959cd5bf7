import Crypto
import Foundation
import HTTPTypes
import HandoverCore
import HandoverSQLite
import HandoverServer
import HandoverStore
import HandoverTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing

/// Routes with a safeguarding-like workflow: responsibility required, escalation at 4h (repeat 1h)
/// to CAROL, a webhook and the sender, then a no-outcome stage at one day.
func escalationRoutes(webhookURL: String = "http://127.0.0.1:9/hook") -> String {
    safeguardingRoutes(
        stages: """
                  - {after: 4h, when: not-accepted, notify: [{mailbox: CAROL}, {webhook: oncall}, {sender: true}], repeat: 1h}
                  - {after: 1d, when: no-outcome, notify: [{mailbox: CAROL}]}
            """,
        webhooks: """
              - {id: oncall, url: "\(webhookURL)", secret: "${HOOK_SECRET}", allow_private: true}
            """)
}

/// The default routes plus workflow SAFE (ALICE to X27, responsibility required) under `safe-policy`,
/// whose `stages` and the `webhooks` are given as YAML list items.
func safeguardingRoutes(stages: String, webhooks: String) -> String {
    TestBroker.defaultRoutes + """

          - {id: SAFE, senders: [ALICE], receivers: [X27], responsibility: required, escalation: safe-policy}
          - {id: SAFE_ACK, senders: [X27], receivers: [ALICE]}
        escalation_policies:
          - id: safe-policy
            stages:
        \(stages)
        webhooks:
        \(webhooks)
        """
}

let hookSecret = "hook-secret-123"
let escalationEnvironment = TestBroker.passwords.merging(["HOOK_SECRET": hookSecret]) { $1 }
let somebody = #"{"name":"Sam Patel","role":"Social worker","team":"Adult safeguarding"}"#

@Suite("Responsibility and outcomes")
struct ResponsibilityTests {
    @Test func decisionsNeedADownloadANameAndReachTheSender() async throws {
        let broker = try await TestBroker(routesYAML: escalationRoutes(), environment: escalationEnvironment)
        try await MeshHarness.run(broker) { h in
            let id = try await h.send(workflow: "SAFE", headers: ["mex-localid": "ref-1"])
            let path = "/messageexchange/BOB/inbox/\(id)/responsibility"
            let accept = Array(#"{"decision":"accept","by":\#(somebody)}"#.utf8)
            let early = try await h.call(.post, path, as: "BOB", body: accept)
            #expect(early.status == .conflict && early.meshError?.msg.contains("downloaded") == true)
            _ = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB")
            #expect(try await h.call(.post, path, as: "BOB", body: Array(#"{"decision":"maybe","by":\#(somebody)}"#.utf8)).status == .badRequest)
            #expect(try await h.call(.post, path, as: "BOB", body: Array(#"{"decision":"accept"}"#.utf8)).status == .badRequest)
            #expect(try await h.call(.post, path, as: "BOB", body: Array(#"{"decision":"decline","by":\#(somebody)}"#.utf8)).status == .badRequest)
            #expect(try await h.call(.post, path, as: "BOB", body: Array("not json".utf8)).status == .badRequest)
            #expect(try await h.call(.post, "/messageexchange/CAROL/inbox/\(id)/responsibility", as: "CAROL", body: accept).status == .forbidden)
            #expect(try await h.call(.post, "/messageexchange/BOB/inbox/NOPE/responsibility", as: "BOB", body: accept).status == .notFound)
            let outcomeFirst = try await h.call(
                .post, "/messageexchange/BOB/inbox/\(id)/outcome", as: "BOB", body: Array(#"{"code":"assessed","by":\#(somebody)}"#.utf8))
            #expect(outcomeFirst.status == .conflict)

            let accepted = try await h.call(.post, path, as: "BOB", body: accept)
            #expect(accepted.status == .ok && accepted.json["state"] as? String == "accepted")
            #expect(try await h.call(.post, path, as: "BOB", body: accept).status == .conflict)
            // Acknowledged messages can still be decided on; here, the outcome.
            _ = try await h.call(.put, "/messageexchange/BOB/inbox/\(id)/status/acknowledged", as: "BOB")
            #expect(
                try await h.call(
                    .post, "/messageexchange/BOB/inbox/\(id)/outcome", as: "BOB", body: Array(#"{"code":"invented","by":\#(somebody)}"#.utf8)
                ).status == .badRequest)
            let outcome = try await h.call(
                .post, "/messageexchange/BOB/inbox/\(id)/outcome", as: "BOB",
                body: Array(#"{"code":"services-arranged","detail":"home care from Monday","by":\#(somebody)}"#.utf8))
            #expect(outcome.status == .ok)

            // The sender's ordinary poll sees both business acks, linked to the original.
            let acks = try await h.inbox("ALICE")
            #expect(acks.count == 2)
            for (ackID, event) in zip(acks, ["responsibility_accepted", "outcome"]) {
                let r = try await h.call(.get, "/messageexchange/ALICE/inbox/\(ackID)", as: "ALICE")
                #expect(r.header("mex-workflowid") == "SAFE_ACK" && r.header("mex-linkedmsgid") == id && r.header("mex-from") == "BOB")
                #expect(r.json["event"] as? String == event && r.json["local_id"] as? String == "ref-1")
                #expect((r.json["decided_by"] as? [String: String])?["name"] == "Sam Patel")
            }
            let tracking = try await h.call(.get, "/messageexchange/ALICE/outbox/tracking?messageID=\(id)", as: "ALICE")
            let handover = try #require(tracking.json["handover"] as? [String: Any])
            let responsibility = try #require(handover["responsibility"] as? [String: Any])
            #expect(
                responsibility["state"] as? String == "accepted"
                    && (responsibility["outcome"] as? [String: Any])?["code"] as? String == "services-arranged")
            let entries = handover["timeline"] as? [[String: Any]] ?? []
            let timeline = entries.compactMap { $0["event"] as? String }
            // Details are objects, not JSON text inside a string.
            let acceptedDetail = try #require(entries.first { $0["event"] as? String == "responsibility_accepted" }?["detail"] as? [String: Any])
            #expect(acceptedDetail["state"] as? String == "accepted")
            #expect(
                timeline == [
                    "delivered", "downloaded", "responsibility_accepted", "business_ack_sent", "acknowledged", "outcome", "business_ack_sent",
                ])
        }
    }

    @Test func aDeclineNeedsANoteTakesAReasonCodeAndTellsTheSenderAtOnce() async throws {
        let broker = try await TestBroker(routesYAML: escalationRoutes(), environment: escalationEnvironment)
        try await MeshHarness.run(broker) { h in
            let id = try await h.send(workflow: "SAFE")
            _ = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB")
            // A reason code outside the list is refused by its own code, and nothing is decided.
            let unknown = try await h.call(
                .post, "/messageexchange/BOB/inbox/\(id)/responsibility", as: "BOB",
                body: Array(#"{"decision":"decline","by":\#(somebody),"note":"n","reason":"<b>nope</b>"}"#.utf8))
            #expect(unknown.status == .badRequest && unknown.meshError?.code == "HANDOVER-UNKNOWN-DECLINE-REASON")
            #expect(unknown.meshError?.msg.contains("wrong-area") == true && unknown.meshError?.msg.contains("nope") == false)
            #expect(try await h.inbox("ALICE").isEmpty)
            let declined = try await h.call(
                .post, "/messageexchange/BOB/inbox/\(id)/responsibility", as: "BOB",
                body: Array(#"{"decision":"decline","by":\#(somebody),"note":"lives in another council's area","reason":"wrong-area"}"#.utf8))
            #expect(declined.json["state"] as? String == "declined" && declined.json["reason"] as? String == "wrong-area")
            let acks = try await h.inbox("ALICE")
            let ack = try await h.call(.get, "/messageexchange/ALICE/inbox/\(acks[0])", as: "ALICE")
            #expect(ack.json["responsibility"] as? String == "declined" && ack.json["note"] as? String == "lives in another council's area")
            #expect(ack.json["reason"] as? String == "wrong-area")
            let tracking = try await h.call(.get, "/messageexchange/ALICE/outbox/tracking?messageID=\(id)", as: "ALICE")
            let handover = try #require(tracking.json["handover"] as? [String: Any])
            #expect((handover["responsibility"] as? [String: Any])?["reason"] as? String == "wrong-area")
        }
    }
}

@Suite("Escalation alerts", .serialized)
struct EscalationTests {
    let start = CivilDateTime(year: 2026, month: 11, day: 25, hour: 10).timestamp

    func admin(_ broker: TestBroker) async throws -> String {
        let token = AdminTokenFormat.generate()
        try await broker.parts.store.createAdminToken(
            name: "duty", role: .operator, tokenHash: AdminTokenFormat.hash(token), expiresAt: nil, now: broker.clock.now)
        return "Bearer " + token
    }

    @Test func raisedOnceRepeatedAcknowledgedAndResolvedByAcceptance() async throws {
        let broker = try await TestBroker(routesYAML: escalationRoutes(), environment: escalationEnvironment, start: start)
        let scheduler = broker.parts.scheduler
        let auth = try await admin(broker)
        try await MeshHarness.run(broker) { h in
            let id = try await h.send(workflow: "SAFE")
            #expect(try await scheduler.tick(now: broker.clock.now).planned == 1)
            broker.clock.advance(seconds: 4 * 3600 - 1)
            #expect(try await scheduler.tick(now: broker.clock.now).raised.isEmpty)
            broker.clock.advance(seconds: 1)
            let raised = try await scheduler.tick(now: broker.clock.now).raised
            #expect(raised.count == 1)
            #expect(try await scheduler.tick(now: broker.clock.now).raised.isEmpty, "raised twice")
            // Delivered to CAROL's mailbox and the sender's, as HANDOVER_ALERT DATA messages.
            let carol = try await h.inbox("CAROL")
            #expect(carol.count == 1)
            let alertMessage = try await h.call(.get, "/messageexchange/CAROL/inbox/\(carol[0])", as: "CAROL")
            #expect(alertMessage.header("mex-workflowid") == "HANDOVER_ALERT" && alertMessage.header("mex-linkedmsgid") == id)
            #expect(alertMessage.header("mex-from") == "HANDOVER", "alerts say they come from the broker")
            #expect(alertMessage.json["condition"] as? String == "not-accepted" && alertMessage.json["alert_id"] as? String == raised[0])
            #expect(try await h.inbox("ALICE").count == 1)
            let open = try await h.call(.get, "/admin/alerts?state=open", accept: nil, authorization: auth)
            #expect((open.json["alerts"] as? [[String: Any]])?.count == 1)

            // Repeats every hour until acknowledged.
            broker.clock.advance(seconds: 3600)
            #expect(try await scheduler.tick(now: broker.clock.now).renotified == 1)
            #expect(try await h.inbox("CAROL").count == 2)
            let ack = try await h.call(
                .post, "/admin/alerts/\(raised[0])/acknowledge", body: Array(#"{"by":{"name":"Duty manager"},"note":"calling the team"}"#.utf8),
                accept: nil, authorization: auth)
            #expect(ack.json["state"] as? String == "acknowledged")
            // The operator's note is for operators: the sender's tracking shows the acknowledgement, not the note.
            let tracking = try await h.call(.get, "/messageexchange/ALICE/outbox/tracking?messageID=\(id)", as: "ALICE")
            #expect(tracking.status == .ok && tracking.text.contains("alert_acknowledged") && !tracking.text.contains("calling the team"))
            // "open" means unresolved in the API as in the metrics: the acknowledged alert is still listed.
            let stillOpen = try await h.call(.get, "/admin/alerts?state=open", accept: nil, authorization: auth)
            #expect((stillOpen.json["alerts"] as? [[String: Any]])?.first?["state"] as? String == "acknowledged")
            broker.clock.advance(seconds: 3600)
            let afterAck = try await scheduler.tick(now: broker.clock.now)
            #expect(afterAck.renotified == 0 && afterAck.notices == 1)
            // Everyone the alert reached hears of the acknowledgement: the duty mailbox with the note,
            // the sender without it, and the webhook as an alert.acknowledged event.
            let carolAfterAck = try await h.inbox("CAROL")
            #expect(carolAfterAck.count == 3)
            let ackNotice = try await h.call(.get, "/messageexchange/CAROL/inbox/\(carolAfterAck[2])", as: "CAROL")
            #expect(ackNotice.json["event"] as? String == "alert.acknowledged" && ackNotice.json["notice_note"] as? String == "calling the team")
            let aliceInbox = try await h.inbox("ALICE")
            let senderNotice = try await h.call(.get, "/messageexchange/ALICE/inbox/\(aliceInbox.last ?? "")", as: "ALICE")
            #expect(senderNotice.json["event"] as? String == "alert.acknowledged" && !senderNotice.text.contains("calling the team"))
            let deliveries = try await broker.parts.store.webhookDeliveries(alertID: raised[0])
            #expect(deliveries.contains { $0.body.contains("\"event\":\"alert.acknowledged\"") })
            #expect(try await scheduler.tick(now: broker.clock.now).notices == 0, "a notice is sent once")

            // Resolves only when a named person accepts, who is recorded and told to the same targets.
            _ = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB")
            #expect(try await broker.parts.store.alert(id: raised[0])?.state == .acknowledged)
            _ = try await h.call(
                .post, "/messageexchange/BOB/inbox/\(id)/responsibility", as: "BOB", body: Array(#"{"decision":"accept","by":\#(somebody)}"#.utf8))
            let resolved = try #require(try await broker.parts.store.alert(id: raised[0]))
            #expect(resolved.state == .resolved && resolved.resolvedReason == "responsibility_accepted" && resolved.resolvedBy != nil)
            #expect(try await scheduler.tick(now: broker.clock.now).notices == 1)
            let carolAfterResolve = try await h.inbox("CAROL")
            let resolvedNotice = try await h.call(.get, "/messageexchange/CAROL/inbox/\(carolAfterResolve.last ?? "")", as: "CAROL")
            #expect(resolvedNotice.json["event"] as? String == "alert.resolved" && resolvedNotice.json["resolved_by"] != nil)
            // The no-outcome stage still falls due at one day, since there is no outcome yet.
            broker.clock.advance(seconds: 86_400)
            #expect(try await scheduler.tick(now: broker.clock.now).raised.count == 1)
        }
    }

    /// With `acknowledgement_lapses_after: 2h`, an acknowledged alert whose condition still holds
    /// opens again two hours later and is re-notified; before then nothing is sent.
    @Test func anAcknowledgementLapsesAfterThePolicysTimeAndTheAlertRepeats() async throws {
        let routes = escalationRoutes().replacingOccurrences(
            of: "  - id: safe-policy\n", with: "  - id: safe-policy\n    acknowledgement_lapses_after: 2h\n")
        #expect(routes.contains("acknowledgement_lapses_after: 2h"))
        let broker = try await TestBroker(routesYAML: routes, environment: escalationEnvironment, start: start)
        let scheduler = broker.parts.scheduler
        let auth = try await admin(broker)
        try await MeshHarness.run(broker) { h in
            let id = try await h.send(workflow: "SAFE")
            _ = try await scheduler.tick(now: broker.clock.now)
            broker.clock.advance(seconds: 4 * 3600)
            let raised = try await scheduler.tick(now: broker.clock.now).raised
            let alertID = try #require(raised.first)
            let acknowledgedAt = broker.clock.now
            let ack = try await h.call(
                .post, "/admin/alerts/\(alertID)/acknowledge", body: Array(#"{"by":{"name":"Duty manager"},"note":"on it"}"#.utf8),
                accept: nil, authorization: auth)
            #expect(ack.json["state"] as? String == "acknowledged")
            #expect(try await broker.parts.store.alert(id: alertID)?.nextNotifyAt == acknowledgedAt.adding(seconds: 7200))
            let carolBefore = try await h.inbox("CAROL").count
            // The hourly repeat does not fire while the acknowledgement holds.
            broker.clock.advance(seconds: 3600)
            #expect(try await scheduler.tick(now: broker.clock.now).renotified == 0)
            broker.clock.advance(seconds: 3600)
            #expect(try await scheduler.tick(now: broker.clock.now).renotified == 1)
            let reopened = try #require(try await broker.parts.store.alert(id: alertID))
            #expect(reopened.state == .open && reopened.acknowledgedBy == nil)
            #expect(try await h.inbox("CAROL").count > carolBefore)
            #expect(try await broker.parts.store.events(messageID: MessageID(id)).contains { $0.kind == "alert_acknowledgement_lapsed" })
        }
    }

    @Test func aConditionClearedBeforeItsDeadlineRaisesNothing() async throws {
        let broker = try await TestBroker(routesYAML: escalationRoutes(), environment: escalationEnvironment, start: start)
        try await MeshHarness.run(broker) { h in
            let id = try await h.send(workflow: "SAFE")
            _ = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB")
            _ = try await h.call(
                .post, "/messageexchange/BOB/inbox/\(id)/responsibility", as: "BOB", body: Array(#"{"decision":"accept","by":\#(somebody)}"#.utf8))
            _ = try await h.call(
                .post, "/messageexchange/BOB/inbox/\(id)/outcome", as: "BOB", body: Array(#"{"code":"assessed","by":\#(somebody)}"#.utf8))
            broker.clock.advance(seconds: 2 * 86_400)
            let result = try await broker.parts.scheduler.tick(now: broker.clock.now)
            #expect(result.raised.isEmpty && result.planned == 1)
            #expect(try await h.inbox("CAROL").isEmpty)
        }
    }

    @Test func deadlinesSurviveARestartAndFireWhenTheBrokerReturns() async throws {
        let first = try await TestBroker(routesYAML: escalationRoutes(), environment: escalationEnvironment, start: start)
        try await MeshHarness.run(first) { h in _ = try await h.send(workflow: "SAFE") }
        try await first.parts.scheduler.tick(now: first.clock.now)
        // The broker is down for six hours, past the 4h deadline; a new process opens the same store.
        let second = try await TestBroker(
            routesYAML: escalationRoutes(), environment: escalationEnvironment,
            start: start.adding(seconds: 6 * 3600), reopening: first.folder)
        let raised = try await second.parts.scheduler.tick(now: second.clock.now).raised
        #expect(raised.count == 1)
        let alert = try #require(try await second.parts.store.alert(id: raised[0]))
        #expect(alert.dueAt == start.adding(seconds: 4 * 3600) && alert.raisedAt == start.adding(seconds: 6 * 3600))
    }

    @Test func twoSchedulersOnOneStoreRaiseEachAlertOnce() async throws {
        let broker = try await TestBroker(routesYAML: escalationRoutes(), environment: escalationEnvironment, start: start)
        try await MeshHarness.run(broker) { h in for _ in 0..<20 { _ = try await h.send(workflow: "SAFE") } }
        // A second scheduler with its own connection to the same store, as another process would have.
        let otherStore = try await StoreLocation(broker.configuration.database).open()
        let other = EscalationScheduler(
            store: otherStore, directory: broker.parts.directory, clock: { broker.clock.now }, logger: Logger(label: "other"))
        broker.clock.advance(seconds: 5 * 3600)
        let now = broker.clock.now
        async let a = broker.parts.scheduler.tick(now: now)
        async let b = other.tick(now: now)
        let (ra, rb) = try await (a, b)
        #expect(ra.raised.count + rb.raised.count == 20)
        #expect(Set(ra.raised).isDisjoint(with: rb.raised))
        #expect(try await broker.parts.store.alerts(state: .open, limit: 100).count == 20)
        await otherStore.close()
    }

    /// A webhook aimed at the broker's own network without `allow_private` is never posted: the attempt
    /// is refused and recorded, and retried later like any failure.
    @Test func aWebhookAimedAtALoopbackAddressIsRefused() async throws {
        let routes = escalationRoutes(webhookURL: "https://127.0.0.1:9/hook").replacingOccurrences(of: ", allow_private: true", with: "")
        let broker = try await TestBroker(routesYAML: routes, environment: escalationEnvironment, start: start)
        try await MeshHarness.run(broker) { h in _ = try await h.send(workflow: "SAFE") }
        broker.clock.advance(seconds: 4 * 3600)
        let alertID = try #require(try await broker.parts.scheduler.tick(now: broker.clock.now).raised.first)
        #expect(try await broker.parts.webhookSender.tick(now: broker.clock.now) == 1)
        let delivery = try #require(try await broker.parts.store.webhookDeliveries(alertID: alertID).first)
        let error = try #require(delivery.attemptLog.first?.error)
        #expect(error.contains("refused") && error.contains("loopback") && delivery.state == "pending", "\(error)")
    }

    @Test func webhookIsSignedAndRetriedAfterFailures() async throws {
        let received = WebhookLog()
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let signature = request.headers[HTTPField.Name("handover-signature")!] ?? ""
            let delivery = request.headers[HTTPField.Name("handover-delivery")!] ?? ""
            let mac = HMAC<SHA256>.authenticationCode(for: Array(body.readableBytesView), using: SymmetricKey(data: Array(hookSecret.utf8)))
            let valid = signature == "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
            let attempt = received.record(delivery: delivery, validSignature: valid, body: String(buffer: body))
            return Response(status: attempt <= 2 ? .internalServerError : .noContent)
        }
        let receiver = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await receiver.test(.live) { client in
            let port = try #require(client.port)
            let broker = try await TestBroker(
                routesYAML: escalationRoutes(webhookURL: "http://127.0.0.1:\(port)/hook"),
                environment: escalationEnvironment, start: start)
            let auth = try await admin(broker)
            try await MeshHarness.run(broker) { h in _ = try await h.send(workflow: "SAFE") }
            broker.clock.advance(seconds: 4 * 3600)
            let alertID = try #require(try await broker.parts.scheduler.tick(now: broker.clock.now).raised.first)
            let sender = broker.parts.webhookSender
            #expect(try await sender.tick(now: broker.clock.now) == 1)
            #expect(try await sender.tick(now: broker.clock.now) == 0, "retried before its backoff")
            for _ in 0..<2 {
                broker.clock.advance(seconds: 2 * 3600)
                #expect(try await sender.tick(now: broker.clock.now) == 1)
            }
            let log = received.entries
            #expect(log.count == 3 && log.allSatisfy(\.validSignature) && Set(log.map(\.delivery)).count == 1)
            #expect(log[0].body.contains(alertID) && !log[0].body.contains("hello bob"))
            try await MeshHarness.run(broker) { h in
                let detail = try await h.call(.get, "/admin/alerts/\(alertID)", accept: nil, authorization: auth)
                let delivery = try #require((detail.json["webhook_deliveries"] as? [[String: Any]])?.first)
                #expect(delivery["state"] as? String == "delivered" && delivery["attempts"] as? Int == 3)
                #expect((delivery["attempt_log"] as? [[String: Any]])?.compactMap { $0["status"] as? Int } == [500, 500, 204])
            }
        }
    }

    @Test func backoffGrowsToAnHourWithJitter() {
        #expect(WebhookSender.backoffSeconds(afterFailures: 1, jitter: 0.5) == 30)
        #expect(WebhookSender.backoffSeconds(afterFailures: 3, jitter: 0.5) == 120)
        #expect(WebhookSender.backoffSeconds(afterFailures: 20, jitter: 0.5) == 3600)
        #expect(WebhookSender.backoffSeconds(afterFailures: 20, jitter: 0) == 1800)
        #expect(WebhookSender.backoffSeconds(afterFailures: 20, jitter: 1) == 5400)
    }
}

final class WebhookLog: Sendable {
    struct Entry: Sendable {
        let delivery: String
        let validSignature: Bool
        let body: String
    }
    private let log = Mutex<[Entry]>([])
    func record(delivery: String, validSignature: Bool, body: String) -> Int {
        log.withLock {
            $0.append(Entry(delivery: delivery, validSignature: validSignature, body: body))
            return $0.count
        }
    }
    var entries: [Entry] { log.withLock { $0 } }
}

@Suite("The sample directory's safeguarding policy, and metrics")
struct SampleDirectoryEscalationTests {
    static let routes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Routes").path
    // A Wednesday morning, so the 4h stage falls inside the working day.
    let start = CivilDateTime(year: 2026, month: 11, day: 25, hour: 9, minute: 30).timestamp

    @Test func adultSafeguardingReferralEscalatesToTheDutyTeamAndResolvesOnAcceptance() async throws {
        let env = [
            "RX1DISCH_PASSWORD": "d", "LA713SAFE_PASSWORD": "s", "LA713EDT_PASSWORD": "e", "RX1SAFELEAD_PASSWORD": "l", "ONCALL_WEBHOOK_SECRET": "w",
        ]
        let broker = try await TestBroker(environment: env, start: start, routesFolder: Self.routes)
        try await MeshHarness.run(broker) { h in
            func auth(_ mb: String) -> String { broker.auth(mb, password: env[mb + "_PASSWORD"]) }
            let sent = try await h.call(
                .post, "/messageexchange/RX1DISCH/outbox", headers: ["mex-to": "POSTCODE:RV1", "mex-workflowid": "SAFEGUARDING_ADULT_REFERRAL"],
                body: Array("referral".utf8), authorization: auth("RX1DISCH"))
            let id = try #require(sent.json["message_id"] as? String)
            try await broker.parts.scheduler.tick(now: broker.clock.now)
            broker.clock.advance(seconds: 4 * 3600)
            let raised = try await broker.parts.scheduler.tick(now: broker.clock.now).raised
            #expect(raised.count == 1)
            // Beside the duty mailbox: the operations team's Alertmanager, the duty manager's email, the on-call webhook.
            let outside = try await broker.parts.store.webhookDeliveries(alertID: raised[0]).map(\.webhookID)
            #expect(Set(outside) == ["alertmanager", "mailto:duty-manager@riverside.example.org", "oncall"], "\(outside)")
            let duty = try await h.call(.get, "/messageexchange/LA713EDT/inbox", authorization: auth("LA713EDT"))
            #expect((duty.json["messages"] as? [String])?.count == 1)
            let senderAlerts = try await h.call(.get, "/messageexchange/RX1DISCH/inbox", authorization: auth("RX1DISCH"))
            #expect((senderAlerts.json["messages"] as? [String])?.count == 1)
            let metrics = try await h.call(.get, "/metrics")
            #expect(metrics.text.contains(#"handover_alerts_open{workflow="SAFEGUARDING_ADULT_REFERRAL",stage="1"} 1"#))
            #expect(metrics.text.contains("handover_escalation_lag_seconds_count 1"))
            #expect(metrics.text.contains("# HELP handover_escalation_lag_seconds How late an alert was raised after its stage fell due"))

            // A plain MESH send: delivered, its gaps shown to the council (the policy flags, never refuses).
            let record = try await h.call(.get, "/messageexchange/LA713SAFE/inbox/\(id)/crossing", authorization: auth("LA713SAFE")).json
            #expect(
                (record["flags"] as? [[String: Any]])?.filter { $0["shown"] as? Bool == true }.compactMap { $0["flow"] as? String }
                    == ["identity", "lawful_basis", "intent"])
            _ = try await h.call(.get, "/messageexchange/LA713SAFE/inbox/\(id)", authorization: auth("LA713SAFE"))
            // The council states its own lawful basis to accept (each controller needs its own).
            let withoutBasis = try await h.call(
                .post, "/messageexchange/LA713SAFE/inbox/\(id)/responsibility",
                body: Array(#"{"decision":"accept","by":\#(somebody)}"#.utf8), authorization: auth("LA713SAFE"))
            #expect(withoutBasis.status == .expectationFailed && withoutBasis.meshError?.code == "HANDOVER-RECEIVER-BASIS-REQUIRED")
            let basis = #""lawful_basis":{"article6":"A6-1e","article9":"A9-2b","dpa18_sch1":"S1-P2-18"}"#
            let accepted = try await h.call(
                .post, "/messageexchange/LA713SAFE/inbox/\(id)/responsibility",
                body: Array(#"{"decision":"accept","by":\#(somebody),\#(basis)}"#.utf8), authorization: auth("LA713SAFE"))
            #expect(accepted.status == .ok)
            #expect(try await broker.parts.store.alert(id: raised[0])?.state == .resolved)
            let after = try await h.call(.get, "/metrics")
            #expect(after.text.contains(#"handover_alerts_open{workflow="SAFEGUARDING_ADULT_REFERRAL",stage="1"} 0"#))
            #expect(after.text.contains("handover_acceptance_seconds_count 1"))
            // Stage 2 (one working day, to the trust's safeguarding lead) no longer holds.
            broker.clock.advance(seconds: 2 * 86_400)
            #expect(try await broker.parts.scheduler.tick(now: broker.clock.now).raised.isEmpty)
        }
    }

    @Test func aHillsideReferralAlertsHillsidesDutyTeamAndTheSendersLead() async throws {
        let env = [
            "RX1DISCH_PASSWORD": "d", "LA714SAFE_PASSWORD": "s", "LA713EDT_PASSWORD": "r", "LA714EDT_PASSWORD": "h",
            "RX1SAFELEAD_PASSWORD": "l", "ONCALL_WEBHOOK_SECRET": "w",
        ]
        let broker = try await TestBroker(environment: env, start: start, routesFolder: Self.routes)
        try await MeshHarness.run(broker) { h in
            func auth(_ mb: String) -> String { broker.auth(mb, password: env[mb + "_PASSWORD"]) }
            func inbox(_ mb: String) async throws -> Int {
                try await h.call(.get, "/messageexchange/\(mb)/inbox", authorization: auth(mb)).json["messages"].map { ($0 as? [String])?.count ?? 0 }
                    ?? 0
            }
            let sent = try await h.call(
                .post, "/messageexchange/RX1DISCH/outbox", headers: ["mex-to": "POSTCODE:HL1 2AB", "mex-workflowid": "SAFEGUARDING_ADULT_REFERRAL"],
                body: Array("referral".utf8), authorization: auth("RX1DISCH"))
            #expect(sent.status == .accepted)
            try await broker.parts.scheduler.tick(now: broker.clock.now)
            broker.clock.advance(seconds: 4 * 3600)
            #expect(try await broker.parts.scheduler.tick(now: broker.clock.now).raised.count == 1)
            // The council that holds the referral hears of it, not its neighbour.
            #expect(try await inbox("LA714EDT") == 1)
            #expect(try await inbox("LA713EDT") == 0)
            // A working day later, nobody has accepted: the sending trust's safeguarding lead is told.
            broker.clock.advance(seconds: 86_400)
            #expect(try await broker.parts.scheduler.tick(now: broker.clock.now).raised.count == 1)
            #expect(try await inbox("RX1SAFELEAD") == 1)
        }
    }
}
