import Foundation
import HandoverServer
import HandoverTestSupport
import Testing

/// `handover serve` refuses bad configuration at start with one line naming the setting: a table of
/// inputs and the words each refusal must contain. Each case used to be ignored, clamped, or to fail
/// only after the "listening" banner.
@Suite("Configuration refusals", .serialized)
struct ConfigurationRefusalTests {
    struct Case: Sendable, CustomStringConvertible {
        let arguments: [String]
        let environment: [String: String]
        let expected: [String]
        var description: String { (arguments + environment.map { "\($0.key)=\($0.value)" }).joined(separator: " ") }
    }

    static let cases: [Case] = [
        Case(arguments: [], environment: ["HANDOVER_PORT": "abc"], expected: ["HANDOVER_PORT", "whole number"]),
        Case(arguments: ["--port", "99999"], environment: [:], expected: ["--port", "0 to 65535"]),
        Case(arguments: [], environment: ["HANDOVER_SANDBOX": "on"], expected: ["HANDOVER_SANDBOX", "command line only"]),
        Case(arguments: ["--log-level", "verbose"], environment: [:], expected: ["--log-level", "trace", "debug"]),
        Case(arguments: ["--idle-timeout", "0"], environment: [:], expected: ["--idle-timeout", "1 to 86400"]),
        Case(arguments: [], environment: ["HANDOVER_RATE_LIMIT": "fast"], expected: ["HANDOVER_RATE_LIMIT"]),
        Case(arguments: ["--tls", "maybe"], environment: [:], expected: ["--tls", "mutual, server, off"]),
        Case(
            arguments: ["--oidc-issuer", "http://idp.example.org", "--oidc-client-id", "c"], environment: ["HANDOVER_OIDC_CLIENT_SECRET": "s"],
            expected: ["--oidc-issuer", "https"]),
        Case(arguments: ["--oidc-issuer", "https://idp.example.org", "--oidc-client-id", "c"], environment: [:], expected: ["--oidc-client-secret"]),
        Case(arguments: ["--oidc-client-id", "c"], environment: [:], expected: ["--oidc-client-id needs --oidc-issuer"]),
        Case(arguments: ["--routes", "/nonexistent/routes"], environment: [:], expected: ["--routes", "/nonexistent/routes", "does not exist"]),
        Case(
            arguments: ["--database", "sqlite:/nonexistent/folder/h.sqlite"], environment: [:],
            expected: ["--database", "/nonexistent/folder", "does not exist"]),
        Case(
            arguments: ["--receipt-cert", "/nonexistent/receipts.pem"], environment: [:], expected: ["--receipt-cert", "/nonexistent/receipts.pem"]),
        Case(
            arguments: ["--tls", "server", "--cert", "/nonexistent/server.pem", "--key", "/nonexistent/server.key"], environment: [:],
            expected: ["--cert", "/nonexistent/server.pem"]),
        Case(arguments: ["--sandbox", "--host", "0.0.0.0"], environment: [:], expected: ["--sandbox", "loopback"]),
    ]

    @Test(arguments: cases)
    func refusedWithTheSettingNamed(_ c: Case) throws {
        let (folder, routes) = try TestBroker.folderWithRoutes("config")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try BrokerProcess.binaryPath())
        var arguments = [
            "serve", "--port", "0", "--tls", "off", "--console", "off", "--routes", routes.path,
            "--database", "sqlite:" + folder.appendingPathComponent("h.sqlite").path,
        ]
        arguments += c.arguments
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("HANDOVER_") || $0.key == "HANDOVER_BINARY" }
            .merging(c.environment) { $1 }
        let output = Pipe()
        process.standardError = output
        process.standardOutput = output
        try process.run()
        // A broker that starts anyway must fail the test, not hang it.
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus != 0, "started anyway: \(text.prefix(300))")
        #expect(!text.contains("listening on"), "announced a listener before refusing")
        for words in c.expected { #expect(text.contains(words), "\(c): \(text.prefix(400))") }
    }

    @Test func sandboxIsRefusedOnAStoreAProductionBrokerUsed() async throws {
        let (folder, routes) = try TestBroker.folderWithRoutes("sandbox-store")
        let database = "sqlite:" + folder.appendingPathComponent("h.sqlite").path
        let production = try BrokerProcess(
            arguments: ["--tls", "off", "--routes", routes.path, "--database", database, "--shared-key", "K"],
            environment: TestBroker.passwords, logURL: folder.appendingPathComponent("production.log"))
        production.terminate()
        #expect(throws: BrokerProcessError.self) {
            _ = try BrokerProcess(
                arguments: ["--tls", "off", "--routes", routes.path, "--database", database, "--sandbox"],
                environment: TestBroker.passwords, logURL: folder.appendingPathComponent("sandbox.log"))
        }
        let log = try String(contentsOf: folder.appendingPathComponent("sandbox.log"), encoding: .utf8)
        #expect(log.contains("first used by a production broker"))
        // Said explicitly, it is allowed.
        let forced = try BrokerProcess(
            arguments: ["--tls", "off", "--routes", routes.path, "--database", database, "--sandbox", "--force-sandbox"],
            environment: TestBroker.passwords, logURL: folder.appendingPathComponent("forced.log"))
        forced.terminate()
    }

    @Test func aTokenSpentBeforeARestartIsStillRefusedAfterIt() async throws {
        let (folder, routes) = try TestBroker.folderWithRoutes("replay-restart")
        let arguments = [
            "--tls", "off", "--routes", routes.path, "--database", "sqlite:" + folder.appendingPathComponent("h.sqlite").path,
            "--shared-key", "TestKey",
        ]
        let token = MeshTokenFactory.header(mailbox: "ALICE", password: "alice-secret", sharedKey: "TestKey", now: SystemClock.now())
        func count(_ broker: BrokerProcess) async throws -> Int {
            let client = MeshWireClient(http: .shared, baseURL: "http://127.0.0.1:\(broker.port)", passwords: [:], sharedKey: "TestKey")
            return try await client.request(.GET, "/messageexchange/ALICE/count", as: "ALICE", headers: [("authorization", token)]).status
        }
        let first = try BrokerProcess(arguments: arguments, environment: TestBroker.passwords, logURL: folder.appendingPathComponent("1.log"))
        #expect(try await count(first) == 200)
        first.kill9()
        let second = try BrokerProcess(arguments: arguments, environment: TestBroker.passwords, logURL: folder.appendingPathComponent("2.log"))
        defer { second.terminate() }
        #expect(try await count(second) == 403, "a token spent before a kill -9 was accepted after the restart")
    }
}
