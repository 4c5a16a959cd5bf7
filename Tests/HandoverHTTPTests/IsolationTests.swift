import HTTPTypes
import HandoverCore
import HandoverTestSupport
import Testing

@Suite("Mailbox isolation")
struct IsolationTests {
    /// Every endpoint that names a message, called by a mailbox that is not entitled to it.
    @Test func noMailboxCanReachAnothersMessages() async throws {
        let broker = try await TestBroker(routesYAML: escalationRoutes(), environment: escalationEnvironment)
        try await MeshHarness.run(broker) { h in
            let id = try await h.send(workflow: "SAFE", headers: ["mex-localid": "private-ref"])
            let uploading = try #require(
                try await h.call(
                    .post, "/messageexchange/ALICE/outbox", as: "ALICE",
                    headers: ["mex-to": "BOB", "mex-workflowid": "WF", "mex-chunk-range": "1:2"], body: [1]
                ).json["message_id"] as? String)
            let decision = Array(#"{"decision":"accept","by":{"name":"X"}}"#.utf8)
            let outcome = Array(#"{"code":"assessed","by":{"name":"X"}}"#.utf8)
            // (caller, method, path, body, allowed statuses)
            var cases: [(String, HTTPRequest.Method, String, [UInt8]?, Set<Int>)] = []
            for caller in ["CAROL", "ALICE"] {
                let mb = "/messageexchange/\(caller)"
                cases += [
                    (caller, .get, "\(mb)/inbox/\(id)", nil, [403]),
                    (caller, .get, "\(mb)/inbox/\(id)/1", nil, [403]),
                    (caller, .put, "\(mb)/inbox/\(id)/status/acknowledged", nil, [403]),
                    (caller, .post, "\(mb)/inbox/\(id)/responsibility", decision, [403]),
                    (caller, .post, "\(mb)/inbox/\(id)/outcome", outcome, [403]),
                ]
            }
            cases += [
                ("CAROL", .head, "/messageexchange/CAROL/inbox/\(id)", nil, [404]),
                ("CAROL", .get, "/messageexchange/CAROL/outbox/tracking?messageID=\(id)", nil, [404]),
                ("CAROL", .get, "/messageexchange/CAROL/outbox/tracking/private-ref", nil, [404]),
                ("CAROL", .post, "/messageexchange/CAROL/outbox/\(uploading)/2", [2], [403]),
                ("BOB", .get, "/messageexchange/BOB/outbox/tracking?messageID=\(id)", nil, [404]),
                ("BOB", .post, "/messageexchange/BOB/outbox/\(uploading)/2", [2], [403]),
            ]
            for (caller, method, path, body, allowed) in cases {
                let headers = path.contains("/outbox/\(uploading)/") ? ["mex-chunk-range": "2:2"] : [:]
                let r = try await h.call(method, path, as: caller, headers: headers, body: body)
                #expect(allowed.contains(Int(r.status.code)), "\(caller) \(method) \(path) -> \(r.status)")
                #expect(!r.text.contains("hello bob"))
            }
            // Someone else's path with one's own token: refused before anything is looked up.
            for path in [
                "/messageexchange/BOB/inbox", "/messageexchange/BOB/inbox/\(id)", "/messageexchange/BOB/count",
                "/messageexchange/ALICE/outbox/tracking?messageID=\(id)",
            ] {
                let r = try await h.call(.get, path, authorization: broker.auth("CAROL"))
                #expect(r.status == .forbidden && r.meshError?.msg == "Mailbox id does not match token", "\(path)")
            }
            #expect(try await h.inbox("CAROL").isEmpty)
            // Nothing changed: still delivered, unacknowledged, undecided, not downloaded.
            let m = try #require(try await broker.parts.store.message(MessageID(id)))
            #expect(m.status == .accepted && m.downloadedAt == nil && m.responsibility == nil)
            #expect(try await broker.parts.store.message(MessageID(uploading))?.receivedChunks == 1)
        }
    }
}
