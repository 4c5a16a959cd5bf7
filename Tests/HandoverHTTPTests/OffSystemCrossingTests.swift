import Foundation
import HandoverCore
import HandoverTestSupport
import Testing

/// A referral by phone, fax, email or paper is still a crossing: recorded, it lives under the same
/// responsibility and escalation as a message.
@Suite("Off-system crossings")
struct OffSystemCrossingTests {
    let start = CivilDateTime(year: 2026, month: 11, day: 25, hour: 9, minute: 30).timestamp

    func body(_ fields: String) -> [UInt8] { Array(fields.utf8) }

    @Test func aPhoneReferralEscalatesAndResolvesLikeAMessage() async throws {
        let broker = try await TestBroker(
            routesYAML: safeguardingRoutes(
                stages: "      - {after: 4h, when: not-accepted, notify: [{mailbox: CAROL}]}",
                webhooks: "  []"),
            start: start)
        var tokens: [AdminRole: String] = [:]
        for role in [AdminRole.viewer, .operator] {
            let token = AdminTokenFormat.generate()
            try await broker.parts.store.createAdminToken(
                name: "duty-\(role)", role: role, tokenHash: AdminTokenFormat.hash(token), expiresAt: nil,
                now: broker.clock.now)
            tokens[role] = token
        }
        let record = #"""
            {"channel":"phone","occurred_at":"2026-11-25T09:10:00Z","from_organisation":"X26","to":"X27","workflow":"SAFE",
             "summary":"Ward sister phoned: concern about a patient going home",
                 "crossing":{"subject":{"nhs_number":"4010232137","nhs_number_status":"01"},
             "provenance":{"author":{"name":"Sister Jo Adams","role":"Ward sister"},"created_at":"2026-11-25T09:10:00Z"}}}
            """#
        let viewer = tokens[.viewer]!, operatorToken = tokens[.operator]!
        try await MeshHarness.run(broker) { h in
            let json = ["content-type": "application/json"]
            #expect(
                try await h.call(
                    .post, "/admin/crossings", headers: json, body: body(record), accept: nil,
                    authorization: "Bearer \(viewer)"
                ).status == .forbidden)
            let created = try await h.call(
                .post, "/admin/crossings", headers: json, body: body(record), accept: nil,
                authorization: "Bearer \(operatorToken)")
            #expect(created.status == .created, "\(created.text)")
            let id = try #require(created.json["message_id"] as? String)
            #expect(created.json["recipient"] as? String == "BOB")

            // In the receiving mailbox as a notice MESH clients can read.
            #expect(try await h.inbox() == [id])
            let crossing = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)/crossing", as: "BOB").json
            let offSystem = try #require((crossing["derived"] as? [String: Any])?["off_system"] as? [String: Any])
            #expect(
                offSystem["channel"] as? String == "phone" && offSystem["workflow_id"] as? String == "SAFE"
                    && offSystem["recorded_by"] as? String == "duty-operator")
            #expect((crossing["subjects"] as? [[String: Any]])?.first?["nhs_number"] as? String == "4010232137")
            // Listed and searchable with messages.
            let search = try await h.call(.get, "/admin/messages?workflow=HANDOVER_OFFSYSTEM", accept: nil, authorization: "Bearer \(viewer)")
            #expect(search.text.contains(id) && !search.text.contains("4010232137"))

            // Nobody accepts within 4 hours: the workflow's escalation raises an alert to CAROL.
            try await broker.parts.scheduler.tick(now: broker.clock.now)
            broker.clock.advance(seconds: 4 * 3600)
            let raised = try await broker.parts.scheduler.tick(now: broker.clock.now).raised
            #expect(raised.count == 1)
            #expect(try await h.inbox("CAROL").count == 1)
            // A named person downloads and accepts: the alert resolves.
            let notice = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB")
            #expect(notice.header("mex-workflowid") == "HANDOVER_OFFSYSTEM" && notice.header("mex-from") == "HANDOVER")
            #expect(notice.json["event"] as? String == "offsystem_crossing" && notice.json["channel"] as? String == "phone")
            #expect(!notice.text.contains("4010232137"))
            let accepted = try await h.call(
                .post, "/messageexchange/BOB/inbox/\(id)/responsibility", as: "BOB",
                body: body(#"{"decision":"accept","by":{"name":"Sam Patel"}}"#))
            #expect(accepted.status == .ok)
            #expect(try await broker.parts.store.alert(id: raised[0])?.state == .resolved)
            let outcome = try await h.call(
                .post, "/messageexchange/BOB/inbox/\(id)/outcome", as: "BOB",
                body: body(#"{"code":"s42-enquiry","by":{"name":"Sam Patel"}}"#))
            #expect(outcome.status == .ok)

            // Audited, without who it was about.
            let audit = try await h.call(.get, "/admin/audit", accept: nil, authorization: "Bearer \(operatorToken)")
            #expect(audit.text.contains("crossing.offsystem_recorded") && !audit.text.contains("4010232137"))
        }
    }

    @Test func badRecordsAreRefusedClearly() async throws {
        let broker = try await TestBroker(routesYAML: escalationRoutes(), environment: escalationEnvironment)
        let token = AdminTokenFormat.generate()
        try await broker.parts.store.createAdminToken(
            name: "op", role: .operator, tokenHash: AdminTokenFormat.hash(token), expiresAt: nil, now: broker.clock.now)
        let future = broker.clock.now.adding(seconds: 86_400).isoUTC
        let cases: [(String, Int, String)] = [
            (
                #"{"channel":"carrier-pigeon","occurred_at":"2026-11-25T09:10:00Z","from_organisation":"X26","to":"X27","workflow":"SAFE"}"#, 400,
                "channel"
            ),
            (#"{"channel":"phone","occurred_at":"\#(future)","from_organisation":"X26","to":"X27","workflow":"SAFE"}"#, 400, "future"),
            (#"{"channel":"phone","occurred_at":"yesterday","from_organisation":"X26","to":"X27","workflow":"SAFE"}"#, 400, "occurred_at"),
            (#"{"channel":"phone","occurred_at":"2026-11-25T09:10:00Z","to":"X27","workflow":"SAFE"}"#, 400, "anonymous"),
            (
                #"{"channel":"phone","occurred_at":"2026-11-25T09:10:00Z","from_organisation":"NOPE","to":"X27","workflow":"SAFE"}"#, 400,
                "from_organisation"
            ),
            (#"{"channel":"phone","occurred_at":"2026-11-25T09:10:00Z","from_organisation":"X26","to":"X27","workflow":"NOPE"}"#, 400, "workflow"),
            (
                #"{"channel":"phone","occurred_at":"2026-11-25T09:10:00Z","from_organisation":"X26","to":"NOWHERE","workflow":"SAFE"}"#, 422,
                "Unregistered"
            ),
            (
                #"{"channel":"phone","occurred_at":"2026-11-25T09:10:00Z","from_organisation":"X26","to":"X27","workflow":"SAFE","#
                    + #""crossing":{"subject":{"nhs_number":"4010232138"}}}"#,
                400, "subject.nhs_number"
            ),
            (#"{"channel":"phone""#, 400, "JSON"),
        ]
        try await MeshHarness.run(broker) { h in
            for (record, status, words) in cases {
                let r = try await h.call(
                    .post, "/admin/crossings", headers: ["content-type": "application/json"], body: body(record), accept: nil,
                    authorization: "Bearer \(token)")
                #expect(Int(r.status.code) == status && r.text.contains(words), "\(words): \(r.status) \(r.text)")
                #expect(!r.text.contains("4010232138"))
            }
            #expect(try await h.inbox().isEmpty)
            // A member of the public may stay anonymous; gaps are flagged, never refused.
            let anonymous = try await h.call(
                .post, "/admin/crossings", headers: ["content-type": "application/json"],
                body: body(#"{"channel":"phone","occurred_at":"2026-11-25T09:10:00Z","anonymous":true,"to":"X27","workflow":"SAFE"}"#),
                accept: nil, authorization: "Bearer \(token)")
            #expect(anonymous.status == .created)
        }
    }
}
