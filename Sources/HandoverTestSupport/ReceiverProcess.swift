import Foundation
import HandoverBench

/// A helper process for the tests: Tests/Alerts/receivers.py (HTTP with schema checks, an SMTP sink,
/// a silent relay), Debian's Alertmanager, or the power-cut filesystem (Tests/Faults). Started on a
/// free loopback port where it has one, stopped by its own process id.
public final class ReceiverProcess: @unchecked Sendable {
    public let process = Process()
    public let port: Int
    public let folder: URL

    public struct Unavailable: Error, CustomStringConvertible { public let description: String }

    /// The repository root, for Tests/Alerts.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static let scripts = root.appendingPathComponent("Tests/Alerts")

    /// The Python with aiosmtpd, jsonschema and fusepy: `HANDOVER_TEST_PYTHON`, else the checkout's
    /// `.venv` that `./scripts/test` makes.
    public static let python: String? = {
        let candidate = ProcessInfo.processInfo.environment["HANDOVER_TEST_PYTHON"] ?? root.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: candidate) else { return nil }
        let check = Process()
        check.executableURL = URL(fileURLWithPath: candidate)
        check.arguments = ["-c", "import aiosmtpd, jsonschema, fuse"]
        check.standardOutput = FileHandle.nullDevice
        check.standardError = FileHandle.nullDevice
        guard (try? check.run()) != nil else { return nil }
        check.waitUntilExit()
        return check.terminationStatus == 0 ? candidate : nil
    }()

    public static let alertmanagerPath = "/usr/bin/prometheus-alertmanager"
    /// `./scripts/test` installs every receiver and sets this, so there a missing one fails the run rather than skipping.
    public static let required = ProcessInfo.processInfo.environment["HANDOVER_TEST_RECEIVERS"] == "required"
    public static var pythonReady: Bool { python != nil || required }
    public static var alertmanagerReady: Bool { FileManager.default.isExecutableFile(atPath: alertmanagerPath) || required }

    /// Starts `receivers.py MODE ARGS…`; waits for its "PORT n" line.
    public static func start(_ mode: String, _ arguments: [String] = []) throws -> ReceiverProcess {
        guard let python else {
            throw Unavailable(description: "no Python with aiosmtpd, jsonschema and fusepy (run ./scripts/test, or set HANDOVER_TEST_PYTHON)")
        }
        return try ReceiverProcess(
            executable: python, arguments: [scripts.appendingPathComponent("receivers.py").path, mode] + arguments, announcesPort: true)
    }

    /// Starts any program that listens on `port` (HAProxy in front of PostgreSQL).
    public static func listening(_ executable: String, _ arguments: [String], port: Int) throws -> ReceiverProcess {
        try ReceiverProcess(executable: executable, arguments: arguments, announcesPort: false, port: port)
    }

    /// Mounts Tests/Faults/powercut_fs.py over `backing` at `mountpoint`; creating `trigger` cuts the power.
    public static func powerCutFilesystem(backing: URL, mountpoint: URL, trigger: URL) throws -> ReceiverProcess {
        guard let python else { throw Unavailable(description: "no Python with fusepy (run ./scripts/test, or set HANDOVER_TEST_PYTHON)") }
        let script = root.appendingPathComponent("Tests/Faults/powercut_fs.py").path
        return try ReceiverProcess(executable: python, arguments: [script, backing.path, mountpoint.path, trigger.path], announcesPort: true)
    }

    /// Starts Alertmanager on a free port with a configuration that groups by workflow and receiving organisation.
    public static func alertmanager() throws -> ReceiverProcess {
        guard FileManager.default.isExecutableFile(atPath: alertmanagerPath) else {
            throw Unavailable(description: "\(alertmanagerPath) is missing (apt-get install prometheus-alertmanager)")
        }
        let folder = TestFolders.path("handover-alertmanager")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let config = """
            route:
              receiver: duty
              group_by: [workflow, receiving_organisation]
              group_wait: 1s
              group_interval: 5s
            receivers:
              - name: duty
            """
        try config.write(to: folder.appendingPathComponent("alertmanager.yml"), atomically: true, encoding: .utf8)
        let port = try SpawnedBroker.freePort()
        return try ReceiverProcess(
            executable: alertmanagerPath,
            arguments: [
                "--config.file=" + folder.appendingPathComponent("alertmanager.yml").path,
                "--storage.path=" + folder.appendingPathComponent("data").path,
                "--web.listen-address=127.0.0.1:\(port)", "--cluster.listen-address=", "--log.level=warn",
            ], announcesPort: false, port: port, folder: folder)
    }

    init(executable: String, arguments: [String], announcesPort: Bool, port: Int = 0, folder: URL? = nil) throws {
        self.folder = folder ?? TestFolders.path("handover-receiver")
        try FileManager.default.createDirectory(at: self.folder, withIntermediateDirectories: true)
        let output = self.folder.appendingPathComponent("output.txt")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)  // a failure shows on the next line
        let handle = try FileHandle(forWritingTo: output)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        var found: Int? = announcesPort ? nil : port
        while Date() < deadline {
            if announcesPort {
                let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
                if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("PORT ") }), let n = Int(line.dropFirst(5)) {
                    found = n
                    break
                }
            } else if SpawnedBroker.accepting(port: port) {
                break
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        self.port = found ?? 0
        // "PORT 0": ready, with no port to tell (the power-cut filesystem once mounted).
        guard process.isRunning, let found, announcesPort || SpawnedBroker.accepting(port: found) else {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            stop()
            throw Unavailable(description: "\(URL(fileURLWithPath: executable).lastPathComponent) did not start: \(text.suffix(800))")
        }
    }

    /// SIGKILL: a test process may hand its children SIGTERM ignored (service-lifecycle handles
    /// SIGTERM itself), and a throwaway receiver has nothing to save.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }

    /// What the process printed (for failure messages).
    public var output: String { (try? String(contentsOf: folder.appendingPathComponent("output.txt"), encoding: .utf8)) ?? "" }

    /// Each line of a JSON-lines log the receiver writes, decoded.
    public static func entries(_ log: URL) -> [[String: Any]] {
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
}
