import Foundation

/// A real `handover serve` child process on loopback, for integration tests. It is started with
/// `--port 0` and reports the port the kernel chose from its own log line.
public final class BrokerProcess: @unchecked Sendable {
    public let process: Process
    public let port: Int
    public let logURL: URL

    /// The built `handover` executable: `HANDOVER_BINARY`, or next to the test bundle.
    public static func binaryPath() throws -> String {
        if let path = ProcessInfo.processInfo.environment["HANDOVER_BINARY"] { return path }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<3 {
            let candidate = dir.appendingPathComponent("handover").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        throw BrokerProcessError("the handover executable is not built; run `swift build` first or set HANDOVER_BINARY")
    }

    public init(arguments: [String], environment: [String: String] = [:], logURL: URL, timeout: TimeInterval = 30) throws {
        self.logURL = logURL
        _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        log.seekToEndOfFile()
        process = Process()
        process.executableURL = URL(fileURLWithPath: try BrokerProcess.binaryPath())
        // The console listens on a fixed port by default: test brokers run side by side without it
        // unless a test asks for it.
        let console = arguments.contains { $0.hasPrefix("--console") } ? [] : ["--console", "off"]
        process.arguments = ["serve", "--port", "0", "--log-format", "json"] + console + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = log
        process.standardError = log
        let startOffset = (try? FileManager.default.attributesOfItem(atPath: logURL.path)[.size] as? Int) ?? 0
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let text = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
            let fresh = String(text.utf8.dropFirst(startOffset)) ?? ""
            // The main listener's port: with --monitoring-port there are two "listening" lines, in either order.
            let monitoring = arguments.firstIndex(of: "--monitoring-port").flatMap {
                arguments.indices.contains($0 + 1) ? Int(arguments[$0 + 1]) : nil
            }
            var searchFrom = fresh.startIndex
            var found: Int?
            while found == nil,
                let range = fresh.range(
                    of: #"listening on [0-9.:\[\]a-f]+:([0-9]+)"#, options: .regularExpression, range: searchFrom..<fresh.endIndex)
            {
                if let candidate = fresh[range].split(separator: ":").last.flatMap({ Int($0) }), candidate != monitoring { found = candidate }
                searchFrom = range.upperBound
            }
            if let found {
                port = found
                return
            }
            guard process.isRunning else { throw BrokerProcessError("handover exited at start:\n\(fresh)") }
            guard Date() < deadline else {
                process.terminate()
                throw BrokerProcessError("handover did not start within \(timeout)s:\n\(fresh)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// SIGKILL: no cleanup, no flush — the crash the durability tests simulate.
    public func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, then SIGKILL if the broker is still running 20 s later, so a broker that fails to
    /// shut down fails its test instead of hanging the suite.
    public func terminate() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill9() } else { process.waitUntilExit() }
    }

    deinit { terminate() }
}

public struct BrokerProcessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs the `handover` executable once (a CLI command) and returns its exit status and output.
public enum HandoverCommand {
    public static func run(
        _ arguments: [String], environment: [String: String] = [:], includeErrors: Bool = true
    ) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try BrokerProcess.binaryPath())
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = includeErrors ? pipe : FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
