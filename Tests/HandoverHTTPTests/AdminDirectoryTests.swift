import Foundation
import HTTPTypes
import HandoverCore
import HandoverTestSupport
import Testing
import Yams

@Suite("Admin API: directory, roles, versions")
struct AdminDirectoryTests {
    /// A harness with one token per role.
    func withAdmin(_ body: @escaping @Sendable (MeshHarness, [AdminRole: String]) async throws -> Void) async throws {
        let broker = try await TestBroker()
        var tokens: [AdminRole: String] = [:]
        for role in AdminRole.allCases {
            let token = AdminTokenFormat.generate()
            try await broker.parts.store.createAdminToken(
                name: "\(role)-user", role: role, tokenHash: AdminTokenFormat.hash(token), expiresAt: nil, now: broker.clock.now)
            tokens[role] = token
        }
        let finalTokens = tokens
        try await MeshHarness.run(broker) { h in try await body(h, finalTokens) }
    }

    @Test func anEditThatStopsLiveRoutingNeedsConfirming() async throws {
        try await withAdmin { h, tokens in
            let auth = "Bearer \(tokens[.admin]!)"
            // ALICE sends WF to organisation X27 today (its only receiving mailbox, BOB). Deactivating BOB stops that.
            let body = Array(#"{"id":"BOB","organisation":"X27","name":"Bob box","password":"${BOB_PW}","active":false}"#.utf8)
            let json = ["content-type": "application/json"]
            let refused = try await h.call(.put, "/admin/mailboxes/BOB", headers: json, body: body, accept: nil, authorization: auth)
            #expect(refused.status == .conflict && refused.text.contains("routing-impact"))
            let impact = try #require(refused.json["routing_impact"] as? [[String: Any]])
            #expect(
                impact.contains { $0["address"] as? String == "X27" && $0["effect"] as? String == "unroutable" && $0["before"] as? String == "BOB" })
            #expect(
                try await h.call(.get, "/admin/route?from=ALICE&to=X27&workflow=WF", accept: nil, authorization: auth).json["routable"] as? Bool
                    == true,
                "nothing changed")
            let confirmed = try await h.call(
                .put, "/admin/mailboxes/BOB?confirm_impact=true", headers: json, body: body, accept: nil, authorization: auth)
            #expect(confirmed.status == .ok && (confirmed.json["routing_impact"] as? [Any])?.isEmpty == false)
            let history = try await h.call(.get, "/admin/directory/history", accept: nil, authorization: auth)
            #expect(history.text.contains("confirmed routing impact"))
        }
    }

    @Test func whereWouldThisGoNamesEveryRuleOrTheRefusal() async throws {
        try await withAdmin { h, tokens in
            let auth = "Bearer \(tokens[.viewer]!)"
            let routed = try await h.call(.get, "/admin/route?from=ALICE&to=BOB&workflow=WF", accept: nil, authorization: auth)
            #expect(routed.status == .ok && routed.json["routable"] as? Bool == true && routed.json["mailbox"] as? String == "BOB")
            #expect((routed.json["steps"] as? [String])?.isEmpty == false)
            let refused = try await h.call(.get, "/admin/route?from=ALICE&to=NOBODY&workflow=WF", accept: nil, authorization: auth)
            #expect(refused.json["routable"] as? Bool == false && refused.json["code"] as? String == "12")
            #expect((refused.json["reason"] as? String)?.contains("NOBODY is not a mailbox id") == true)
            #expect(try await h.call(.get, "/admin/route?from=ALICE", accept: nil, authorization: auth).status == .badRequest)
            // The same reason reaches a MESH v2 sender in msg, after MESH's own text.
            let sent = try await h.call(
                .post, "/messageexchange/ALICE/outbox", as: "ALICE", headers: ["mex-to": "NOBODY", "mex-workflowid": "WF"], body: [1])
            #expect(sent.status.code == 417 && sent.meshError?.msg.hasPrefix("Unregistered to address: ") == true)
        }
    }

    @Test func tokensAndRolesAreChecked() async throws {
        try await withAdmin { h, tokens in
            let none = try await h.call(.get, "/admin/directory", accept: nil)
            #expect(none.status == .unauthorized && none.header("content-type") == "application/problem+json")
            #expect(try await h.call(.get, "/admin/directory", accept: nil, authorization: "Bearer wrong").status == .unauthorized)
            for role in AdminRole.allCases {
                let read = try await h.call(.get, "/admin/directory", accept: nil, authorization: "Bearer \(tokens[role]!)")
                #expect(read.status == .ok && read.header("etag") != nil, "\(role)")
                let edit = try await h.call(
                    .put, "/admin/areas/E06000001", headers: ["content-type": "application/json"],
                    body: Array(#"{"code":"E06000001","name":"x"}"#.utf8), accept: nil, authorization: "Bearer \(tokens[role]!)")
                #expect(edit.status == (role == .admin ? .ok : .forbidden), "\(role)")
            }
        }
    }

    @Test func wholeDirectoryPutNeedsAFreshIfMatchAndDryRunChangesNothing() async throws {
        try await withAdmin { h, tokens in
            let auth = "Bearer \(tokens[.admin]!)"
            let current = try await h.call(.get, "/admin/directory", accept: "application/yaml", authorization: auth)
            #expect(current.header("content-type") == "application/yaml")
            var document = try YAMLDecoder().decode(DirectoryDocument.self, from: current.text)
            document.areas = [.init(code: "E06000001", name: "Newtown", postcode_districts: ["NW1"])]
            let body = Array(try YAMLEncoder().encode(document).utf8)
            let yaml = ["content-type": "application/yaml"]
            #expect(try await h.call(.put, "/admin/directory", headers: yaml, body: body, accept: nil, authorization: auth).status.code == 428)
            let dry = try await h.call(.put, "/admin/directory?dry_run=true", headers: yaml, body: body, accept: nil, authorization: auth)
            #expect(dry.status == .ok && (dry.json["changes"] as? [[String: String]]) == [["kind": "added", "entity": "area", "id": "E06000001"]])
            #expect(h.broker.parts.directory.snapshot.version == 1)
            let stale = try await h.call(
                .put, "/admin/directory", headers: yaml.merging(["if-match": "\"7\""]) { $1 }, body: body, accept: nil, authorization: auth)
            #expect(stale.status == .preconditionFailed && stale.json["current_version"] as? Int == 1)
            let applied = try await h.call(
                .put, "/admin/directory", headers: yaml.merging(["if-match": "\"1\""]) { $1 }, body: body, accept: nil, authorization: auth)
            #expect(applied.status == .ok && applied.header("etag") == "\"2\"")
            #expect(h.broker.parts.directory.snapshot.version == 2)
            let again = try await h.call(
                .put, "/admin/directory", headers: yaml.merging(["if-match": "\"1\""]) { $1 }, body: body, accept: nil, authorization: auth)
            #expect(again.status == .preconditionFailed)
            let history = try await h.call(.get, "/admin/directory/history", accept: nil, authorization: auth)
            #expect((history.json["versions"] as? [[String: Any]])?.map { $0["version"] as? Int } == [2, 1])
            let v1 = try await h.call(.get, "/admin/directory/versions/1", accept: nil, authorization: auth)
            #expect(v1.status == .ok && v1.header("etag") == "\"1\"" && !v1.text.contains("Newtown"))
        }
    }

    @Test func anInvalidDirectoryIsRejectedWholeWithEveryError() async throws {
        try await withAdmin { h, tokens in
            let auth = "Bearer \(tokens[.admin]!)"
            let body = Array(
                """
                {"organisations":[{"code":"A","name":"A","domain":"nhs"}],
                 "mailboxes":[{"id":"M1","organisation":"NOPE","name":"m"},{"id":"M2","organisation":"A","name":"m","password":"literal"}],
                 "workflows":[{"id":"W","senders":["GHOST"],"receivers":["A"],"expiry":"soon"}]}
                """.utf8)
            let r = try await h.call(
                .put, "/admin/directory", headers: ["content-type": "application/json", "if-match": "\"1\""], body: body, accept: nil,
                authorization: auth)
            #expect(r.status == .unprocessableContent && r.json["type"] as? String == "urn:handover:problem:directory-invalid")
            let errors = (r.json["errors"] as? [[String: String]] ?? []).map { "\($0["entry"]!)|\($0["field"]!)" }
            for expected in ["mailbox M1|organisation", "mailbox M2|password", "workflow W|senders", "workflow W|expiry"] {
                #expect(errors.contains(expected), "missing \(expected) in \(errors)")
            }
            #expect(h.broker.parts.directory.snapshot.version == 1)
            #expect(try await h.send().isEmpty == false)
            let garbage = try await h.call(
                .put, "/admin/directory", headers: ["content-type": "application/json", "if-match": "\"1\""], body: Array("{not json".utf8),
                accept: nil, authorization: auth)
            #expect(garbage.status == .badRequest)
        }
    }

    @Test func liveEditsRouteTheNextMessageAndKeepOldRoutes() async throws {
        try await withAdmin { h, tokens in
            let auth = "Bearer \(tokens[.admin]!)"
            let json = ["content-type": "application/json"]
            // Before: nothing covers postcode NW1.
            let before = try await h.call(
                .post, "/messageexchange/ALICE/outbox", as: "ALICE", headers: ["mex-to": "POSTCODE:NW1", "mex-workflowid": "WF"], body: [1])
            #expect(before.meshError?.code == "12")
            let old = try await h.send()
            _ = try await h.call(
                .put, "/admin/areas/E06000001", headers: json,
                body: Array(#"{"code":"E06000001","name":"Newtown","postcode_districts":["NW1"]}"#.utf8), accept: nil, authorization: auth)
            let service = try await h.call(
                .put, "/admin/services/newtown-wf", headers: ["content-type": "application/yaml"],
                body: Array("id: newtown-wf\norganisation: X27\nmailbox: BOB\nworkflows: [WF]\nareas: [E06000001]\n".utf8), accept: nil,
                authorization: auth)
            #expect(service.status == .ok && service.json["version"] as? Int == 3)
            let routed = try await h.send(to: "POSTCODE:nw1")
            let tracking = try await h.call(.get, "/messageexchange/ALICE/outbox/tracking?messageID=\(routed)", as: "ALICE")
            let route = (tracking.json["handover"] as? [String: Any])?["route"] as? [String: Any]
            #expect(
                route?["service"] as? String == "newtown-wf" && route?["directory_version"] as? Int == 3
                    && route?["addressed_by"] as? String == "postcode")
            let oldTracking = try await h.call(.get, "/messageexchange/ALICE/outbox/tracking?messageID=\(old)", as: "ALICE")
            #expect(((oldTracking.json["handover"] as? [String: Any])?["route"] as? [String: Any])?["directory_version"] as? Int == 1)
            // Entity reads and deletes; a referenced entry cannot go.
            let get = try await h.call(.get, "/admin/services/NEWTOWN-WF", accept: nil, authorization: auth)
            #expect(get.json["mailbox"] as? String == "BOB")
            let referenced = try await h.call(.delete, "/admin/areas/E06000001", accept: nil, authorization: auth)
            #expect(referenced.status == .conflict && (referenced.json["referenced_by"] as? [String]) == ["service newtown-wf"])
            // Withdrawing the only service for POSTCODE:NW1 stops it routing: confirmed explicitly.
            #expect(try await h.call(.delete, "/admin/services/newtown-wf", accept: nil, authorization: auth).status == .conflict)
            #expect(try await h.call(.delete, "/admin/services/newtown-wf?confirm_impact=true", accept: nil, authorization: auth).status == .ok)
            #expect(try await h.call(.delete, "/admin/areas/E06000001", accept: nil, authorization: auth).status == .ok)
            #expect(try await h.call(.get, "/admin/areas/E06000001", accept: nil, authorization: auth).status == .notFound)
            #expect(try await h.call(.get, "/admin/nonsense/x", accept: nil, authorization: auth).status == .notFound)
            let mismatch = try await h.call(
                .put, "/admin/areas/E2", headers: json, body: Array(#"{"code":"E3","name":"x"}"#.utf8), accept: nil, authorization: auth)
            #expect(mismatch.status == .badRequest)
            // Every change is audited with who did it, and the chain verifies.
            let audit = try await h.call(.get, "/admin/audit", accept: nil, authorization: auth)
            let actions = (audit.json["entries"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
            #expect(actions.filter { $0 == "directory.added" }.count >= 2 && actions.contains("directory.removed"))
            #expect(actions.contains("message.delivered"), "message events belong in the chained audit log")
            #expect((audit.json["entries"] as? [[String: Any]])?.last?["actor"] as? String == "admin:admin-user")
            let verify = try await h.call(.get, "/admin/audit/verify", accept: nil, authorization: auth)
            #expect(verify.json["intact"] as? Bool == true)
        }
    }

    @Test func passwordRotationAndMessageSearch() async throws {
        try await withAdmin { h, tokens in
            let auth = "Bearer \(tokens[.admin]!)"
            let id = try await h.send(body: Array("secret clinical text".utf8))
            let rotated = try await h.call(.post, "/admin/mailboxes/BOB/password", accept: nil, authorization: auth)
            let password = try #require(rotated.json["password"] as? String)
            #expect(rotated.header("cache-control") == "no-store")
            let stored = try #require(try await h.broker.parts.store.mailboxPasswords()[MailboxID("BOB")])
            #expect(stored.hasPrefix("v2:") && !stored.contains(password), "rotated passwords must be sealed at rest")
            let oldLogin = try await h.call(.get, "/messageexchange/BOB/inbox", as: "BOB")
            #expect(oldLogin.status == .forbidden)
            let newLogin = try await h.call(.get, "/messageexchange/BOB/inbox", authorization: h.broker.auth("BOB", password: password))
            #expect(newLogin.status == .ok)
            #expect(try await h.call(.post, "/admin/mailboxes/NOBODY/password", accept: nil, authorization: auth).status == .notFound)
            let search = try await h.call(
                .get, "/admin/messages?mailbox=bob&status=accepted&workflow=wf", accept: nil, authorization: "Bearer \(tokens[.viewer]!)")
            #expect((search.json["messages"] as? [[String: Any]])?.map { $0["message_id"] as? String } == [id])
            #expect(!search.text.contains("secret clinical text"))
            #expect(try await h.call(.get, "/admin/messages?status=bogus", accept: nil, authorization: auth).status == .badRequest)
        }
    }
}
