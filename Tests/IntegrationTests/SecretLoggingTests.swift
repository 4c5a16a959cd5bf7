import AsyncHTTPClient
import Foundation
import HandoverCore
import HandoverServer
import HandoverTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// A whole run of a real broker at trace level, with every kind of secret set, then a search of its
/// log for each secret. Service-start lines used to print the whole environment at debug level.
@Suite("Secrets never reach the log", .serialized)
struct SecretLoggingTests {
    /// The real binary at trace level on plain HTTP, with `passwords` as `<MAILBOX>_PW`.
    func traceBroker(_ name: String, yaml: String, passwords: [String: String], environment: [String: String]) throws -> (URL, BrokerProcess) {
        let (folder, routes) = try TestBroker.folderWithRoutes(name, yaml: yaml)
        var environment = environment.merging(["HANDOVER_LOG_LEVEL": "trace"]) { $1 }
        for (mailbox, password) in passwords { environment[mailbox + "_PW"] = password }
        let broker = try BrokerProcess(
            arguments: ["--tls", "off", "--routes", routes.path, "--database", "sqlite:" + folder.appendingPathComponent("h.sqlite").path],
            environment: environment, logURL: folder.appendingPathComponent("broker.log"))
        return (folder, broker)
    }

    @Test func aFullRunAtTraceLevelLogsNoSecret() async throws {
        let sharedKey = "shared-" + randomHex(bytes: 12)
        let masterKey = SecretBox.encodeKey(SecretBox.generateKeyBytes())
        let hookSecret = "hook-" + randomHex(bytes: 12)
        let passwords = [
            "ALICE": "alice-" + randomHex(bytes: 8), "BOB": "bob-" + randomHex(bytes: 8), "CAROL": "carol-" + randomHex(bytes: 8),
            "DAVE": "dave-" + randomHex(bytes: 8),
        ]
        let yaml =
            TestBroker.defaultRoutes + """

                webhooks:
                  - {id: oncall, url: "http://127.0.0.1:9/hook", secret: "${HOOK_SECRET}", allow_private: true}
                """
        let (folder, broker) = try traceBroker(
            "secrets", yaml: yaml, passwords: passwords,
            environment: ["HANDOVER_SHARED_KEY": sharedKey, "HANDOVER_MASTER_KEY": masterKey, "HOOK_SECRET": hookSecret])
        defer { broker.terminate() }
        let base = "http://127.0.0.1:\(broker.port)"
        let client = MeshWireClient(http: .shared, baseURL: base, passwords: passwords, sharedKey: sharedKey)
        let id = try #require(try await client.send(from: "ALICE", to: "BOB", body: Array("payload-marker-7731".utf8)))
        #expect(try await client.inbox("BOB") == [id])
        #expect(try await client.request(.GET, "/messageexchange/BOB/inbox/\(id)", as: "BOB").status == 200)
        #expect(try await client.request(.PUT, "/messageexchange/BOB/inbox/\(id)/status/acknowledged", as: "BOB").status == 200)
        #expect(try await client.request(.GET, "/messageexchange/ALICE/outbox/tracking?messageID=\(id)", as: "ALICE").status == 200)
        var wrong = client
        wrong = MeshWireClient(http: .shared, baseURL: base, passwords: ["ALICE": "not-" + passwords["ALICE"]!], sharedKey: sharedKey)
        #expect(try await wrong.request(.GET, "/messageexchange/ALICE/count", as: "ALICE").status == 403)
        // A routing refusal (417), logged with its code and reason.
        let unroutable = try await client.request(
            .POST, "/messageexchange/ALICE/outbox", as: "ALICE", headers: [("mex-to", "NOBODY"), ("mex-workflowid", "WF")], body: [1])
        #expect(unroutable.status == 417)

        let adminToken = try String(contentsOf: folder.appendingPathComponent("admin-token"), encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        var rotate = HTTPClientRequest(url: base + "/admin/mailboxes/CAROL/password")
        rotate.method = .POST
        rotate.headers.add(name: "authorization", value: "Bearer " + adminToken)
        let rotated = try await HTTPClient.shared.execute(rotate, timeout: .seconds(10))
        let rotatedBody = try await rotated.body.collect(upTo: 1 << 16)
        let newPassword = try #require(
            (try JSONSerialization.jsonObject(with: Data(rotatedBody.readableBytesView)) as? [String: Any])?["password"] as? String)
        broker.terminate()

        let log = try String(contentsOf: broker.logURL, encoding: .utf8)
        #expect(log.contains("\"level\":\"trace\"") || log.contains("\"level\":\"debug\""), "the run was not at trace level")
        // An operator's log: every line JSON (the banner too), refusals with their reasons and the client's address.
        let lines = log.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.allSatisfy { $0.hasPrefix("{") }, "a line is not JSON: \(lines.first { !$0.hasPrefix("{") } ?? "")")
        #expect(log.contains("Handover listening on"))
        #expect(log.contains("send refused by routing") && log.contains("Unregistered to address"))
        #expect(log.contains("authentication refused") && log.contains("handover.client_address"))
        #expect(log.contains("closing the store"))
        let secrets = [
            "shared key": sharedKey, "master key": masterKey, "webhook secret": hookSecret, "admin token": adminToken,
            "rotated password": newPassword, "payload": "payload-marker-7731",
        ]
        .merging(passwords.map { ("password of \($0.key)", $0.value) }) { a, _ in a }
        for (what, secret) in secrets {
            #expect(!log.contains(secret), "the log holds the \(what)")
        }
    }

    /// Governed crossings carry who a message is about; a whole run at trace level with declared and
    /// derived identities, refusals and views leaves no NHS number, name or date of birth in the log
    /// or the audit log.
    @Test func crossingsAtTraceLevelLogNoIdentity() async throws {
        let sharedKey = "shared-" + randomHex(bytes: 12)
        let passwords = ["ALICE": "alice-" + randomHex(bytes: 8), "BOB": "bob-" + randomHex(bytes: 8)]
        let yaml =
            TestBroker.defaultRoutes + """

                  - {id: SG, senders: [ALICE], receivers: [X27], responsibility: required, safeguarding: true,
                     crossing: {identity: flagged, lawful_basis: flagged, intent: flagged, receiver_basis: required}}
                  - {id: SG_ACK, senders: [X27], receivers: [ALICE]}
                  - {id: TOC_FHIR_IP_DISCH, senders: [ALICE], receivers: [X27], crossing: {test_nhs_numbers: allowed}}
                  - {id: TOC_FHIR_IP_DISCH_ACK, senders: [X27], receivers: [ALICE]}
                """
        let (folder, broker) = try traceBroker(
            "crossing-log", yaml: yaml, passwords: passwords,
            environment: [
                "HANDOVER_SHARED_KEY": sharedKey, "HANDOVER_MASTER_KEY": SecretBox.encodeKey(SecretBox.generateKeyBytes()),
            ])
        defer { broker.terminate() }
        let client = MeshWireClient(http: .shared, baseURL: "http://127.0.0.1:\(broker.port)", passwords: passwords, sharedKey: sharedKey)
        func header(_ json: String) -> (String, String) {
            (
                "mex-handover-crossing",
                Data(json.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                    .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            )
        }
        let declared = header(
            #"{"subject":{"nhs_number":"4010232137","local_ids":[{"system":"urn:x","value":"C104233"}]},"#
                + #""provenance":{"author":{"name":"Dr Ada Okafor"}}}"#
        )
        let id = try #require(try await client.send(from: "ALICE", to: "BOB", workflow: "SG", body: Array("concern".utf8), headers: [declared]))
        let fhir = try Data(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Fixtures/fhir/toc-edischarge-stu3.xml"))
        let toc = try #require(try await client.send(from: "ALICE", to: "BOB", workflow: "TOC_FHIR_IP_DISCH", body: Array(fhir)))
        let invalid = header(#"{"subject":{"nhs_number":"4010232138"}}"#)
        #expect(
            try await client.request(
                .POST, "/messageexchange/ALICE/outbox", as: "ALICE",
                headers: [("mex-to", "BOB"), ("mex-workflowid", "SG"), invalid], body: [1]
            ).status == 400)
        let mismatch = header(#"{"subject":{"nhs_number":"4010232137"}}"#)
        #expect(
            try await client.request(
                .POST, "/messageexchange/ALICE/outbox", as: "ALICE",
                headers: [("mex-to", "BOB"), ("mex-workflowid", "TOC_FHIR_IP_DISCH"), mismatch], body: Array(fhir)
            ).status == 400)
        for message in [id, toc] {
            #expect(try await client.request(.GET, "/messageexchange/BOB/inbox/\(message)/crossing", as: "BOB").status == 200)
            #expect(try await client.request(.GET, "/messageexchange/BOB/inbox/\(message)", as: "BOB").status == 200)
            #expect(try await client.request(.GET, "/messageexchange/ALICE/outbox/tracking?messageID=\(message)", as: "ALICE").status == 200)
        }
        let accept =
            #"{"decision":"accept","by":{"name":"Sam Patel"},"lawful_basis":{"article6":"A6-1e","article9":"A9-2b","dpa18_sch1":"S1-P2-18"}}"#
        #expect(try await client.request(.POST, "/messageexchange/BOB/inbox/\(id)/responsibility", as: "BOB", body: Array(accept.utf8)).status == 200)
        let adminToken = try String(contentsOf: folder.appendingPathComponent("admin-token"), encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        var auditRequest = HTTPClientRequest(url: "http://127.0.0.1:\(broker.port)/admin/audit?limit=1000")
        auditRequest.headers.add(name: "authorization", value: "Bearer " + adminToken)
        let audit = String(buffer: try await HTTPClient.shared.execute(auditRequest, timeout: .seconds(10)).body.collect(upTo: 1 << 22))
        #expect(audit.contains("entries") || audit.contains("["), "the audit log was not read: \(audit.prefix(200))")
        broker.terminate()

        let log = try String(contentsOf: broker.logURL, encoding: .utf8)
        #expect(
            log.contains("send refused by crossing policy") && log.contains("HANDOVER-CROSSING-INVALID") && log.contains("HANDOVER-CROSSING-MISMATCH")
        )
        for identifying in ["4010232137", "4010232138", "9434765919", "C104233", "Okafor", "Florence", "Testpatient", "1938-04-02"] {
            #expect(!log.contains(identifying), "the log holds \(identifying)")
            #expect(!audit.contains(identifying), "the audit log holds \(identifying)")
        }
    }
}
