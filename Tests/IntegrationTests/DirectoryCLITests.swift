import AsyncHTTPClient
import Foundation
import HandoverCore
import HandoverTestSupport
import NIOCore
import Testing

/// The directory CLI against a real store and a running broker.
@Suite("Directory CLI", .serialized)
struct DirectoryCLITests {
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, out: String) {
        let (status, output) = try HandoverCommand.run(arguments, environment: environment, includeErrors: false)
        return (status, output)
    }

    @Test func certificatesAreIssuedOnlyForMailboxNamesAndReceiptKeysRotate() throws {
        let folder = TestFolders.path("handover-certs")
        let pki = folder.appendingPathComponent("pki")
        #expect(try run(["certs", "init", "--folder", pki.path, "--routes", "/nonexistent"]).status == 0)
        let escape = try run(["certs", "issue", "../../escape-test", "--folder", pki.path])
        #expect(escape.status != 0)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("escape-test.pem").path))
        #expect(!FileManager.default.fileExists(atPath: pki.deletingLastPathComponent().appendingPathComponent("ESCAPE-TEST.pem").path))
        #expect(try run(["certs", "issue", "LA713SAFE", "--folder", pki.path]).status == 0)
        #expect(FileManager.default.fileExists(atPath: pki.appendingPathComponent("clients/LA713SAFE.pem").path))
        let before = try String(contentsOf: pki.appendingPathComponent("receipts.pem"), encoding: .utf8)
        let rotated = try run(["certs", "rotate-receipts", "--folder", pki.path])
        #expect(rotated.status == 0 && rotated.out.contains("previous one kept"))
        #expect(try String(contentsOf: pki.appendingPathComponent("receipts.pem"), encoding: .utf8) != before)
        let kept = try FileManager.default.contentsOfDirectory(atPath: pki.path).filter { $0.hasPrefix("receipts-") && $0.hasSuffix(".pem") }
        #expect(kept.count == 1)
        #expect(try String(contentsOf: pki.appendingPathComponent(kept[0]), encoding: .utf8) == before)
    }

    @Test func validateSpeaksPlainlyAndTakesTheFileExportWrites() throws {
        let folder = TestFolders.path("handover-plain")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let missing = try HandoverCommand.run(["routes", "validate", folder.appendingPathComponent("nowhere").path])
        #expect(missing.status == 1 && missing.output.contains("no such folder or file") && !missing.output.contains("NSCocoaErrorDomain"))
        let broken = folder.appendingPathComponent("broken.yaml")
        try "organisations:\n  - {code: A, name: x, domain: nhs\n".write(to: broken, atomically: true, encoding: .utf8)
        let syntax = try HandoverCommand.run(["routes", "validate", broken.path])
        // Yams reports the line and column ("3:1: error: …").
        #expect(
            syntax.status == 1 && syntax.output.contains("broken.yaml") && syntax.output.range(of: #"\d+:\d+"#, options: .regularExpression) != nil,
            "\(syntax.output)")
        let noPKI = try HandoverCommand.run(["certs", "issue", "BOB", "--folder", folder.appendingPathComponent("no-pki").path])
        #expect(
            noPKI.status != 0 && noPKI.output.contains("no such file or folder") && !noPKI.output.contains("NSCocoaErrorDomain"), "\(noPKI.output)")
        let missingStore = folder.appendingPathComponent("typo.sqlite")
        let list = try HandoverCommand.run(["admin", "token", "list", "--database", "sqlite:" + missingStore.path])
        #expect(list.status != 0 && list.output.contains("no store there"))
        #expect(!FileManager.default.fileExists(atPath: missingStore.path), "a read-only command created a store")
        let single = folder.appendingPathComponent("directory.yaml")
        try TestBroker.defaultRoutes.write(to: single, atomically: true, encoding: .utf8)
        let valid = try HandoverCommand.run(["routes", "validate", single.path])
        #expect(valid.status == 0 && valid.output.contains("valid"), "\(valid.output)")
    }

    @Test func importReachesARunningBrokerAndExportRoundTrips() async throws {
        let (folder, routes) = try TestBroker.folderWithRoutes("cli")
        let edited = folder.appendingPathComponent("edited")
        try FileManager.default.createDirectory(at: edited, withIntermediateDirectories: true)
        let database = "sqlite:" + folder.appendingPathComponent("h.sqlite").path
        let env = TestBroker.passwords

        let token = try run(["admin", "token", "create", "--name", "ops", "--role", "viewer", "--database", database])
        #expect(token.status == 0)
        let tokenLine = try #require(token.out.split(separator: "\n").last.map(String.init))
        #expect(tokenLine.hasPrefix("hvt_"))

        let broker = try BrokerProcess(
            arguments: ["--tls", "off", "--routes", routes.path, "--database", database, "--shared-key", "TestKey"],
            environment: env, logURL: folder.appendingPathComponent("broker.log"))
        defer { broker.terminate() }
        let client = MeshWireClient(
            http: .shared, baseURL: "http://127.0.0.1:\(broker.port)", passwords: TestBroker.mailboxPasswords, sharedKey: "TestKey")
        #expect(try await client.send(from: "ALICE", to: "CAROL", body: [1]) == nil)

        // Let ALICE send WF to CAROL's organisation too, through the CLI.
        try TestBroker.defaultRoutes.replacingOccurrences(
            of: "{id: WF, senders: [ALICE], receivers: [X27], expiry: 1h}",
            with: "{id: WF, senders: [ALICE], receivers: [X27, X28], expiry: 1h}"
        )
        .replacingOccurrences(of: "{id: WF_ACK, senders: [X27], receivers: [ALICE]}", with: "{id: WF_ACK, senders: [X27, X28], receivers: [ALICE]}")
        .write(to: edited.appendingPathComponent("d.yaml"), atomically: true, encoding: .utf8)
        let diff = try run(["routes", "diff", edited.path, "--database", database])
        #expect(diff.out.contains("changed workflow WF (receivers)"))
        let imported = try run(["routes", "import", edited.path, "--database", database], environment: env)
        #expect(imported.status == 0 && imported.out.contains("version 2"))
        var delivered = false
        for _ in 0..<40 where !delivered {
            delivered = try await client.send(from: "ALICE", to: "CAROL", body: [1]) != nil
            if !delivered { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(delivered, "the running broker did not pick up the imported directory")

        var request = HTTPClientRequest(url: "http://127.0.0.1:\(broker.port)/admin/directory/history")
        request.headers.add(name: "authorization", value: "Bearer \(tokenLine)")
        let history = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        #expect(history.status == .ok)

        let exported = try run(["routes", "export", "--database", database])
        let roundTrip = folder.appendingPathComponent("roundtrip")
        try FileManager.default.createDirectory(at: roundTrip, withIntermediateDirectories: true)
        try exported.out.write(to: roundTrip.appendingPathComponent("export.yaml"), atomically: true, encoding: .utf8)
        let again = try run(["routes", "diff", roundTrip.path, "--database", database])
        #expect(again.out.contains("no changes"), "export did not import back to the same directory: \(again.out)")
        #expect(try run(["routes", "validate", roundTrip.path]).status == 0)
    }
}
