import CompressNIO
import HandoverCore
import HandoverTestSupport
import NIOCore
import Testing

@Suite("MESH send")
struct SendTests {
    @Test func sendsInBothVersionsAndRoutesByOrganisation() async throws {
        try await MeshHarness.run { h in
            let id = try await h.send()
            #expect(id.count == 27 && id.contains("_"))
            let v1 = try await h.call(
                .post, "/messageexchange/ALICE/outbox", as: "ALICE", headers: ["mex-to": "X27", "mex-workflowid": "WF"],
                body: [1], accept: "application/json")
            #expect(v1.status == .accepted && v1.json["messageID"] is String)
            #expect(try await h.inbox() == [id, v1.json["messageID"] as! String])
        }
    }

    @Test func badInputGetsMeshErrorsAndStoresNothing() async throws {
        let broker = try await TestBroker()
        try await MeshHarness.run(broker) { h in
            let base = ["mex-to": "BOB", "mex-workflowid": "WF"]
            let cases: [([String: String], [UInt8]?, Int, String, String)] = [
                (base.merging(["mex-to": "NOBODY"]) { $1 }, [1], 417, "SEND", "12"),
                (base, [], 417, "COLLECT", "02"),
                (base, nil, 417, "COLLECT", "02"),
                // HTTP itself forbids most control characters in field values; a tab reaches the broker.
                (base.merging(["mex-subject": "bad\tsubject"]) { $1 }, [1], 400, "TRANSFER", "06"),
                (base.merging(["mex-workflowid": "http://example"]) { $1 }, [1], 400, "TRANSFER", "06"),
                (base.merging(["mex-chunk-range": "2:3"]) { $1 }, [1], 417, "SEND", "InvalidHeaderChunks"),
                (base.merging(["mex-chunk-range": "1:0"]) { $1 }, [1], 417, "SEND", "InvalidHeaderChunks"),
                (base.merging(["content-encoding": "br"]) { $1 }, [1], 422, "SEND", "UnsupportedContentEncoding"),
                (base.merging(["mex-to": "CAROL"]) { $1 }, [1], 417, "SEND", "17"),
                (base.merging(["mex-workflowid": "UNKNOWN_WORKFLOW"]) { $1 }, [1], 417, "SEND", "17"),
                (base.merging(["mex-to": "  "]) { $1 }, [1], 400, "SEND", "08"),
            ]
            for (headers, body, status, event, code) in cases {
                let r = try await h.call(.post, "/messageexchange/ALICE/outbox", as: "ALICE", headers: headers, body: body)
                #expect(Int(r.status.code) == status, "\(headers) -> \(r.status)")
                #expect(r.meshError?.event == event && r.meshError?.code == code, "\(headers) -> \(r.text)")
            }
            // BOB may not send WF at all (code 16).
            let notSender = try await h.call(
                .post, "/messageexchange/BOB/outbox", as: "BOB", headers: ["mex-to": "ALICE", "mex-workflowid": "WF"], body: [1])
            #expect(notSender.meshError?.code == "16")
            let missing = try await h.call(.post, "/messageexchange/ALICE/outbox", as: "ALICE", headers: ["mex-to": "BOB"], body: [1])
            #expect(missing.status == .badRequest && missing.meshError != nil)
            let v1 = try await h.call(
                .post, "/messageexchange/ALICE/outbox", as: "ALICE", headers: ["mex-to": "NOBODY", "mex-workflowid": "WF"], body: [1], accept: nil)
            #expect(v1.json["errorCode"] as? String == "12" && v1.json["errorDescription"] as? String == "Unregistered to address")
            for mailbox in ["BOB", "CAROL", "ALICE"] { #expect(try await broker.parts.store.countInbox(mailbox: MailboxID(mailbox)) == 0) }
        }
    }

    @Test func oversizedBodyIs413AndStoresNothing() async throws {
        let small = try await TestBroker(maxRequestBytes: 1000)
        try await MeshHarness.run(small) { h in
            let headers = ["mex-to": "BOB", "mex-workflowid": "WF"]
            let r = try await h.call(.post, "/messageexchange/ALICE/outbox", as: "ALICE", headers: headers, body: [UInt8](repeating: 7, count: 1001))
            #expect(r.status == .contentTooLarge)
            #expect(try await small.parts.store.countInbox(mailbox: MailboxID("BOB")) == 0)
            let fits = try await h.call(
                .post, "/messageexchange/ALICE/outbox", as: "ALICE", headers: headers, body: [UInt8](repeating: 7, count: 1000))
            #expect(fits.status == .accepted)
        }
    }

    @Test func chunkedSendInAnyOrderDeliversOnlyWhenComplete() async throws {
        try await MeshHarness.run { h in
            let first = try await h.call(
                .post, "/messageexchange/ALICE/outbox", as: "ALICE",
                headers: ["mex-to": "BOB", "mex-workflowid": "WF", "mex-chunk-range": "1:3", "mex-localid": "chunky"], body: Array("aaaa".utf8))
            let id = try #require(first.json["message_id"] as? String)
            #expect(try await h.inbox().isEmpty)
            let third = try await h.call(
                .post, "/messageexchange/ALICE/outbox/\(id)/3", as: "ALICE", headers: ["mex-chunk-range": "3:3"], body: Array("cc".utf8))
            #expect(third.status == .accepted && third.text == "null")
            #expect(try await h.inbox().isEmpty)
            // Errors on chunks: wrong range, wrong sender, changed encoding, unknown message.
            let badRange = try await h.call(
                .post, "/messageexchange/ALICE/outbox/\(id)/2", as: "ALICE", headers: ["mex-chunk-range": "3:3"], body: [1])
            #expect(badRange.status == .expectationFailed && badRange.json["message_id"] as? String == id)
            let noRange = try await h.call(.post, "/messageexchange/ALICE/outbox/\(id)/2", as: "ALICE", body: [1])
            #expect(noRange.meshError?.code == "InvalidHeaderChunks")
            let other = try await h.call(.post, "/messageexchange/BOB/outbox/\(id)/2", as: "BOB", headers: ["mex-chunk-range": "2:3"], body: [1])
            #expect(other.status == .forbidden)
            let encoding = try await h.call(
                .post, "/messageexchange/ALICE/outbox/\(id)/2", as: "ALICE", headers: ["mex-chunk-range": "2:3", "content-encoding": "gzip"],
                body: [1])
            #expect(encoding.status == .expectationFailed && encoding.meshError?.msg == "cannot change content encoding")
            let tooHigh = try await h.call(
                .post, "/messageexchange/ALICE/outbox/\(id)/4", as: "ALICE", headers: ["mex-chunk-range": "4:3"], body: [1])
            #expect(tooHigh.status == .expectationFailed)
            let unknown = try await h.call(.post, "/messageexchange/ALICE/outbox/NOPE/2", as: "ALICE", headers: ["mex-chunk-range": "2:3"], body: [1])
            #expect(unknown.status == .notFound)
            let second = try await h.call(
                .post, "/messageexchange/ALICE/outbox/\(id)/2", as: "ALICE", headers: ["mex-chunk-range": "2:3"], body: Array("bbb".utf8),
                accept: "application/json")
            #expect(second.json["blockID"] as? Int == 2)
            #expect(try await h.inbox() == [id])
            let locked = try await h.call(.post, "/messageexchange/ALICE/outbox/\(id)/2", as: "ALICE", headers: ["mex-chunk-range": "2:3"], body: [1])
            #expect(locked.status.code == 423)
            var parts: [String] = []
            for (n, expected) in [(1, 206), (2, 206), (3, 200)] {
                let r = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)/\(n)", as: "BOB")
                #expect(Int(r.status.code) == expected)
                #expect(r.header("mex-chunk-range") == "\(n):3")
                parts.append(r.text)
            }
            #expect(parts.joined() == "aaaabbbcc")
            #expect(try await h.call(.get, "/messageexchange/BOB/inbox/\(id)/4", as: "BOB").meshError?.code == "20")
        }
    }

    @Test func gzipUploadsAreStoredAsSentAndDecodedForClientsWithoutGzip() async throws {
        try await MeshHarness.run { h in
            var plain = ByteBuffer(string: String(repeating: "compress me ", count: 50))
            let gz = try plain.compress(with: .gzip())
            let id = try await h.send(body: Array(gz.readableBytesView), headers: ["content-encoding": "gzip"])
            let passthrough = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB", headers: ["accept-encoding": "gzip"])
            #expect(passthrough.header("content-encoding") == "gzip" && passthrough.body == gz)
            #expect(passthrough.header("mex-content-compressed") == nil)
            let decoded = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB", headers: ["accept-encoding": "identity"])
            #expect(decoded.header("content-encoding") == nil && decoded.text == String(repeating: "compress me ", count: 50))
            // A body that says gzip but is not (or is cut short) is refused at upload, not at download.
            for bad in [Array("not gzip at all".utf8), Array(gz.readableBytesView.prefix(gz.readableBytes / 2))] {
                let r = try await h.call(
                    .post, "/messageexchange/ALICE/outbox", as: "ALICE",
                    headers: ["mex-to": "BOB", "mex-workflowid": "WF", "content-encoding": "gzip"], body: bad)
                #expect(r.status == .badRequest, "\(bad.count) bytes -> \(r.status)")
            }
            #expect(try await h.inbox().count == 1)
        }
    }

    /// `expiry: 1wd` counts on the workflow's escalation calendar; without one it takes its longest
    /// reading (seven days); an elapsed expiry is as written.
    @Test func aWorkingDayExpiryIsCountedOnTheWorkflowsCalendar() async throws {
        let routes =
            TestBroker.defaultRoutes + """

                  - {id: ON_CALENDAR, senders: ["*"], receivers: ["*"], expiry: 1wd, escalation: timed}
                  - {id: NO_CALENDAR, senders: ["*"], receivers: ["*"], expiry: 1wd}
                  - {id: ELAPSED, senders: ["*"], receivers: ["*"], expiry: 1d, escalation: timed}
                escalation_policies:
                  - id: timed
                    calendar: england
                    stages:
                      - {after: 2wd, when: not-downloaded, notify: [{sender: true}]}
                calendars:
                  - {id: england, timezone: Europe/London, working_hours: "09:00-17:00", working_days: [mon, tue, wed, thu, fri]}
                """
        // Friday 27 November 2026, 16:00 in London (GMT).
        let friday = CivilDateTime(year: 2026, month: 11, day: 27, hour: 16, minute: 0).timestamp
        let broker = try await TestBroker(routesYAML: routes, start: friday)
        try await MeshHarness.run(broker) { h in
            var sent: [String: String] = [:]
            for workflow in ["ON_CALENDAR", "NO_CALENDAR", "ELAPSED"] { sent[try await h.send(workflow: workflow)] = workflow }
            let listed = try #require(try await h.call(.get, "/messageexchange/BOB/inbox/rich", as: "BOB").json["messages"] as? [[String: Any]])
            let expiries = Dictionary(
                uniqueKeysWithValues: listed.compactMap { m in
                    (m["message_id"] as? String).flatMap { sent[$0] }.map { ($0, (m["expiry_timestamp"] as? String)?.prefix(19)) }
                })
            #expect(expiries["ON_CALENDAR"] == "2026-11-30T16:00:00", "Monday 16:00")
            #expect(expiries["NO_CALENDAR"] == "2026-12-04T16:00:00", "seven days")
            #expect(expiries["ELAPSED"] == "2026-11-28T16:00:00", "one day")
        }
    }
}
