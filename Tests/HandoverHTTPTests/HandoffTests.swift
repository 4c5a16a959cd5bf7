import Foundation
import HandoverCore
import HandoverTestSupport
import HummingbirdTesting
import Testing

/// SAFE (ALICE to X27 or X28, responsibility required, alerts at 4h); ALICE's organisation names
/// LEAD as its safeguarding lead. BOB is X27's mailbox, CAROL X28's.
private let handoffRoutes = """
    organisations:
      - {code: X26, name: Org X26, domain: nhs, safeguarding_lead: LEAD}
      - {code: X27, name: Org X27, domain: local-authority}
      - {code: X28, name: Org X28, domain: local-authority}
    mailboxes:
      - {id: ALICE, organisation: X26, name: Alice box, password: "${ALICE_PW}"}
      - {id: LEAD, organisation: X26, name: Safeguarding lead, password: "${LEAD_PW}"}
      - {id: BOB, organisation: X27, name: Bob box, password: "${BOB_PW}"}
      - {id: CAROL, organisation: X28, name: Carol box, password: "${CAROL_PW}"}
    workflows:
      - {id: SAFE, senders: [ALICE], receivers: [X27, X28], responsibility: required, escalation: safe-policy, safeguarding: true}
      - {id: SAFE_ACK, senders: [X27, X28], receivers: [ALICE]}
      - {id: WF, senders: [ALICE], receivers: [X27]}
    escalation_policies:
      - id: safe-policy
        stages:
          - {after: 4h, when: not-accepted, notify: [{sender: true}]}
    """

/// The test harness signs a mailbox with no password of its own with "password".
private let handoffEnvironment = TestBroker.passwords.merging(["LEAD_PW": "password"]) { $1 }

private let person = #"{"name":"Sam Patel","role":"Social worker"}"#

@Suite("Redirect, withdraw and amend")
struct HandoffTests {
    let start = CivilDateTime(year: 2026, month: 11, day: 25, hour: 10).timestamp

    @Test func aRedirectMovesTheMessageKeepsItsClockAndTellsTheSender() async throws {
        let broker = try await TestBroker(routesYAML: handoffRoutes, environment: handoffEnvironment, start: start)
        let scheduler = broker.parts.scheduler
        try await MeshHarness.run(broker) { h in
            let id = try await h.send(workflow: "SAFE", headers: ["mex-localid": "ref-9"])
            #expect(try await scheduler.tick(now: broker.clock.now).planned == 1)
            _ = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB")
            let path = "/messageexchange/BOB/inbox/\(id)/redirect"
            func redirect(_ json: String, as mailbox: String = "BOB", to uri: String? = nil) async throws -> TestResponse {
                try await h.call(.post, uri ?? path, as: mailbox, body: Array(json.utf8))
            }
            // Refusals: no person, no note, back to itself, somewhere the sender may not send, not the recipient.
            #expect(try await redirect(#"{"to":"CAROL","note":"theirs"}"#).meshError?.code == "HANDOVER-PERSON-REQUIRED")
            #expect(try await redirect(#"{"to":"CAROL","by":\#(person)}"#).meshError?.code == "HANDOVER-NOTE-REQUIRED")
            #expect(try await redirect(#"{"to":"BOB","by":\#(person),"note":"n"}"#).meshError?.code == "HANDOVER-REDIRECT-REFUSED")
            #expect(try await redirect(#"{"to":"ALICE","by":\#(person),"note":"n"}"#).status != .ok)
            #expect(
                try await redirect(#"{"to":"CAROL","by":\#(person),"note":"n"}"#, as: "CAROL", to: "/messageexchange/CAROL/inbox/\(id)/redirect")
                    .status == .forbidden)
            #expect(try await redirect("not json").status == .badRequest)
            #expect(try await h.inbox("ALICE").isEmpty, "a refused redirect tells nobody")

            let moved = try await redirect(#"{"to":"X28","by":\#(person),"note":"lives in Carol's council area"}"#)
            #expect(moved.status == .ok && moved.json["recipient"] as? String == "CAROL", "\(moved.status) \(moved.text)")
            #expect(try await h.inbox("BOB").isEmpty)
            #expect(try await h.inbox("CAROL") == [id])
            // The new recipient sees it unread, with its history; the old one no longer can.
            #expect(try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB").status == .forbidden)
            #expect(try await h.call(.get, "/messageexchange/CAROL/inbox/\(id)", as: "CAROL").status == .ok)

            // The sender's poll has the redirect, naming where it went.
            let acks = try await h.inbox("ALICE")
            #expect(acks.count == 1)
            let ack = try await h.call(.get, "/messageexchange/ALICE/inbox/\(acks[0])", as: "ALICE")
            #expect(ack.header("mex-workflowid") == "SAFE_ACK" && ack.header("mex-linkedmsgid") == id)
            #expect(ack.json["event"] as? String == "redirected" && ack.json["recipient"] as? String == "CAROL")
            let hops = try #require(ack.json["redirects"] as? [[String: Any]])
            #expect(hops.count == 1 && hops[0]["from"] as? String == "BOB" && hops[0]["to"] as? String == "CAROL")
            let tracking = try await h.call(.get, "/messageexchange/ALICE/outbox/tracking?messageID=\(id)", as: "ALICE")
            #expect(tracking.json["recipient"] as? String == "CAROL")
            let timeline = ((tracking.json["handover"] as? [String: Any])?["timeline"] as? [[String: Any]] ?? []).compactMap {
                $0["event"] as? String
            }
            #expect(timeline.contains("redirected"))

            // The clock travelled: the not-accepted alert still falls due four hours after the first delivery.
            broker.clock.advance(seconds: 4 * 3600)
            #expect(try await scheduler.tick(now: broker.clock.now).raised.count == 1)
            // CAROL decides; BOB cannot.
            _ = try await h.call(
                .post, "/messageexchange/CAROL/inbox/\(id)/responsibility", as: "CAROL", body: Array(#"{"decision":"accept","by":\#(person)}"#.utf8))
            #expect(try await broker.parts.store.message(MessageID(id))?.responsibility?.state == .accepted)
            // Once decided, it cannot be redirected.
            let late = try await redirect(#"{"to":"BOB","by":\#(person),"note":"n"}"#, as: "CAROL", to: "/messageexchange/CAROL/inbox/\(id)/redirect")
            #expect(late.meshError?.code == "HANDOVER-ALREADY-DECIDED")
        }
    }

    @Test func aWithdrawalTellsTheReceiverAndStopsEscalation() async throws {
        let broker = try await TestBroker(routesYAML: handoffRoutes, environment: handoffEnvironment, start: start)
        let scheduler = broker.parts.scheduler
        try await MeshHarness.run(broker) { h in
            let id = try await h.send(workflow: "SAFE")
            #expect(try await scheduler.tick(now: broker.clock.now).planned == 1)
            let path = "/messageexchange/ALICE/outbox/\(id)/withdraw"
            #expect(try await h.call(.post, path, as: "ALICE", body: Array(#"{"by":\#(person)}"#.utf8)).meshError?.code == "HANDOVER-NOTE-REQUIRED")
            #expect(
                try await h.call(.post, "/messageexchange/BOB/outbox/\(id)/withdraw", as: "BOB", body: Array(#"{"by":\#(person),"reason":"r"}"#.utf8))
                    .status == .forbidden)
            let withdrawn = try await h.call(.post, path, as: "ALICE", body: Array(#"{"by":\#(person),"reason":"patient admitted again"}"#.utf8))
            #expect(withdrawn.status == .ok)
            #expect((withdrawn.json["responsibility"] as? [String: Any])?["state"] as? String == "withdrawn")
            #expect(
                try await h.call(.post, path, as: "ALICE", body: Array(#"{"by":\#(person),"reason":"again"}"#.utf8)).meshError?.code
                    == "HANDOVER-CLOSED-BY-SENDER")
            // The receiver's poll has the notice, linked to the message.
            let inbox = try await h.inbox("BOB")
            #expect(inbox.count == 2)
            let notice = try await h.call(.get, "/messageexchange/BOB/inbox/\(inbox[1])", as: "BOB")
            #expect(notice.header("mex-workflowid") == "HANDOVER_NOTICE" && notice.header("mex-linkedmsgid") == id)
            #expect(notice.json["event"] as? String == "withdrawn" && notice.json["reason"] as? String == "patient admitted again")
            // Nothing more is decided on it, and its deadline raises nothing.
            _ = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB")
            let accept = try await h.call(
                .post, "/messageexchange/BOB/inbox/\(id)/responsibility", as: "BOB", body: Array(#"{"decision":"accept","by":\#(person)}"#.utf8))
            #expect(accept.meshError?.code == "HANDOVER-CLOSED-BY-SENDER")
            broker.clock.advance(seconds: 5 * 3600)
            #expect(try await scheduler.tick(now: broker.clock.now).raised.isEmpty)
        }
    }

    @Test func anAmendmentDeliversALinkedReplacementAndRestartsEscalation() async throws {
        let broker = try await TestBroker(routesYAML: handoffRoutes, environment: handoffEnvironment, start: start)
        let scheduler = broker.parts.scheduler
        try await MeshHarness.run(broker) { h in
            let id = try await h.send(workflow: "SAFE", body: Array("first version".utf8))
            #expect(try await scheduler.tick(now: broker.clock.now).planned == 1)
            broker.clock.advance(seconds: 3 * 3600)
            let about = base64URLEncode(Array(#"{"by":\#(person),"reason":"wrong date of discharge"}"#.utf8))
            let path = "/messageexchange/ALICE/outbox/\(id)/amend"
            #expect(try await h.call(.post, path, as: "ALICE", headers: ["mex-handover-amend": "%%%"], body: Array("x".utf8)).status == .badRequest)
            #expect(try await h.call(.post, path, as: "ALICE", headers: ["mex-handover-amend": about], body: []).status != .accepted)
            #expect(
                try await h.call(
                    .post, "/messageexchange/BOB/outbox/\(id)/amend", as: "BOB", headers: ["mex-handover-amend": about], body: Array("x".utf8)
                )
                .status == .forbidden)
            let amended = try await h.call(
                .post, path, as: "ALICE", headers: ["mex-handover-amend": about, "mex-localid": "ref-2"], body: Array("second version".utf8))
            #expect(amended.status == .accepted && amended.json["replaces"] as? String == id)
            let newID = try #require(amended.json["message_id"] as? String)
            let replacement = try await h.call(.get, "/messageexchange/BOB/inbox/\(newID)", as: "BOB")
            #expect(replacement.text == "second version" && replacement.header("mex-linkedmsgid") == id)
            #expect(replacement.header("mex-workflowid") == "SAFE" && replacement.header("mex-localid") == "ref-2")
            let original = try #require(try await broker.parts.store.message(MessageID(id)))
            #expect(original.responsibility?.state == .amended && original.responsibility?.replacedBy == newID)
            // The original's deadline (4h after its delivery) raises nothing; the replacement's own
            // falls due four hours after the amendment.
            #expect(try await scheduler.tick(now: broker.clock.now).planned == 1)
            broker.clock.advance(seconds: 3600)
            #expect(try await scheduler.tick(now: broker.clock.now).raised.isEmpty)
            broker.clock.advance(seconds: 3 * 3600)
            let raised = try await scheduler.tick(now: broker.clock.now).raised
            #expect(raised.count == 1)
            #expect(try await broker.parts.store.alert(id: raised[0])?.messageID.rawValue == newID)
        }
    }

    @Test func aDeclinedSafeguardingReferralAlertsTheSendersLead() async throws {
        let broker = try await TestBroker(routesYAML: handoffRoutes, environment: handoffEnvironment, start: start)
        try await MeshHarness.run(broker) { h in
            let id = try await h.send(workflow: "SAFE")
            _ = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB")
            let declined = try await h.call(
                .post, "/messageexchange/BOB/inbox/\(id)/responsibility", as: "BOB",
                body: Array(#"{"decision":"decline","by":\#(person),"note":"Mrs Example is not known to us","reason":"not-eligible"}"#.utf8))
            #expect(declined.status == .ok)
            let lead = try await h.inbox("LEAD")
            #expect(lead.count == 1)
            let alert = try await h.call(.get, "/messageexchange/LEAD/inbox/\(lead[0])", as: "LEAD")
            #expect(alert.header("mex-workflowid") == "HANDOVER_ALERT" && alert.header("mex-linkedmsgid") == id)
            #expect(alert.json["event"] as? String == "safeguarding_referral_declined" && alert.json["reason"] as? String == "not-eligible")
            #expect(!alert.text.contains("Mrs Example"), "the note stays out of the alert")
            // A workflow that is not safeguarding alerts nobody.
            let plain = try await h.send(workflow: "WF")
            _ = try await h.call(.get, "/messageexchange/BOB/inbox/\(plain)", as: "BOB")
            _ = try await h.call(
                .post, "/messageexchange/BOB/inbox/\(plain)/responsibility", as: "BOB",
                body: Array(#"{"decision":"decline","by":\#(person),"note":"n"}"#.utf8))
            #expect(try await h.inbox("LEAD").count == 1)
        }
    }

    @Test func onlyAMessageInItsRecipientsHandsCanBeMovedOrChanged() async throws {
        let broker = try await TestBroker(routesYAML: handoffRoutes, environment: handoffEnvironment, start: start)
        try await MeshHarness.run(broker) { h in
            // Still uploading: the first of two chunks only.
            let first = try await h.call(
                .post, "/messageexchange/ALICE/outbox", as: "ALICE", headers: ["mex-to": "BOB", "mex-workflowid": "SAFE", "mex-chunk-range": "1:2"],
                body: Array("part one".utf8))
            let uploading = try #require(first.json["message_id"] as? String)
            let withdraw = try await h.call(
                .post, "/messageexchange/ALICE/outbox/\(uploading)/withdraw", as: "ALICE", body: Array(#"{"by":\#(person),"reason":"r"}"#.utf8))
            #expect(withdraw.status == .conflict && withdraw.meshError?.code == "HANDOVER-NOT-DELIVERED")
            let about = base64URLEncode(Array(#"{"by":\#(person),"reason":"r"}"#.utf8))
            let amend = try await h.call(
                .post, "/messageexchange/ALICE/outbox/\(uploading)/amend", as: "ALICE", headers: ["mex-handover-amend": about], body: Array("x".utf8))
            #expect(amend.meshError?.code == "HANDOVER-NOT-DELIVERED")
            // Expired unread: nobody has it any more, so it cannot be sent on.
            let id = try await h.send(workflow: "SAFE")
            #expect(try await broker.parts.store.expireDue(now: broker.clock.now.adding(seconds: 6 * 86_400), policy: ExpiryPolicy(), limit: 10) == 1)
            let redirect = try await h.call(
                .post, "/messageexchange/BOB/inbox/\(id)/redirect", as: "BOB", body: Array(#"{"to":"CAROL","by":\#(person),"note":"n"}"#.utf8))
            #expect(redirect.meshError?.code == "HANDOVER-NOT-DELIVERED")
            #expect(try await h.inbox("CAROL").isEmpty)
        }
    }
}
