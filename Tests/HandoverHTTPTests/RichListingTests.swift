import Foundation
import HTTPTypes
import HandoverCore
import HandoverTestSupport
import Testing

/// The rich inbox and outbox over MESH. The first test follows NHS mesh-sandbox's own
/// `test_paginated_inbox_outbox` (its inbox and outbox half): thirty sends, pages of ten, in both
/// API versions; the rest check the fields, the filters and the refusals. The sandbox's test itself
/// runs against the broker in `./scripts/test` (Tests/Interop/run-sandbox-suite.sh).
@Suite("Rich inbox and outbox")
struct RichListingTests {
    static let versions = ["application/vnd.mesh.v1+json", "application/vnd.mesh.v2+json"]

    @Test(arguments: versions)
    func paginatedRichInboxAndOutboxAsTheSandboxServesThem(accept: String) async throws {
        try await MeshHarness.run { h in
            var sent: [String] = []
            // All at one clock time, as the sandbox's test sends them: ids, ordered in time, break the tie.
            for _ in 0..<30 { sent.append(try await h.send()) }
            // Both listings newest first (the sandbox's test reverses its list before the rich inbox).
            let newestFirst = Array(sent.reversed())
            var response = try await h.call(.get, "/messageexchange/BOB/inbox/rich?max_results=10", as: "BOB", accept: accept)
            #expect(response.status == .ok)
            #expect((response.json["messages"] as? [[String: Any]])?.compactMap { $0["message_id"] as? String } == Array(newestFirst[0..<10]))
            var next = try #require((response.json["links"] as? [String: Any])?["next"] as? String)
            response = try await h.call(.get, next, as: "BOB", accept: accept)
            #expect((response.json["messages"] as? [[String: Any]])?.compactMap { $0["message_id"] as? String } == Array(newestFirst[10..<20]))

            response = try await h.call(.get, "/messageexchange/ALICE/outbox/rich?max_results=10", as: "ALICE", accept: accept)
            #expect(response.status == .ok)
            #expect((response.json["messages"] as? [[String: Any]])?.compactMap { $0["message_id"] as? String } == Array(newestFirst[0..<10]))
            next = try #require((response.json["links"] as? [String: Any])?["next"] as? String)
            response = try await h.call(.get, next, as: "ALICE", accept: accept)
            #expect((response.json["messages"] as? [[String: Any]])?.compactMap { $0["message_id"] as? String } == Array(newestFirst[10..<20]))
        }
    }

    @Test func everyStatusWithItsFieldsAndTheLastPageHasNoNext() async throws {
        try await MeshHarness.run { h in
            let first = try await h.send(headers: ["mex-localid": "ref-1"])
            let second = try await h.send()
            try await h.call(.put, "/messageexchange/BOB/inbox/\(first)/status/acknowledged", as: "BOB")
            let response = try await h.call(.get, "/messageexchange/BOB/inbox/rich", as: "BOB")
            #expect(response.status == .ok && response.header("content-type") == "application/vnd.mesh.v2+json")
            #expect(response.json["valid_at"] is String)
            let links = try #require(response.json["links"] as? [String: Any])
            #expect((links["self"] as? String)?.hasPrefix("/messageexchange/BOB/inbox/rich?start_time=") == true && links["next"] == nil)
            let messages = try #require(response.json["messages"] as? [[String: Any]])
            #expect(messages.compactMap { $0["message_id"] as? String } == [second, first])
            let acknowledged = messages[1]
            #expect(acknowledged["status"] as? String == "acknowledged" && acknowledged["local_id"] as? String == "ref-1")
            #expect(acknowledged["sender"] as? String == "ALICE" && acknowledged["sender_name"] as? String == "Alice box")
            #expect(acknowledged["recipient"] as? String == "BOB" && acknowledged["recipient_name"] as? String == "Bob box")
            #expect(acknowledged["message_type"] as? String == "DATA" && acknowledged["workflow_id"] as? String == "WF")
            #expect(acknowledged["status_code"] as? String == "00" && acknowledged["total_chunks"] as? Int == 1)
            #expect(acknowledged["sent_date"] is String && acknowledged["expiry_timestamp"] is String)
            // ALICE's inbox does not list what she sent; BOB's outbox does not list what he received.
            #expect((try await h.call(.get, "/messageexchange/ALICE/inbox/rich", as: "ALICE").json["messages"] as? [Any])?.isEmpty == true)
            #expect((try await h.call(.get, "/messageexchange/BOB/outbox/rich", as: "BOB").json["messages"] as? [Any])?.isEmpty == true)
            // A start time after both sends lists nothing.
            let later = h.broker.clock.now.adding(seconds: 1).isoUTC
            let none = try await h.call(.get, "/messageexchange/BOB/inbox/rich?start_time=\(later)", as: "BOB")
            #expect((none.json["messages"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func badParametersAreRefusedAndCursorsStayWithTheirMailbox() async throws {
        try await MeshHarness.run { h in
            for _ in 0..<3 { _ = try await h.send() }
            for query in ["max_results=0", "max_results=2001", "max_results=abc", "start_time=yesterday", "continue_from=not-a-cursor"] {
                let response = try await h.call(.get, "/messageexchange/BOB/inbox/rich?\(query)", as: "BOB")
                #expect(response.status == .badRequest, "\(query)")
            }
            #expect(try await h.call(.get, "/messageexchange/ALICE/outbox/rich?max_results=9", as: "ALICE").status == .badRequest)
            let page = try await h.call(.get, "/messageexchange/BOB/inbox/rich?max_results=1", as: "BOB")
            let next = try #require((page.json["links"] as? [String: Any])?["next"] as? String)
            let cursor = try #require(next.components(separatedBy: "continue_from=").last)
            // BOB's cursor means nothing in CAROL's inbox or BOB's outbox.
            #expect(try await h.call(.get, "/messageexchange/CAROL/inbox/rich?continue_from=\(cursor)", as: "CAROL").status == .badRequest)
            #expect(try await h.call(.get, "/messageexchange/BOB/outbox/rich?continue_from=\(cursor)", as: "BOB").status == .badRequest)
            // Another mailbox's token opens neither listing.
            #expect(
                try await h.call(.get, "/messageexchange/BOB/inbox/rich", as: "ALICE", authorization: h.broker.auth("ALICE")).status == .forbidden)
        }
    }
}
