import CompressNIO
import Foundation
import HTTPTypes
import HandoverCore
import HandoverTestSupport
import NIOCore
import Testing

/// What an authenticated caller could once use to crash, stall or exhaust the broker, or to get past
/// a fence. Each test failed (or crashed the test process) before its fix.
@Suite("Hardening over HTTP")
struct HardeningHTTPTests {
    func token(_ broker: TestBroker, role: AdminRole, expiresAt: Timestamp? = nil) async throws -> (id: Int64, header: String) {
        let token = AdminTokenFormat.generate()
        let id = try await broker.parts.store.createAdminToken(
            name: "\(role)", role: role, tokenHash: AdminTokenFormat.hash(token),
            expiresAt: expiresAt, now: broker.clock.now)
        return (id, "Bearer " + token)
    }

    @Test func aViewerCannotCrashTheBrokerWithANonASCIIDigit() async throws {
        let broker = try await TestBroker()
        let viewer = try await token(broker, role: .viewer).header
        try await MeshHarness.run(broker) { h in
            let response = try await h.call(.get, "/admin/messages?since=%E0%B9%92", accept: nil, authorization: viewer)
            #expect(response.status == .badRequest && response.text.contains("ISO-8601"))
            #expect(try await h.call(.get, "/admin/messages?since=2026-11-25", accept: nil, authorization: viewer).status == .ok)
        }
    }

    @Test func listLimitsAreClampedOrRefused() async throws {
        let broker = try await TestBroker()
        let viewer = try await token(broker, role: .viewer).header
        try await MeshHarness.run(broker) { h in
            for path in ["/admin/alerts?limit=-1", "/admin/alerts?limit=99999999", "/admin/messages?limit=-5", "/admin/audit?limit=0"] {
                let status = try await h.call(.get, path, accept: nil, authorization: viewer).status
                #expect(status == .ok, "\(path)")
            }
            let wordy = try await h.call(.get, "/admin/alerts?limit=lots", accept: nil, authorization: viewer)
            #expect(wordy.status == .badRequest)
        }
    }

    @Test func expiredAndRevokedTokensAreRefused() async throws {
        let broker = try await TestBroker()
        let expiring = try await token(broker, role: .viewer, expiresAt: broker.clock.now.adding(seconds: 60))
        let revoked = try await token(broker, role: .admin)
        try await MeshHarness.run(broker) { h in
            #expect(try await h.call(.get, "/admin/directory", accept: nil, authorization: expiring.header).status == .ok)
            #expect(try await h.call(.get, "/admin/directory", accept: nil, authorization: revoked.header).status == .ok)
            broker.clock.advance(seconds: 61)
            #expect(try await h.call(.get, "/admin/directory", accept: nil, authorization: expiring.header).status == .unauthorized)
            #expect(try await broker.parts.store.revokeAdminToken(id: revoked.id, actor: "test", now: broker.clock.now))
            #expect(!(try await broker.parts.store.revokeAdminToken(id: revoked.id, actor: "test", now: broker.clock.now)))
            #expect(try await h.call(.get, "/admin/directory", accept: nil, authorization: revoked.header).status == .unauthorized)
            let listed = try await broker.parts.store.adminTokens()
            #expect(listed.first { $0.id == revoked.id }?.revokedAt != nil)
            #expect(listed.first { $0.id == expiring.id }?.isUsable(now: broker.clock.now) == false)
            let audit = try await broker.parts.store.auditEntries(afterSequence: 0, limit: 100).map(\.action)
            #expect(audit.contains("admin.token_revoked"))
        }
    }

    @Test func aMistypedKeyInAnEditIsRefusedWithTheNearestKey() async throws {
        let broker = try await TestBroker()
        let admin = try await token(broker, role: .admin).header
        try await MeshHarness.run(broker) { h in
            let edit = try await h.call(
                .put, "/admin/workflows/WF", headers: ["content-type": "application/yaml"],
                body: Array("id: WF\nsenders: ['*']\nreceivers: ['*']\nescalaton: sg\n".utf8), accept: nil, authorization: admin)
            #expect(edit.status == .unprocessableContent)
            #expect(edit.text.contains("escalaton") && edit.text.contains("did you mean `escalation`?"))
            let deep = try await h.call(
                .put, "/admin/directory?dry_run=true", headers: ["content-type": "application/json"],
                body: Array(String(repeating: "[", count: 50_000).utf8), accept: nil, authorization: admin)
            #expect(deep.status == .unprocessableContent && deep.text.contains("nests deeper"))
        }
    }

    @Test func literalWebhookSecretsAndPlainHTTPWebhooksAreRefused() async throws {
        let broker = try await TestBroker()
        let admin = try await token(broker, role: .admin).header
        try await MeshHarness.run(broker) { h in
            let literal = try await h.call(
                .put, "/admin/webhooks/hook", headers: ["content-type": "application/json"],
                body: Array(#"{"id":"hook","url":"https://alerts.example.org","secret":"hunter2"}"#.utf8), accept: nil, authorization: admin)
            #expect(literal.status == .unprocessableContent && literal.text.contains("literal secrets"))
            #expect(!literal.text.contains("hunter2"))
            let unset = try await h.call(
                .put, "/admin/webhooks/hook", headers: ["content-type": "application/json"],
                body: Array(#"{"id":"hook","url":"https://alerts.example.org","secret":"${NOT_SET_ANYWHERE}"}"#.utf8), accept: nil,
                authorization: admin)
            #expect(unset.status == .unprocessableContent && unset.text.contains("NOT_SET_ANYWHERE is not set"))
            let plain = try await h.call(
                .put, "/admin/webhooks/hook", headers: ["content-type": "application/json"],
                body: Array(#"{"id":"hook","url":"http://alerts.example.org","secret":"${ALICE_PW}"}"#.utf8), accept: nil, authorization: admin)
            #expect(plain.status == .unprocessableContent && plain.text.contains("https://"))
            let good = try await h.call(
                .put, "/admin/webhooks/hook", headers: ["content-type": "application/json"],
                body: Array(#"{"id":"hook","url":"https://alerts.example.org","secret":"${ALICE_PW}"}"#.utf8), accept: nil, authorization: admin)
            #expect(good.status == .ok)
            // Nothing notifies it yet: valid, with a warning.
            #expect(good.text.contains("no escalation policy notifies this webhook"))
        }
    }

    @Test func aGzipBombIsRefusedWithoutInflatingIt() async throws {
        try await MeshHarness.run { h in
            var zeros = ByteBuffer(repeating: 0, count: 64 << 20)
            let bomb = Array(try zeros.compress(with: .gzip()).readableBytesView)
            #expect(bomb.count < 200_000)
            let response = try await h.call(
                .post, "/messageexchange/ALICE/outbox", as: "ALICE",
                headers: ["mex-to": "BOB", "mex-workflowid": "WF", "content-encoding": "gzip"], body: bomb)
            #expect(response.status.code == 413, "\(response.status) \(response.text)")
            #expect(try await h.inbox().isEmpty)
            // An ordinary gzip body still goes through.
            var text = ByteBuffer(string: String(repeating: "discharge summary ", count: 100))
            let ordinary = Array(try text.compress(with: .gzip()).readableBytesView)
            _ = try await h.send(body: ordinary, headers: ["content-encoding": "gzip"])
        }
    }

    @Test func aTokenDatedTwoHoursAheadCannotBeReplayedTwoHoursAfterItsFirstUse() async throws {
        let broker = try await TestBroker()
        try await MeshHarness.run(broker) { h in
            let ahead = broker.clock.now.adding(seconds: 2 * 3600 - 60)
            let header = MeshTokenFactory.header(mailbox: "ALICE", password: "alice-secret", sharedKey: TestBroker.sharedKey, now: ahead)
            #expect(try await h.call(.get, "/messageexchange/ALICE/count", authorization: header).status == .ok)
            // Past the window counted from first use (the old rule), still inside the token's own validity.
            broker.clock.advance(seconds: 2 * 3600 + 300)
            let replay = try await h.call(.get, "/messageexchange/ALICE/count", authorization: header)
            #expect(replay.status == .forbidden, "a spent token was accepted again \(2 * 3600 + 300) s later")
        }
    }

    @Test func repeatedFailedAuthenticationFromOneAddressIsSlowedDown() async throws {
        try await MeshHarness.run { h in
            var statuses: [Int] = []
            for _ in 0..<40 {
                statuses.append(
                    try await h.call(.get, "/messageexchange/ALICE/count", authorization: "NHSMESH ALICE:x:0:202611251725:bad").status.code)
            }
            #expect(statuses.prefix(30).allSatisfy { $0 == 403 })
            #expect(statuses.suffix(5).allSatisfy { $0 == 429 })
            // The budget is per address and mailbox: a valid token for ALICE from here waits too, BOB does not.
            #expect(try await h.call(.get, "/messageexchange/ALICE/count", as: "ALICE").status.code == 429)
            #expect(try await h.call(.get, "/messageexchange/BOB/count", as: "BOB").status.code == 200)
        }
    }
}
