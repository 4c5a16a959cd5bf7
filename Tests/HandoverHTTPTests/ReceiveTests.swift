import Foundation
import HandoverCore
import HandoverTestSupport
import NIOCore
import Testing

@Suite("MESH receive, acknowledge and track")
struct ReceiveTests {
    @Test func downloadCarriesMexHeadersAndAcknowledgeRemovesIt() async throws {
        try await MeshHarness.run { h in
            let id = try await h.send(headers: [
                "mex-subject": "greetings", "mex-localid": "local-123", "mex-filename": "hello.txt",
                "mex-content-checksum": "md5:abc123", "mex-partnerid": "partner-x", "content-type": "text/plain",
                "mex-content-encrypted": "Y",
            ])
            let r = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB")
            #expect(r.status == .ok && r.text == "hello bob")
            let expected: [String: String] = [
                "mex-from": "ALICE", "mex-to": "BOB", "mex-workflowid": "WF", "mex-chunk-range": "1:1", "mex-total-chunks": "1",
                "mex-addresstype": "ALL", "mex-localid": "local-123", "mex-partnerid": "partner-x", "mex-filename": "hello.txt",
                "mex-subject": "greetings", "mex-version": "1.0", "mex-messagetype": "DATA", "mex-messageid": id, "mex-statuscode": "00",
                "mex-statusevent": "TRANSFER", "mex-statusdescription": "Transferred to recipient mailbox", "mex-statussuccess": "SUCCESS",
                "mex-content-checksum": "md5:abc123", "mex-content-type": "text/plain", "mex-content-encrypted": "Y", "content-type": "text/plain",
            ]
            for (k, v) in expected { #expect(r.header(k) == v, "\(k)") }
            #expect(r.header("mex-content-compressed") == nil)
            #expect(r.header("last-modified")?.hasSuffix(" GMT") == true)

            let head = try await h.call(.head, "/messageexchange/ALICE/inbox/\(id)", as: "ALICE")
            #expect(head.status == .ok && head.header("mex-messageid") == id)
            #expect(try await h.call(.head, "/messageexchange/CAROL/inbox/\(id)", as: "CAROL").status == .notFound)
            #expect(try await h.call(.get, "/messageexchange/CAROL/inbox/\(id)", as: "CAROL").status == .forbidden)
            #expect(try await h.call(.get, "/messageexchange/BOB/inbox/NOPE", as: "BOB").meshError?.code == "20")

            #expect(try await h.call(.put, "/messageexchange/CAROL/inbox/\(id)/status/acknowledged", as: "CAROL").status == .forbidden)
            #expect(try await h.call(.put, "/messageexchange/BOB/inbox/NOPE/status/acknowledged", as: "BOB").status == .notFound)
            let ack = try await h.call(.put, "/messageexchange/BOB/inbox/\(id)/status/acknowledged", as: "BOB")
            #expect(ack.status == .ok && ack.body.readableBytes == 0)
            let again = try await h.call(.put, "/messageexchange/BOB/inbox/\(id)/status/acknowledged", as: "BOB", accept: "application/json")
            #expect(again.status == .ok && again.json["messageId"] as? String == id)
            #expect(try await h.inbox().isEmpty)
            let gone = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB")
            #expect(gone.status == .gone && gone.meshError?.code == "Message already accepted")
            #expect(try await h.call(.head, "/messageexchange/BOB/inbox/\(id)", as: "BOB").status == .gone)
            // Counted: the one download that sent a body (not the HEADs nor the refusals) and both
            // acknowledgements answered 200 (a repeated one too).
            let metrics = try await h.call(.get, "/metrics").text
            #expect(metrics.contains("\nhandover_downloads_total 1\n") && metrics.contains("\nhandover_acknowledgements_total 2\n"))
        }
    }

    @Test func identityBodiesAreGzippedForV2ClientsThatAcceptIt() async throws {
        try await MeshHarness.run { h in
            let text = String(repeating: "a long and repetitive body ", count: 100)
            let id = try await h.send(body: Array(text.utf8))
            let gz = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB", headers: ["accept-encoding": "gzip"])
            #expect(gz.header("content-encoding") == "gzip" && gz.body.readableBytes < text.utf8.count)
            var body = gz.body
            #expect(String(buffer: try body.decompress(with: .gzip())) == text)
            let v1 = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB", headers: ["accept-encoding": "gzip"], accept: nil)
            #expect(v1.header("content-encoding") == nil && v1.text == text)
        }
    }

    @Test func inboxPagesWithStableCursorsFiltersAndCounts() async throws {
        try await MeshHarness.run { h in
            var sent: [String] = []
            for i in 0..<25 { sent.append(try await h.send(workflow: i % 5 == 0 ? "WF_COPY_ACK" : "WF", body: [UInt8(i)])) }
            var collected: [String] = []
            var next: String? = "/messageexchange/BOB/inbox?max_results=10"
            var pages = 0
            while let uri = next {
                let r = try await h.call(.get, uri, as: "BOB")
                #expect(r.status == .ok && r.json["approx_inbox_count"] as? Int == 25)
                collected += r.json["messages"] as? [String] ?? []
                next = (r.json["links"] as? [String: String])?["next"]
                pages += 1
            }
            #expect(collected == sent && pages == 3)
            let filtered = try await h.call(.get, "/messageexchange/BOB/inbox?workflow_filter=!*_ACK*", as: "BOB")
            #expect((filtered.json["messages"] as? [String])?.count == 20)
            #expect((filtered.json["links"] as? [String: String])?["self"] == "/messageexchange/BOB/inbox?workflow_filter=%21%2A_ACK%2A")
            for bad in ["max_results=5", "max_results=9000", "max_results=x", "continue_from=forged-cursor-value-xxxxxxxxxx", "workflow_filter=*"] {
                let r = try await h.call(.get, "/messageexchange/BOB/inbox?\(bad)", as: "BOB")
                #expect(r.status == .badRequest, "\(bad)")
            }
            // A cursor from another mailbox's listing is refused too.
            let aliceCursor = InboxCursor(mailbox: MailboxID("ALICE"), afterSequence: 1).encoded
            #expect(try await h.call(.get, "/messageexchange/BOB/inbox?continue_from=\(aliceCursor)", as: "BOB").status == .badRequest)
            // v1: plain list, continue_from is a message id.
            let v1 = try await h.call(
                .get, "/messageexchange/BOB/inbox?max_results=10&continue_from=\(sent[19])", as: "BOB", accept: "application/json")
            #expect(v1.json["messages"] as? [String] == Array(sent[20...]))
            let count = try await h.call(.get, "/messageexchange/BOB/count", as: "BOB")
            #expect(count.json["count"] as? Int == 25)
            let countV1 = try await h.call(.get, "/messageexchange/BOB/count", as: "BOB", accept: "application/json")
            #expect(countV1.json["allResultsIncluded"] as? Bool == true)
        }
    }

    @Test func trackingIsForTheSenderOnly() async throws {
        try await MeshHarness.run { h in
            let id = try await h.send(headers: ["mex-localid": "track-me"])
            let v2 = try await h.call(.get, "/messageexchange/ALICE/outbox/tracking?messageID=\(id)", as: "ALICE")
            #expect(v2.json["status"] as? String == "accepted" && v2.json["status_success"] as? Bool == true)
            #expect(
                v2.json["recipient"] as? String == "BOB" && v2.json["recipient_org_code"] as? String == "X27"
                    && v2.json["local_id"] as? String == "track-me")
            let route = (v2.json["handover"] as? [String: Any])?["route"] as? [String: Any]
            #expect(route?["addressed_by"] as? String == "mailbox" && route?["directory_version"] as? Int == 1)
            #expect(try await h.call(.get, "/messageexchange/BOB/outbox/tracking?messageID=\(id)", as: "BOB").status == .notFound)
            #expect(try await h.call(.get, "/messageexchange/ALICE/outbox/tracking?messageID=NOPE", as: "ALICE").status == .notFound)
            #expect(try await h.call(.get, "/messageexchange/ALICE/outbox/tracking", as: "ALICE").status == .badRequest)
            _ = try await h.call(.put, "/messageexchange/BOB/inbox/\(id)/status/acknowledged", as: "BOB")
            let v1 = try await h.call(.get, "/messageexchange/ALICE/outbox/tracking?messageID=\(id)", as: "ALICE", accept: "application/json")
            #expect(v1.json["status"] as? String == "Acknowledged" && v1.json["messageType"] as? String == "Data")
            #expect((v1.json["downloadTimestamp"] as? String)?.count == 14)
            let byLocal = try await h.call(.get, "/messageexchange/ALICE/outbox/tracking/track-me", as: "ALICE")
            #expect(byLocal.json["messageId"] as? String == id)
            _ = try await h.send(headers: ["mex-localid": "track-me"])
            #expect(try await h.call(.get, "/messageexchange/ALICE/outbox/tracking/track-me", as: "ALICE").status.code == 300)
            #expect(try await h.call(.get, "/messageexchange/ALICE/outbox/tracking/nothing", as: "ALICE").status == .notFound)
        }
    }

    @Test func lookupAnswersFromTheDirectoryAndNeedsATokenOutsideSandbox() async throws {
        try await MeshHarness.run { h in
            let v2 = try await h.call(.get, "/messageexchange/endpointlookup/X27/WF", as: "ALICE", authorization: h.broker.auth("ALICE"))
            #expect((v2.json["results"] as? [[String: String]]) == [["mailbox_id": "BOB", "mailbox_name": "Bob box"]])
            let v1 = try await h.call(
                .get, "/messageexchange/endpointlookup/x27/WF", accept: "application/json", authorization: h.broker.auth("ALICE"))
            #expect((v1.json["results"] as? [[String: String]]) == [["address": "BOB", "description": "Bob box", "endpoint_type": "MESH"]])
            #expect(
                (try await h.call(.get, "/messageexchange/endpointlookup/X26/WF", authorization: h.broker.auth("ALICE")).json["results"] as? [Any])?
                    .isEmpty == true)
            let search = try await h.call(.get, "/messageexchange/workflowsearch/WF_ACK", authorization: h.broker.auth("BOB"))
            #expect((search.json["results"] as? [[String: String]])?.map { $0["mailbox_id"] } == ["ALICE"])
            #expect(try await h.call(.get, "/messageexchange/workflowsearch/WF").status == .forbidden)
        }
        try await MeshHarness.run(sandbox: true) { h in
            let open = try await h.call(.get, "/messageexchange/workflowsearch/WF")
            #expect(open.status == .ok)
        }
    }

    @Test func expiredMessagesBecomeReportsForTheSender() async throws {
        let broker = try await TestBroker()
        try await MeshHarness.run(broker) { h in
            let id = try await h.send(headers: ["mex-subject": "urgent", "mex-localid": "l-9"])
            broker.clock.advance(seconds: 3599)
            #expect(try await broker.parts.sweeper.sweepOnce() == 0)
            broker.clock.advance(seconds: 2)
            #expect(try await broker.parts.sweeper.sweepOnce() == 1)
            #expect(try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB").status == .gone)
            #expect(try await h.inbox().isEmpty)
            let reports = try await h.inbox("ALICE")
            #expect(reports.count == 1)
            let report = try await h.call(.get, "/messageexchange/ALICE/inbox/\(reports[0])", as: "ALICE")
            #expect(report.status == .ok && report.body.readableBytes == 0)
            let expected = [
                "mex-messagetype": "REPORT", "mex-statuscode": "14", "mex-statussuccess": "ERROR", "mex-linkedmsgid": id,
                "mex-to": "BOB", "mex-subject": "NDR: urgent", "mex-localid": "l-9", "mex-workflowid": "WF", "mex-chunk-range": "1:0",
            ]
            for (k, v) in expected { #expect(report.header(k) == v, "\(k)") }
            #expect(report.header("mex-from") == nil)
            let tracking = try await h.call(.get, "/messageexchange/ALICE/outbox/tracking?messageID=\(id)", as: "ALICE")
            #expect(tracking.json["status"] as? String == "error" && tracking.json["status_code"] as? String == "14")
        }
    }

    @Test func sandboxModeAcceptsUnknownWorkflowsAndResets() async throws {
        try await MeshHarness.run { h in
            let reset = try await h.call(.delete, "/admin/reset")
            #expect(reset.status == .notFound)
        }
        try await MeshHarness.run(try await TestBroker(sandbox: true)) { h in
            _ = try await h.send(workflow: "SOMETHING_RANDOM")
            #expect(try await h.inbox().count == 1)
            #expect(try await h.call(.delete, "/admin/reset").status == .ok)
            #expect(try await h.inbox().isEmpty)
        }
    }
}
