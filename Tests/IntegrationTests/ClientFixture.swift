import Foundation
import HandoverServer
import HandoverTestSupport

/// A broker over plain HTTP (with a receipt key) and a profile file for ALICE and BOB, for the tests of
/// `handover client` and `handover agent`, which run the real binary.
struct ClientFixture {
    let folder: URL
    let broker: BrokerProcess
    let config: URL

    struct Run {
        let status: Int32
        let out: String
        let err: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String: Any] ?? [:] }
    }

    static let environment = TestBroker.passwords.merging(["TEST_SHARED_KEY": TestBroker.sharedKey]) { $1 }

    init(_ name: String, chunkSize: Int = 1024) throws {
        let (folder, routes) = try TestBroker.folderWithRoutes(name)
        // A PKI for the receipt-signing key only: the broker listens on plain HTTP.
        let pki = DevelopmentPKI(folder: folder.appendingPathComponent("pki").path)
        _ = try pki.initialise(mailboxes: [])
        broker = try BrokerProcess(
            arguments: [
                "--tls", "off", "--routes", routes.path, "--database", "sqlite:" + folder.appendingPathComponent("h.sqlite").path,
                "--shared-key", TestBroker.sharedKey, "--data-dir", folder.appendingPathComponent("data").path,
                "--receipt-cert", pki.folder.appendingPathComponent("receipts.pem").path,
                "--receipt-key", pki.folder.appendingPathComponent("receipts.key").path,
            ],
            environment: TestBroker.passwords, logURL: folder.appendingPathComponent("broker.log"))
        self.folder = folder
        config = try Self.profiles(port: broker.port, in: folder, chunkSize: chunkSize)
    }

    static func profiles(port: Int, in folder: URL, chunkSize: Int = 1024, extra: String = "", name: String = "client.yaml") throws -> URL {
        let file = folder.appendingPathComponent(name)
        var yaml = "profiles:\n"
        for (profile, mailbox) in [("alice", "ALICE"), ("bob", "BOB")] {
            yaml += """
                  \(profile):
                    url: http://127.0.0.1:\(port)
                    mailbox: \(mailbox)
                    password_env: \(mailbox)_PW
                    shared_key_env: TEST_SHARED_KEY
                    chunk_size: \(chunkSize)

                """
        }
        try (yaml + extra).write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// Runs `handover <arguments> --config <profiles>` with standard output and standard error kept apart.
    func run(_ arguments: [String], config: URL? = nil, environment: [String: String] = ClientFixture.environment) throws -> Run {
        try Self.run(arguments, folder: folder, config: config ?? self.config, environment: environment)
    }

    /// `config` nil: a command that takes no profiles (`agent status`).
    static func run(_ arguments: [String], folder: URL, config: URL?, environment: [String: String] = ClientFixture.environment) throws -> Run {
        let (process, log) = try start(arguments, folder: folder, config: config, environment: environment)
        let out = (process.standardOutput as? Pipe)?.fileHandleForReading.readDataToEndOfFile() ?? Data()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, out: String(decoding: out, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines),
            err: (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    /// Starts `handover <arguments>` without waiting (to be killed); standard error goes to the file returned.
    func start(_ arguments: [String], environment: [String: String] = ClientFixture.environment) throws -> (Process, URL) {
        try Self.start(arguments, folder: folder, config: config, environment: environment)
    }

    static func start(_ arguments: [String], folder: URL, config: URL?, environment: [String: String]) throws -> (Process, URL) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try BrokerProcess.binaryPath())
        process.arguments = arguments + (config.map { ["--config", $0.path] } ?? [])
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = Pipe()
        let log = folder.appendingPathComponent("stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)  // a failure shows on the next line
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        return (process, log)
    }

    func stop() { broker.terminate() }
}
