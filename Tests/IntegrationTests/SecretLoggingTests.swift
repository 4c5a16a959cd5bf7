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
    @Test func aFullRunAtTraceLevelLogsNoSecret() async throws {
        let sharedKey = "shared-" + randomHex(bytes: 12)
        let masterKey = SecretBox.encodeKey(SecretBox.generateKeyBytes())
        let hookSecret = "hook-" + randomHex(bytes: 12)
        let passwords = ["ALICE": "alice-" + randomHex(bytes: 8), "BOB": "bob-" + randomHex(bytes: 8), "CAROL": "carol-" + randomHex(bytes: 8),
                         "DAVE": "dave-" + randomHex(bytes: 8)]
        let yaml = TestBroker.defaultRoutes + """

            webhooks:
              - {id: oncall, url: "http://127.0.0.1:9/hook", secret: "${HOOK_SECRET}", allow_private: true}
            """
        let (folder, routes) = try TestBroker.folderWithRoutes("secrets", yaml: yaml)
        var environment = ["HANDOVER_SHARED_KEY": sharedKey, "HANDOVER_MASTER_KEY": masterKey, "HOOK_SECRET": hookSecret,
                           "HANDOVER_LOG_LEVEL": "trace"]
        for (mailbox, password) in passwords { environment[mailbox + "_PW"] = password }
        let broker = try BrokerProcess(
            arguments: ["--tls", "off", "--routes", routes.path, "--database", "sqlite:" + folder.appendingPathComponent("h.sqlite").path],
            environment: environment, logURL: folder.appendingPathComponent("broker.log"))
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
        let unroutable = try await client.request(.POST, "/messageexchange/ALICE/outbox", as: "ALICE", headers: [("mex-to", "NOBODY"), ("mex-workflowid", "WF")], body: [1])
        #expect(unroutable.status == 417)

        let adminToken = try String(contentsOf: folder.appendingPathComponent("admin-token"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        var rotate = HTTPClientRequest(url: base + "/admin/mailboxes/CAROL/password")
        rotate.method = .POST
        rotate.headers.add(name: "authorization", value: "Bearer " + adminToken)
        let rotated = try await HTTPClient.shared.execute(rotate, timeout: .seconds(10))
        let rotatedBody = try await rotated.body.collect(upTo: 1 << 16)
        let newPassword = try #require((try JSONSerialization.jsonObject(with: Data(rotatedBody.readableBytesView)) as? [String: Any])?["password"] as? String)
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
        let secrets = ["shared key": sharedKey, "master key": masterKey, "webhook secret": hookSecret, "admin token": adminToken,
                       "rotated password": newPassword, "payload": "payload-marker-7731"]
            .merging(passwords.map { ("password of \($0.key)", $0.value) }) { a, _ in a }
        for (what, secret) in secrets {
            #expect(!log.contains(secret), "the log holds the \(what)")
        }
    }
}
