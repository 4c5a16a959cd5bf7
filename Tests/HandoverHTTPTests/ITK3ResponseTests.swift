import Foundation
import HandoverCore
import HandoverTestSupport
import Testing

/// `acks: fhir-itk3` (the default for `TOC_…` workflows): ITK3 response Bundles, only when asked.
@Suite("ITK3 responses for Transfer of Care")
struct ITK3ResponseTests {
    func broker() async throws -> TestBroker { try await TestBroker(routesYAML: crossingRoutes, environment: crossingEnvironment) }

    /// The sender's inbox on the `_ACK` workflow: each response read back as a FHIR message.
    func responses(
        _ h: MeshHarness, after: Set<String> = []
    ) async throws -> [(id: String, text: String, facts: FHIRMessageFacts, contentType: String?)] {
        var found: [(String, String, FHIRMessageFacts, String?)] = []
        for id in try await h.inbox("ALICE") where !after.contains(id) {
            let r = try await h.call(.get, "/messageexchange/ALICE/inbox/\(id)", as: "ALICE")
            #expect(r.header("mex-workflowid") == "TOC_FHIR_IP_DISCH_ACK")
            let bytes = Array(r.body.readableBytesView)
            let format = try #require(FHIRMessageReader.format(contentType: r.header("mex-content-type"), prefix: bytes))
            let reading = try #require(try FHIRMessageReader.read(bytes, format: format).get())
            found.append((id, r.text, reading.facts, r.header("mex-content-type")))
        }
        return found
    }

    @Test func anSTU3XMLDischargeGetsBothResponsesInXMLWithoutThePatient() async throws {
        try await MeshHarness.run(try await broker()) { h in
            let original = try fixtureBytes("fhir/toc-edischarge-stu3.xml")
            let id = try await h.send(workflow: "TOC_FHIR_IP_DISCH", body: original, headers: ["mex-localid": "DS-42"])
            let infrastructure = try await responses(h)
            #expect(infrastructure.count == 1)
            let inf = try #require(infrastructure.first)
            #expect(inf.contentType == "application/fhir+xml" && inf.facts.format == .xml && inf.facts.version == "STU3")
            #expect(inf.facts.eventCode == "ITK008M" && inf.facts.senderReference == "RIVERSIDE-DS-20261130-0042")
            #expect(inf.facts.infAckRequested == false && inf.facts.busAckRequested == false && inf.facts.recipientType == "FI")
            #expect(inf.text.contains(#"<response><identifier value="7c9e6679-7425-40de-944b-e07fc1f90ae7"/><code value="ok"/></response>"#))
            #expect(inf.text.contains(#"<code value="20013"/>"#) && inf.text.contains(#"<severity value="information"/>"#))
            for identifying in ["9434765919", "Testpatient", "Florence", "1938-04-02"] { #expect(!inf.text.contains(identifying)) }
            let tracked = try await h.call(.get, "/messageexchange/ALICE/outbox/tracking?messageID=\(id)", as: "ALICE").text
            #expect(tracked.contains("delivery_ack_sent"))

            // The receiver does not know the person yet, and accepts anyway: a business response, not an error.
            _ = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB")
            let path = "/messageexchange/BOB/inbox/\(id)/responsibility"
            let badCode = try await h.call(
                .post, path, as: "BOB", body: Array(#"{"decision":"accept","by":{"name":"Sam Patel"},"itk_response_code":"20013"}"#.utf8))
            #expect(badCode.status == .badRequest && badCode.meshError?.msg.contains("30001, 30002, 30003, 30004") == true)
            let accepted = try await h.call(
                .post, path, as: "BOB", body: Array(#"{"decision":"accept","by":{"name":"Sam Patel"},"itk_response_code":"30002"}"#.utf8))
            #expect(accepted.status == .ok)
            let business = try await responses(h, after: [inf.id])
            #expect(business.count == 1)
            let bus = try #require(business.first)
            #expect(bus.text.contains(#"<code value="30002"/>"#) && bus.text.contains(#"<code value="ok"/>"#) && !bus.text.contains("fatal-error"))
            #expect(bus.text.contains(#"<severity value="warning"/>"#) && bus.facts.senderReference == "RIVERSIDE-DS-20261130-0042")
            // An outcome is not an ITK response: it shows in tracking only.
            let outcome = try await h.call(
                .post, "/messageexchange/BOB/inbox/\(id)/outcome", as: "BOB",
                body: Array(#"{"code":"assessed","by":{"name":"Sam Patel"}}"#.utf8))
            #expect(outcome.status == .ok)
            #expect(try await h.inbox("ALICE").count == 2)
        }
    }

    @Test func anR4JSONMessageGetsOnlyWhatItAskedFor() async throws {
        try await MeshHarness.run(try await broker()) { h in
            let id = try await h.send(workflow: "TOC_FHIR_IP_DISCH", body: try fixtureBytes("fhir/toc-edischarge-r4.json"))
            let infrastructure = try await responses(h)
            let inf = try #require(infrastructure.first)
            #expect(infrastructure.count == 1 && inf.contentType == "application/fhir+json" && inf.facts.version == "R4")
            let bundle = try #require(try JSONSerialization.jsonObject(with: Data(inf.text.utf8)) as? [String: Any])
            let header = try #require(((bundle["entry"] as? [[String: Any]])?.first?["resource"]) as? [String: Any])
            #expect((header["response"] as? [String: Any])?["identifier"] as? String == "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")
            #expect(header["focus"] is [Any] && (header["eventCoding"] as? [String: Any])?["code"] as? String == "ITK008M")
            // BusAckRequested was false: the decision sends nothing.
            _ = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB")
            let accepted = try await h.call(
                .post, "/messageexchange/BOB/inbox/\(id)/responsibility", as: "BOB",
                body: Array(#"{"decision":"decline","by":{"name":"Sam Patel"},"note":"not our area"}"#.utf8))
            #expect(accepted.status == .ok)
            #expect(try await h.inbox("ALICE").count == 1)
        }
    }

    @Test func aTransferOfCareWorkflowCarryingSomethingElseKeepsHandoversAcknowledgement() async throws {
        try await MeshHarness.run(try await broker()) { h in
            let id = try await h.send(workflow: "TOC_FHIR_IP_DISCH", body: Array("a scanned letter".utf8))
            #expect(try await h.inbox("ALICE").isEmpty)
            _ = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB")
            _ = try await h.call(
                .post, "/messageexchange/BOB/inbox/\(id)/responsibility", as: "BOB",
                body: Array(#"{"decision":"accept","by":{"name":"Sam Patel"}}"#.utf8))
            let acks = try await h.inbox("ALICE")
            #expect(acks.count == 1)
            let ack = try await h.call(.get, "/messageexchange/ALICE/inbox/\(acks[0])", as: "ALICE")
            #expect(ack.json["event"] as? String == "responsibility_accepted")
        }
    }

    @Test func aChunkedBundleIsPassedThroughUnread() async throws {
        try await MeshHarness.run(try await broker()) { h in
            let payload = try fixtureBytes("fhir/toc-edischarge-stu3.xml")
            let half = payload.count / 2
            let first = try await h.call(
                .post, "/messageexchange/ALICE/outbox", as: "ALICE",
                headers: ["mex-to": "BOB", "mex-workflowid": "TOC_FHIR_IP_DISCH", "mex-chunk-range": "1:2"],
                body: Array(payload[..<half]))
            #expect(first.status == .accepted)
            let id = try #require(first.json["message_id"] as? String)
            let second = try await h.call(
                .post, "/messageexchange/ALICE/outbox/\(id)/2", as: "ALICE", headers: ["mex-chunk-range": "2:2"],
                body: Array(payload[half...]))
            #expect(second.status == .accepted)
            #expect(try await h.inbox().contains(id))
            let record = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)/crossing", as: "BOB").json
            #expect((record["derived"] as? [String: Any])?["fhir"] == nil && record["subjects"] == nil)
            #expect(try await h.inbox("ALICE").isEmpty)
        }
    }
}
