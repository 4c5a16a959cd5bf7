import Foundation
import HTTPTypes
import HandoverCore
import HandoverStore
import HandoverTestSupport
import HummingbirdTesting
import Testing
import Yams

/// SG is a safeguarding workflow ALICE → X27 (BOB) with escalation policy sg; WF is not.
func safeguardingRoutes(notAcceptedAfter: String) -> String {
    """
    organisations:
      - {code: X26, name: Org X26, domain: nhs}
      - {code: X27, name: Org X27, domain: local-authority}
    mailboxes:
      - {id: ALICE, organisation: X26, name: Alice box, password: "${ALICE_PW}"}
      - {id: BOB, organisation: X27, name: Bob box, password: "${BOB_PW}"}
    workflows:
      - {id: SG, senders: [ALICE], receivers: [X27], responsibility: required, escalation: sg, safeguarding: true}
      - {id: WF, senders: [ALICE], receivers: [X27]}
    escalation_policies:
      - id: sg
        stages:
          - {after: \(notAcceptedAfter), when: not-accepted, notify: [{sender: true}]}
    """
}

/// Proposals are bounded: each holds a whole directory.
@Suite("Directory proposals are bounded")
struct ProposalLimitTests {
    @Test func noMoreThanFiftyWaitAtOnce() async throws {
        let broker = try await TestBroker(routesYAML: safeguardingRoutes(notAcceptedAfter: "4h"))
        let manager = broker.parts.directoryManager
        let version = try #require(try await broker.parts.store.currentDirectoryVersion())
        func propose(_ hours: Int) async throws -> DirectoryManager.ProposalOutcome {
            let document = try YAMLDecoder().decode(DirectoryDocument.self, from: safeguardingRoutes(notAcceptedAfter: "\(hours)h"))
            return try await manager.submitProposal(document, baseVersion: version, actor: "admin:ann")
        }
        for hours in 5..<(5 + DirectoryManager.maximumPendingProposals) {
            guard case .proposed = try await propose(hours) else {
                Issue.record("proposal \(hours) refused")
                return
            }
        }
        guard case .invalid(let problems) = try await propose(100) else {
            Issue.record("the 51st was accepted")
            return
        }
        #expect(problems.first?.message.contains("50 proposals are already waiting") == true)
        // One decided makes room for one more.
        let first = try #require(try await manager.proposals(limit: 100).last)
        try await manager.reject(first.id, actor: "admin:bob")
        guard case .proposed = try await propose(101) else {
            Issue.record("no room after a rejection")
            return
        }
        await broker.close()
    }
}

/// Propose and approve on the admin API: an edit that touches a safeguarding workflow is refused
/// until proposed, is applied only by a second admin onto the version it was made from, once.
@Suite("Admin API: a second admin approves safeguarding changes")
struct AdminProposalTests {
    @Test func aSafeguardingChangeWaitsForASecondAdminAndAppliesOnce() async throws {
        let broker = try await TestBroker(routesYAML: safeguardingRoutes(notAcceptedAfter: "4h"))
        var tokens: [String: String] = [:]
        for (name, role) in [("ann", AdminRole.admin), ("bob", .admin), ("vic", .viewer)] {
            let token = AdminTokenFormat.generate()
            try await broker.parts.store.createAdminToken(
                name: name, role: role, tokenHash: AdminTokenFormat.hash(token), expiresAt: nil, now: broker.clock.now)
            tokens[name] = "Bearer \(token)"
        }
        let auth = tokens
        try await MeshHarness.run(broker) { h in
            let yaml = ["content-type": "application/yaml"]
            func put(_ after: String, version: Int64, query: String = "") async throws -> TestResponse {
                try await h.call(
                    .put, "/admin/directory\(query)", headers: yaml.merging(["if-match": "\"\(version)\""]) { $1 },
                    body: Array(safeguardingRoutes(notAcceptedAfter: after).utf8), accept: nil, authorization: auth["ann"])
            }
            func propose(_ after: String, version: Int64?, by: String) async throws -> TestResponse {
                try await h.call(
                    .post, "/admin/directory/proposals", headers: yaml.merging(version.map { ["if-match": "\"\($0)\""] } ?? [:]) { $1 },
                    body: Array(safeguardingRoutes(notAcceptedAfter: after).utf8), accept: nil, authorization: auth[by])
            }
            func decide(_ id: Int64, _ verb: String, by: String) async throws -> TestResponse {
                try await h.call(.post, "/admin/directory/proposals/\(id)/\(verb)", accept: nil, authorization: auth[by])
            }
            func policyAfter() -> DirectoryDuration? {
                broker.parts.directoryManager.holder.snapshot.directory.escalationPolicies.first?.stages.first?.after
            }

            // Straight in: refused with the reasons, nothing saved; a dry run says it would need approval.
            let refused = try await put("8h", version: 1)
            #expect(refused.status == .conflict && refused.json["type"] as? String == "urn:handover:problem:approval-required")
            #expect((refused.json["reasons"] as? [String])?.contains("escalation policy sg of SG changed") == true, "\(refused.text)")
            #expect(try await broker.parts.store.currentDirectoryVersion() == 1)
            let dry = try await put("8h", version: 1, query: "?dry_run=true")
            #expect(dry.status == .ok && dry.json["needs_approval"] as? Bool == true)
            // The entry routes are gated the same way: BOB receives SG.
            let entry = try await h.call(
                .put, "/admin/mailboxes/BOB", headers: ["content-type": "application/json"],
                body: Array(#"{"id":"BOB","organisation":"X27","name":"Renamed","password":"${BOB_PW}"}"#.utf8), accept: nil,
                authorization: auth["ann"])
            #expect(entry.status == .conflict && entry.text.contains("mailbox BOB used by SG changed"))

            // Proposed: needs If-Match; a viewer may read but not approve; its proposer may not approve.
            #expect(try await propose("8h", version: nil, by: "ann").status.code == 428)
            #expect(try await propose("4h", version: 1, by: "ann").status == .unprocessableContent, "a proposal that changes nothing")
            let proposed = try await propose("8h", version: 1, by: "ann")
            let id = try #require(proposed.json["id"] as? Int64 ?? (proposed.json["id"] as? Int).map(Int64.init), "\(proposed.text)")
            #expect(
                proposed.status == .created && proposed.json["state"] as? String == "pending"
                    && proposed.json["proposed_by"] as? String == "admin:ann")
            #expect(try await decide(id, "approve", by: "vic").status == .forbidden)
            let list = try await h.call(.get, "/admin/directory/proposals", accept: nil, authorization: auth["vic"])
            let listed = try #require((list.json["proposals"] as? [[String: Any]])?.first)
            #expect(listed["stale"] as? Bool == false && (listed["reasons"] as? [String])?.isEmpty == false)
            let own = try await decide(id, "approve", by: "ann")
            #expect(own.status == .forbidden && own.json["type"] as? String == "urn:handover:problem:same-admin")
            let document = try await h.call(.get, "/admin/directory/proposals/\(id)/document", accept: "application/yaml", authorization: auth["vic"])
            #expect(document.status == .ok && document.text.contains("8h") && !document.text.contains("4h"))
            #expect(try await broker.parts.store.currentDirectoryVersion() == 1 && policyAfter() == .elapsed(seconds: 4 * 3600))

            // The second admin approves: version 2, in force at once, recorded as an approval.
            let approved = try await decide(id, "approve", by: "bob")
            #expect(approved.status == .ok && approved.header("etag") == "\"2\"", "\(approved.text)")
            #expect(policyAfter() == .elapsed(seconds: 8 * 3600))
            let history = try await h.call(.get, "/admin/directory/history", accept: nil, authorization: auth["vic"])
            #expect(history.text.contains("admin:bob, approving proposal \(id) by admin:ann"))
            let again = try await decide(id, "approve", by: "bob")
            #expect(again.status == .conflict && again.json["type"] as? String == "urn:handover:problem:proposal-decided")
            let shown = try await h.call(.get, "/admin/directory/proposals/\(id)", accept: nil, authorization: auth["vic"])
            #expect(shown.json["state"] as? String == "approved" && shown.json["decided_by"] as? String == "admin:bob")

            // Two proposals on version 2: the first approved makes the other stale; that one is rejected instead.
            let first = try #require(try await propose("2h", version: 2, by: "ann").json["id"] as? Int)
            let second = try #require(try await propose("1h", version: 2, by: "bob").json["id"] as? Int)
            #expect(try await decide(Int64(second), "approve", by: "ann").status == .ok)
            let stale = try await decide(Int64(first), "approve", by: "bob")
            #expect(stale.status.code == 412 && stale.json["current_version"] as? Int == 3, "\(stale.text)")
            #expect(policyAfter() == .elapsed(seconds: 3600))
            let rejected = try await decide(Int64(first), "reject", by: "bob")
            #expect(rejected.status == .ok && rejected.json["state"] as? String == "rejected")
            #expect(try await decide(999, "approve", by: "bob").status == .notFound)

            let audit = try await h.call(.get, "/admin/audit", accept: nil, authorization: auth["vic"]).text
            for action in ["directory.proposed", "directory.proposal_approved", "directory.proposal_rejected"] {
                #expect(audit.contains(action), "\(action)")
            }
        }
        await broker.close()
    }
}
