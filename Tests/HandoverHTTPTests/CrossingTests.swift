import CompressNIO
import Foundation
import HandoverCore
import HandoverTestSupport
import NIOCore
import Testing

/// The default routes plus governed workflows: D2A requires the four flows and the receiver's basis,
/// SG is a safeguarding workflow that only flags, TOC_FHIR_IP_DISCH reads Transfer of Care payloads.
let crossingRoutes =
    TestBroker.defaultRoutes.replacingOccurrences(
        of: "  - {code: X26, name: Org X26, domain: nhs}", with: "  - {code: X26, name: Org X26, domain: nhs, duty_mailbox: DUTY26}"
    )
    .replacingOccurrences(
        of: "mailboxes:\n", with: "mailboxes:\n  - {id: DUTY26, organisation: X26, name: X26 duty team, password: \"${DUTY_PW}\"}\n")
        + """

          - {id: D2A, senders: [ALICE], receivers: [X27], responsibility: required,
             crossing: {identity: required, lawful_basis: required, intent: required, provenance: flagged, receiver_basis: required,
                        defaults: {intent: {action: for-action, priority: urgent}}}}
          - {id: D2A_ACK, senders: [X27], receivers: [ALICE]}
          - {id: SG, senders: [ALICE], receivers: [X27], responsibility: required, safeguarding: true,
             crossing: {identity: flagged, lawful_basis: flagged, intent: flagged, receiver_basis: required}}
          - {id: SG_ACK, senders: [X27], receivers: [ALICE]}
          - {id: TOC_FHIR_IP_DISCH, senders: [ALICE], receivers: [X27], responsibility: required,
              crossing: {identity: flagged, test_nhs_numbers: allowed}}
          - {id: TOC_FHIR_IP_DISCH_ACK, senders: [X27], receivers: [ALICE]}
        """
let crossingEnvironment = TestBroker.passwords.merging(["DUTY_PW": "duty-secret"]) { $1 }

/// `Mex-Handover-Crossing` for a JSON declaration: base64url without padding.
func crossingHeader(_ json: String) -> String {
    Data(json.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

func decodedCrossingHeader(_ value: String?) -> [String: Any]? {
    guard var text = value?.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") else { return nil }
    text += String(repeating: "=", count: (4 - text.count % 4) % 4)
    return Data(base64Encoded: text).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
}

func fixtureBytes(_ path: String) throws -> [UInt8] {
    let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    return Array(try Data(contentsOf: tests.appendingPathComponent("Fixtures").appendingPathComponent(path)))
}

let completeCrossing = #"""
    {"subject":{"nhs_number":"4010232137","nhs_number_status":"01"},
     "lawful_basis":{"article6":"A6-1e","article9":"A9-2h","dpa18_sch1":"S1-P1-2","confidentiality":"CLDC-implied-direct-care"},
     "consent":{"state":"implied-direct-care","person_aware":true},
     "provenance":{"system":"Riverside EPR 4.2","author":{"name":"Dr Ada Okafor","role":"Consultant geriatrician"},
         "created_at":"2026-11-30T09:12:00Z"},
     "intent":{"purpose":"discharge-to-assess","question":"Please assess before discharge"}}
    """#
let receiverBasis = #""lawful_basis":{"article6":"A6-1e","article9":"A9-2h","dpa18_sch1":"S1-P1-2"}"#

@Suite("Governed crossings over MESH")
struct CrossingHTTPTests {
    func broker() async throws -> TestBroker { try await TestBroker(routesYAML: crossingRoutes, environment: crossingEnvironment) }

    @Test func aDeclaredCrossingReachesBothEndsAndOnlyThem() async throws {
        try await MeshHarness.run(try await broker()) { h in
            let id = try await h.send(workflow: "D2A", headers: ["mex-handover-crossing": crossingHeader(completeCrossing)])
            let inbox = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)/crossing", as: "BOB")
            #expect(inbox.status == .ok)
            let record = inbox.json
            #expect((record["subjects"] as? [[String: Any]])?.first?["nhs_number"] as? String == "4010232137")
            #expect(
                (record["sources"] as? [String: String]) == [
                    "subject": "sender", "lawful_basis": "sender", "consent": "sender",
                    "provenance": "sender", "intent": "sender",
                ])
            // Defaults filled the intent's gaps; the part stays the sender's.
            #expect((record["intent"] as? [String: Any])?["action"] as? String == "for-action")
            let derived = try #require(record["derived"] as? [String: Any])
            #expect(derived["sender_mailbox"] as? String == "ALICE" && derived["sender_organisation"] as? String == "X26")
            #expect(derived["sender_domain"] as? String == "nhs" && derived["sender_public_authority"] as? Bool == true)
            #expect(derived["payload_sha256"] as? String != nil && (derived["route"] as? [String: Any])?["addressed_by"] as? String == "mailbox")
            #expect((record["flags"] as? [Any])?.isEmpty == true)
            let outbox = try await h.call(.get, "/messageexchange/ALICE/outbox/\(id)/crossing", as: "ALICE")
            #expect(outbox.status == .ok && (outbox.json["subjects"] as? [Any])?.count == 1)
            // Nobody else, and not the wrong side.
            #expect(try await h.call(.get, "/messageexchange/CAROL/inbox/\(id)/crossing", as: "CAROL").status == .notFound)
            #expect(try await h.call(.get, "/messageexchange/BOB/outbox/\(id)/crossing", as: "BOB").status == .notFound)
            #expect(try await h.call(.get, "/messageexchange/ALICE/inbox/\(id)/crossing", as: "ALICE").status == .notFound)

            // Headers and tracking carry the record without who it is about.
            let download = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB")
            let header = try #require(decodedCrossingHeader(download.header("mex-handover-crossing")))
            #expect(header["subjects"] == nil && (header["sources"] as? [String: String])?["subject_withheld"] == "broker")
            #expect((header["lawful_basis"] as? [String: Any])?["article6"] as? String == "A6-1e")
            #expect(!download.headers.contains { $0.value.contains("4010232137") })
            let head = try await h.call(.head, "/messageexchange/BOB/inbox/\(id)", as: "BOB")
            #expect(decodedCrossingHeader(head.header("mex-handover-crossing"))?["subjects"] == nil)
            let tracking = try await h.call(.get, "/messageexchange/ALICE/outbox/tracking?messageID=\(id)", as: "ALICE")
            let tracked = try #require((tracking.json["handover"] as? [String: Any])?["crossing"] as? [String: Any])
            #expect(tracked["subjects"] == nil && (tracked["intent"] as? [String: Any])?["purpose"] as? String == "discharge-to-assess")
            #expect(!tracking.text.contains("4010232137"))
        }
    }

    @Test func requiredRefusesBeforeThe202AndNamesTheFieldNotTheValue() async throws {
        try await MeshHarness.run(try await broker()) { h in
            let noIdentity = completeCrossing.replacingOccurrences(of: #""subject":{"nhs_number":"4010232137","nhs_number_status":"01"},"#, with: "")
            let refused = try await h.call(
                .post, "/messageexchange/ALICE/outbox", as: "ALICE",
                headers: ["mex-to": "BOB", "mex-workflowid": "D2A", "mex-handover-crossing": crossingHeader(noIdentity)],
                body: Array("referral".utf8))
            #expect(refused.status == .expectationFailed)
            #expect(refused.meshError?.code == "HANDOVER-CROSSING-REQUIRED" && refused.meshError?.msg.contains("subject.nhs_number") == true)
            // A plain MESH send on a workflow that requires the flows is refused the same way.
            let plain = try await h.call(
                .post, "/messageexchange/ALICE/outbox", as: "ALICE",
                headers: ["mex-to": "BOB", "mex-workflowid": "D2A"], body: Array("referral".utf8))
            #expect(plain.status == .expectationFailed && plain.meshError?.code == "HANDOVER-CROSSING-REQUIRED")
            let v1 = try await h.call(
                .post, "/messageexchange/ALICE/outbox", as: "ALICE",
                headers: ["mex-to": "BOB", "mex-workflowid": "D2A"], body: Array("referral".utf8), accept: "application/json")
            #expect(v1.status == .expectationFailed && v1.json["errorCode"] as? String == "HANDOVER-CROSSING-REQUIRED")
            #expect(try await h.inbox().isEmpty)
            // A plain MESH client on a workflow that only records is unaffected.
            let id = try await h.send(workflow: "WF")
            let record = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)/crossing", as: "BOB").json
            #expect((record["flags"] as? [Any])?.isEmpty == true)
            #expect((record["derived"] as? [String: Any])?["sender_mailbox"] as? String == "ALICE")
            let metrics = try await h.call(.get, "/metrics").text
            #expect(metrics.contains(#"handover_crossing_refusals_total{workflow="D2A",code="HANDOVER-CROSSING-REQUIRED",flow="identity"} 3"#))
            #expect(metrics.contains(#"handover_crossing_gaps_total{workflow="WF",flow="identity",policy="recorded"} 1"#))
        }
    }

    @Test func aSafeguardingConcernNeverBouncesForAGapAndAMalformedOneTellsTheDutyTeam() async throws {
        let broker = try await broker()
        try await MeshHarness.run(broker) { h in
            let id = try await h.send(workflow: "SG", body: Array("concern".utf8))
            let record = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)/crossing", as: "BOB").json
            let flags = try #require(record["flags"] as? [[String: Any]])
            #expect(flags.compactMap { $0["flow"] as? String } == ["identity", "lawful_basis", "intent"])
            #expect(flags.allSatisfy { $0["shown"] as? Bool == true })
            let tracking = try await h.call(.get, "/messageexchange/ALICE/outbox/tracking?messageID=\(id)", as: "ALICE")
            #expect((((tracking.json["handover"] as? [String: Any])?["crossing"] as? [String: Any])?["flags"] as? [Any])?.count == 3)

            let bad = #"{"subject":{"nhs_number":"4010232138"},"provenance":{"author":{"name":"Dr Ada Okafor"}}}"#
            let refused = try await h.call(
                .post, "/messageexchange/ALICE/outbox", as: "ALICE",
                headers: ["mex-to": "BOB", "mex-workflowid": "SG", "mex-handover-crossing": crossingHeader(bad)],
                body: Array("concern".utf8))
            #expect(refused.status == .badRequest && refused.meshError?.code == "HANDOVER-CROSSING-INVALID")
            #expect(refused.meshError?.msg.contains("subject.nhs_number") == true && !refused.text.contains("4010232138"))
            let duty =
                try await h.call(.get, "/messageexchange/DUTY26/inbox", authorization: broker.auth("DUTY26", password: "duty-secret"))
                .json["messages"] as? [String] ?? []
            #expect(duty.count == 1)
            let notice = try await h.call(
                .get, "/messageexchange/DUTY26/inbox/\(duty[0])", authorization: broker.auth("DUTY26", password: "duty-secret"))
            #expect(notice.header("mex-workflowid") == "HANDOVER_ALERT" && notice.header("mex-from") == "HANDOVER")
            #expect(notice.json["event"] as? String == "safeguarding_crossing_refused" && notice.json["field"] as? String == "subject.nhs_number")
            #expect(!notice.text.contains("4010232138") && !notice.text.contains("Okafor"))
            // A system retrying the same mistake does not bury the duty inbox: three notices, then one per ten minutes.
            for _ in 0..<5 {
                _ = try await h.call(
                    .post, "/messageexchange/ALICE/outbox", as: "ALICE",
                    headers: ["mex-to": "BOB", "mex-workflowid": "SG", "mex-handover-crossing": crossingHeader(bad)], body: [1])
            }
            #expect(
                (try await h.call(.get, "/messageexchange/DUTY26/inbox", authorization: broker.auth("DUTY26", password: "duty-secret"))
                    .json["messages"] as? [String])?.count == 3)
            broker.clock.advance(seconds: 601)
            _ = try await h.call(
                .post, "/messageexchange/ALICE/outbox", as: "ALICE",
                headers: ["mex-to": "BOB", "mex-workflowid": "SG", "mex-handover-crossing": crossingHeader(bad)], body: [1])
            #expect(
                (try await h.call(.get, "/messageexchange/DUTY26/inbox", authorization: broker.auth("DUTY26", password: "duty-secret"))
                    .json["messages"] as? [String])?.count == 4)
            // The same mistake on a workflow that is not safeguarding tells nobody.
            _ = try await h.call(
                .post, "/messageexchange/ALICE/outbox", as: "ALICE",
                headers: ["mex-to": "BOB", "mex-workflowid": "D2A", "mex-handover-crossing": crossingHeader(bad)], body: Array("x".utf8))
            #expect(
                (try await h.call(.get, "/messageexchange/DUTY26/inbox", authorization: broker.auth("DUTY26", password: "duty-secret"))
                    .json["messages"] as? [String])?.count == 4)
        }
    }

    @Test func theReceiverStatesItsOwnBasisWhenTheWorkflowAsks() async throws {
        try await MeshHarness.run(try await broker()) { h in
            let id = try await h.send(workflow: "SG", body: Array("concern".utf8))
            _ = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB")
            let path = "/messageexchange/BOB/inbox/\(id)/responsibility"
            let person = #""by":{"name":"Sam Patel","role":"Social worker"}"#
            let without = try await h.call(.post, path, as: "BOB", body: Array(#"{"decision":"accept",\#(person)}"#.utf8))
            #expect(without.status == .expectationFailed && without.meshError?.code == "HANDOVER-RECEIVER-BASIS-REQUIRED")
            let unknown = try await h.call(
                .post, path, as: "BOB", body: Array(#"{"decision":"accept",\#(person),"lawful_basis":{"article6":"A6-9"}}"#.utf8))
            #expect(unknown.status == .badRequest && unknown.meshError?.msg.contains("lawful_basis.article6") == true)
            // A council is a public authority: legitimate interests are not its basis.
            let publicAuthority = try await h.call(
                .post, path, as: "BOB",
                body: Array(#"{"decision":"accept",\#(person),"lawful_basis":{"article6":"A6-1f","article9":"A9-2h","dpa18_sch1":"S1-P1-2"}}"#.utf8))
            #expect(publicAuthority.status == .badRequest && publicAuthority.meshError?.msg.contains("public authority") == true)
            let accepted = try await h.call(.post, path, as: "BOB", body: Array(#"{"decision":"accept",\#(person),\#(receiverBasis)}"#.utf8))
            #expect(accepted.status == .ok)
            let record = try await h.call(.get, "/messageexchange/ALICE/outbox/\(id)/crossing", as: "ALICE").json
            let receiver = try #require(record["receiver"] as? [String: Any])
            #expect(receiver["decision"] as? String == "accepted" && (receiver["by"] as? [String: Any])?["name"] as? String == "Sam Patel")
            #expect((receiver["lawful_basis"] as? [String: Any])?["dpa18_sch1"] as? String == "S1-P1-2")
        }
    }

    @Test(
        arguments: [
            ("fhir/toc-edischarge-stu3.xml", "application/fhir+xml", "9434765919", "ITK003D"),
            ("fhir/toc-edischarge-r4.json", nil, "9434765870", "ITK008D"),
        ] as [(String, String?, String, String)])
    func transferOfCarePayloadsFillTheRecord(_ file: String, _ contentType: String?, _ nhsNumber: String, _ event: String) async throws {
        try await MeshHarness.run(try await broker()) { h in
            let payload = try fixtureBytes(file)
            var headers = contentType.map { ["mex-content-type": $0] } ?? [:]
            let id = try await h.send(workflow: "TOC_FHIR_IP_DISCH", body: payload, headers: headers)
            let record = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)/crossing", as: "BOB").json
            #expect((record["subjects"] as? [[String: Any]])?.first?["nhs_number"] as? String == nhsNumber)
            #expect((record["sources"] as? [String: String])?["subject"] == "payload")
            let fhir = try #require((record["derived"] as? [String: Any])?["fhir"] as? [String: Any])
            #expect(fhir["event_code"] as? String == event && fhir["inf_ack_requested"] as? Bool == true && fhir["duplicate"] == nil)
            // The same MessageHeader.id again is a duplicate (ITK's 20007): delivered, flagged to both sides.
            headers["mex-localid"] = "again"
            let again = try await h.send(workflow: "TOC_FHIR_IP_DISCH", body: payload, headers: headers)
            let second = try await h.call(.get, "/messageexchange/BOB/inbox/\(again)/crossing", as: "BOB").json
            #expect(((second["derived"] as? [String: Any])?["fhir"] as? [String: Any])?["duplicate"] as? Bool == true)
            #expect((second["flags"] as? [[String: Any]])?.contains { $0["field"] as? String == "fhir.message_id" } == true)
            // The payload reaches the receiver untouched.
            #expect(Array(try await h.call(.get, "/messageexchange/BOB/inbox/\(id)", as: "BOB").body.readableBytesView) == payload)
        }
    }

    @Test func aGzippedBundleIsReadAndADisagreeingDeclarationRefused() async throws {
        try await MeshHarness.run(try await broker()) { h in
            let payload = try fixtureBytes("fhir/toc-edischarge-stu3.xml")
            var buffer = ByteBuffer(bytes: payload)
            let gzipped = Array(try buffer.compress(with: .gzip()).readableBytesView)
            let id = try await h.send(workflow: "TOC_FHIR_IP_DISCH", body: gzipped, headers: ["content-encoding": "gzip"])
            let record = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)/crossing", as: "BOB").json
            #expect((record["subjects"] as? [[String: Any]])?.first?["nhs_number"] as? String == "9434765919")
            let wrong = crossingHeader(#"{"subject":{"nhs_number":"4010232137"}}"#)
            let refused = try await h.call(
                .post, "/messageexchange/ALICE/outbox", as: "ALICE",
                headers: ["mex-to": "BOB", "mex-workflowid": "TOC_FHIR_IP_DISCH", "mex-handover-crossing": wrong],
                body: payload)
            #expect(refused.status == .badRequest && refused.meshError?.code == "HANDOVER-CROSSING-MISMATCH")
            #expect(!refused.text.contains("4010232137") && !refused.text.contains("9434765919"))
            #expect(try await h.inbox().count == 1)
        }
    }

    /// Every kind of bad input is a clear 4xx naming the problem, commits nothing, and never echoes
    /// an NHS number, name or date of birth.
    @Test func badInputIsRefusedClearly() async throws {
        let xml = String(decoding: try fixtureBytes("fhir/toc-edischarge-stu3.xml"), as: UTF8.self)
        let cases: [(String, [String: String], [UInt8], Int, String)] = [
            ("D2A", ["mex-handover-crossing": "%%%"], [1], 400, "base64url"),
            ("D2A", ["mex-handover-crossing": crossingHeader("[1]")], [1], 400, "JSON object"),
            ("D2A", ["mex-handover-crossing": crossingHeader(#"{"subject":{"nhs":"1"}}"#)], [1], 400, "subject.nhs"),
            ("D2A", ["mex-handover-crossing": String(repeating: "A", count: 5000)], [1], 400, "4096"),
            ("SG", ["mex-handover-crossing": crossingHeader(#"{"subject":{"nhs_number":"401023213"}}"#)], [1], 400, "10 digits"),
            ("SG", ["mex-handover-crossing": crossingHeader(#"{"subject":{"nhs_number":"40102321370"}}"#)], [1], 400, "10 digits"),
            ("SG", ["mex-handover-crossing": crossingHeader(#"{"subject":{"nhs_number":"2222222222"}}"#)], [1], 400, "repeated digit"),
            ("SG", ["mex-handover-crossing": crossingHeader(#"{"subject":{"nhs_number":"9434765919"}}"#)], [1], 400, "test number"),
            (
                "SG",
                [
                    "mex-handover-crossing": crossingHeader(
                        #"{"lawful_basis":{"article6":"A6-1e","confidentiality":"CLDC-implied-direct-care"},"consent":{"state":"refused"}}"#)
                ],
                [1], 400, "lawful_basis.confidentiality"
            ),
            ("SG", ["mex-handover-crossing": crossingHeader(#"{"intent":{"action":"whenever"}}"#)], [1], 400, "intent.action"),
            (
                "TOC_FHIR_IP_DISCH", [:],
                Array(
                    xml.replacingOccurrences(
                        of: "<Bundle xmlns", with: "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><Bundle xmlns"
                    ).utf8),
                400, "DTD"
            ),
            ("TOC_FHIR_IP_DISCH", [:], Array(xml.utf8.prefix(3000)), 400, "not complete"),
            (
                "TOC_FHIR_IP_DISCH", ["mex-content-type": "application/fhir+json"],
                Array("{\"resourceType\":\"Bundle\",\"type\":\"message\",\"entry\":".utf8) + Array(repeating: UInt8(ascii: "["), count: 80), 400,
                "FHIR"
            ),
            (
                "TOC_FHIR_IP_DISCH", ["mex-content-type": "application/fhir+json"], Array(#"{"resourceType":"Patient"}"#.utf8), 400,
                "not a FHIR Bundle"
            ),
        ]
        try await MeshHarness.run(try await broker()) { h in
            for (workflow, headers, body, status, words) in cases {
                let response = try await h.call(
                    .post, "/messageexchange/ALICE/outbox", as: "ALICE",
                    headers: ["mex-to": "BOB", "mex-workflowid": workflow].merging(headers) { $1 }, body: body)
                #expect(Int(response.status.code) == status, "\(words): \(response.status) \(response.text)")
                #expect(response.meshError?.msg.contains(words) == true, "\(words): \(response.text)")
                for secret in ["9434765919", "4010232137", "Testpatient", "Florence", "1938-04-02", "2222222222"] {
                    #expect(!response.text.contains(secret), "\(words) echoed a value")
                }
            }
            #expect(try await h.inbox().isEmpty)
            // Not FHIR at all: delivered untouched with nothing derived.
            let id = try await h.send(workflow: "TOC_FHIR_IP_DISCH", body: Array("<html>not fhir</html>".utf8))
            let record = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)/crossing", as: "BOB").json
            #expect((record["derived"] as? [String: Any])?["fhir"] == nil && record["subjects"] == nil)
        }
    }

    @Test func theSignedReceiptCarriesTheRecord() async throws {
        let broker = try await broker()
        try await MeshHarness.run(broker) { h in
            let id = try await h.send(workflow: "D2A", headers: ["mex-handover-crossing": crossingHeader(completeCrossing)])
            let response = try await h.call(.get, "/messageexchange/ALICE/outbox/\(id)/receipt", as: "ALICE")
            let receipt = try #require(response.json["receipt"] as? String)
            let fields = try #require(try JSONSerialization.jsonObject(with: Data(receipt.utf8)) as? [String: Any])
            #expect(fields["receipt_version"] as? Int == 2)
            let crossing = try #require(fields["crossing"] as? [String: Any])
            #expect((crossing["lawful_basis"] as? [String: Any])?["article9"] as? String == "A9-2h")
            #expect((crossing["subjects"] as? [[String: Any]])?.first?["nhs_number"] as? String == "4010232137")
            let ca = broker.folder.appendingPathComponent("pki/ca.pem").path
            #expect(
                try ReceiptTests().opensslVerifies(
                    receipt: receipt, signature: try #require(response.json["signature"] as? String), ca: ca, in: broker.folder))
            let tampered = receipt.replacingOccurrences(of: "A9-2h", with: "A9-2a")
            #expect(
                try !ReceiptTests().opensslVerifies(
                    receipt: tampered, signature: try #require(response.json["signature"] as? String), ca: ca, in: broker.folder))
        }
    }

    /// The code lists are directory entries: an admin adds a local confidentiality basis, live, and the
    /// next crossing may use it; the change is a new directory version, with its diff.
    @Test func anAdminExtendsTheVocabularyLive() async throws {
        let broker = try await broker()
        let token = AdminTokenFormat.generate()
        try await broker.parts.store.createAdminToken(
            name: "dpo", role: .admin, tokenHash: AdminTokenFormat.hash(token), expiresAt: nil, now: broker.clock.now)
        try await MeshHarness.run(broker) { h in
            let local = crossingHeader(#"{"lawful_basis":{"article6":"A6-1e","confidentiality":"CLDC-local-agreement"}}"#)
            let before = try await h.call(
                .post, "/messageexchange/ALICE/outbox", as: "ALICE",
                headers: ["mex-to": "BOB", "mex-workflowid": "WF", "mex-handover-crossing": local], body: [1])
            #expect(before.status == .badRequest && before.meshError?.msg.contains("CLDC-implied-direct-care") == true)
            let put = try await h.call(
                .put, "/admin/lawful-basis-codes/CLDC-local-agreement", headers: ["content-type": "application/json"],
                body: Array(#"{"id":"CLDC-local-agreement","list":"confidentiality","name":"Riverside information-sharing agreement 2026"}"#.utf8),
                accept: nil, authorization: "Bearer \(token)")
            #expect(put.status == .ok && put.json["version"] as? Int == 2)
            let id = try await h.send(headers: ["mex-handover-crossing": local])
            let record = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)/crossing", as: "BOB").json
            #expect((record["lawful_basis"] as? [String: Any])?["confidentiality"] as? String == "CLDC-local-agreement")
            // The list replaced the built-in confidentiality list; the other lists are unchanged.
            let builtIn = crossingHeader(#"{"lawful_basis":{"article6":"A6-1e","confidentiality":"CLDC-implied-direct-care"}}"#)
            let refused = try await h.call(
                .post, "/messageexchange/ALICE/outbox", as: "ALICE",
                headers: ["mex-to": "BOB", "mex-workflowid": "WF", "mex-handover-crossing": builtIn], body: [1])
            #expect(refused.status == .badRequest && refused.meshError?.msg.contains("CLDC-local-agreement") == true)
            let bad = try await h.call(
                .put, "/admin/lawful-basis-codes/X1", headers: ["content-type": "application/json"],
                body: Array(#"{"id":"X1","list":"article99"}"#.utf8), accept: nil, authorization: "Bearer \(token)")
            #expect(bad.status.code == 422 && bad.text.contains("article6, article9, dpa18_sch1, confidentiality"))
        }
    }

    /// A restricted subject (a sensitive record) is whole only in the recipient's view.
    @Test func aRestrictedSubjectIsShownOnlyToTheRecipient() async throws {
        try await MeshHarness.run(try await broker()) { h in
            let restricted = crossingHeader(#"{"subject":{"nhs_number":"4010232137","nhs_number_status":"01","restricted":true}}"#)
            let id = try await h.send(headers: ["mex-handover-crossing": restricted])
            let recipient = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)/crossing", as: "BOB").json
            #expect((recipient["subjects"] as? [[String: Any]])?.first?["nhs_number"] as? String == "4010232137")
            let sender = try await h.call(.get, "/messageexchange/ALICE/outbox/\(id)/crossing", as: "ALICE")
            #expect(!sender.text.contains("4010232137"))
            #expect((sender.json["subjects"] as? [[String: Any]])?.first?["restricted"] as? Bool == true)
            let receipt = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)/receipt", as: "BOB")
            #expect(receipt.status == .ok && !receipt.text.contains("4010232137"))
        }
    }
}
