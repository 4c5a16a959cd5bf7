import HandoverCore
import HandoverTestSupport
import Testing

@Suite("MESH authentication over HTTP")
struct AuthenticationTests {
    static let handshake = ["mex-clientversion": "test==1", "mex-osname": "Linux", "mex-osversion": "6"]

    @Test func handshakeInBothVersions() async throws {
        try await MeshHarness.run { h in
            let v2 = try await h.call(.post, "/messageexchange/ALICE", as: "ALICE", headers: Self.handshake)
            #expect(v2.status == .ok && v2.body.readableBytes == 0)
            let v1 = try await h.call(.post, "/messageexchange/ALICE", as: "ALICE", headers: Self.handshake, accept: "application/json")
            #expect(v1.status == .ok && v1.json["mailboxId"] as? String == "ALICE")
            let missing = try await h.call(.post, "/messageexchange/ALICE", as: "ALICE")
            #expect(missing.status == .badRequest)
        }
    }

    @Test func refusesBadTokensWithMeshTexts() async throws {
        try await MeshHarness.run { h in
            let cases: [(String?, String, String)] = [
                (nil, "ALICE", "Error reading from Authorization header"),
                (h.broker.auth("ALICE", password: "wrong"), "ALICE", "Invalid Authentication Token"),
                (h.broker.auth("BOB"), "ALICE", "Mailbox id does not match token"),
                ("Bearer token", "ALICE", "Mailbox id does not match token"),
                (h.broker.auth("NOBODY"), "NOBODY", "No mailbox matched"),
                (h.broker.auth("DAVE"), "DAVE", "Invalid Authentication Token"),
            ]
            for (header, mailbox, text) in cases {
                let r = try await h.call(.post, "/messageexchange/\(mailbox)", headers: Self.handshake, authorization: header ?? "")
                #expect(r.status == .forbidden, "\(text)")
                #expect(r.meshError?.msg == text)
            }
            let unknown = try await h.call(.post, "/messageexchange/NOBODY", headers: Self.handshake, authorization: h.broker.auth("NOBODY"))
            #expect(unknown.meshError?.code == "EPL-151")
        }
    }

    @Test func tokensAreSingleUseAndTimeBound() async throws {
        try await MeshHarness.run { h in
            let token = h.broker.auth("ALICE")
            let first = try await h.call(.post, "/messageexchange/ALICE", headers: Self.handshake, authorization: token)
            let replayed = try await h.call(.post, "/messageexchange/ALICE", headers: Self.handshake, authorization: token)
            #expect(first.status == .ok && replayed.status == .forbidden)
            let stale = h.broker.auth("ALICE")
            h.broker.clock.advance(seconds: 2 * 3600 + 120)
            let late = try await h.call(.post, "/messageexchange/ALICE", headers: Self.handshake, authorization: stale)
            let fresh = try await h.call(.post, "/messageexchange/ALICE", as: "ALICE", headers: Self.handshake)
            #expect(late.status == .forbidden && fresh.status == .ok)
        }
    }

    @Test func malformedAcceptIsABadRequest() async throws {
        try await MeshHarness.run { h in
            let r = try await h.call(.get, "/messageexchange/BOB/inbox", as: "BOB", accept: "application/vnd.mesh.v2+xml")
            // Like the sandbox, the version cannot be known, so the body has the v1 shape.
            #expect(r.status == .badRequest && r.json["errorDescription"] as? String == "Accept header api format incorrect")
        }
    }

    @Test func healthNeedsNoToken() async throws {
        try await MeshHarness.run { h in
            for path in ["/health", "/messageexchange/_ping", "/_ping"] {
                let r = try await h.call(.get, path)
                #expect(r.status == .ok && r.json["status"] as? String == "running")
            }
        }
    }
}
