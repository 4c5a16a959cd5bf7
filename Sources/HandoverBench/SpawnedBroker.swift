import Foundation

/// A `handover serve` started by the benchmark on a fresh SQLite store in a temporary folder (or on
/// the configured PostgreSQL database), with
/// `BENCH000…` mailboxes that may all send the bench workflow to each other, and no rate limit.
public final class SpawnedBroker {
    let process = Process()
    let port: Int
    let folder: URL
    var pid: Int32 { process.processIdentifier }

    /// One master key for every broker this benchmark run starts (32 zero-free bytes, base64url).
    static let masterKey = Data((0..<32).map { _ in UInt8.random(in: 1...255) }).base64EncodedString()
        .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")

    /// A broker that does not start leaves nothing behind: its process is stopped and its folder removed.
    init(
        config: BenchConfiguration, binary: String,
        folder: URL = FileManager.default.temporaryDirectory.appendingPathComponent("handover-bench-\(UUID().uuidString)")
    ) throws {
        self.folder = folder
        port = try Self.freePort()
        do {
            try start(config: config, binary: binary)
        } catch {
            stop()
            throw error
        }
    }

    private func start(config: BenchConfiguration, binary: String) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var routes = "organisations:\n  - {code: BENCH, name: Benchmark, domain: nhs}\nmailboxes:\n"
        for i in 0..<config.mailboxes {
            routes += "  - {id: \(config.mailbox(i)), organisation: BENCH, name: Bench \(i), password: \"${BENCH_PASSWORD}\"}\n"
        }
        routes += "workflows:\n  - {id: \(config.workflow), senders: [\"*\"], receivers: [\"*\"]}\n"
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("routes"), withIntermediateDirectories: true)
        try routes.write(to: folder.appendingPathComponent("routes/bench.yaml"), atomically: true, encoding: .utf8)
        var listening = ["--tls", "off"]
        if config.mutualTLS {
            let pki = Self.pkiFolder(folder).path
            try Self.runToEnd(binary, ["certs", "init", "--folder", pki, "--routes", folder.appendingPathComponent("routes").path])
            try Self.runToEnd(binary, ["certs", "issue", config.mailboxPrefix, "--folder", pki])
            listening = ["--tls", "mutual", "--cert", pki + "/server.pem", "--key", pki + "/server.key", "--client-ca", pki + "/ca.pem"]
        }
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments =
            [
                "serve", "--port", String(port), "--console", "off", "--rate-limit", "0", "--log-level", "warning", "--log-format", "json",
                "--routes", folder.appendingPathComponent("routes").path, "--shared-key", config.sharedKey,
                "--database", config.database ?? "sqlite:" + folder.appendingPathComponent("bench.sqlite").path,
                "--data-dir", folder.path,
            ] + listening
        // Instances on one PostgreSQL database share a master key (none is generated there).
        process.environment = ProcessInfo.processInfo.environment.merging([
            "BENCH_PASSWORD": config.password,
            "HANDOVER_MASTER_KEY": Self.masterKey,
        ]) { $1 }
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while !Self.accepting(port: port) {
            guard process.isRunning, Date() < deadline else { throw BenchError("the broker did not start") }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
        // On a filesystem mounted with `discard` the freed blocks are trimmed at the journal's next
        // commit, and a commit waiting for that trim stalls for about half a millisecond per MiB
        // (docs/PERFORMANCE.md): sync now, so the trim falls here and not inside the next run.
        sync()
    }

    /// The development PKI of a mutual-TLS run: `ca.pem`, `server.pem`, and `clients/<ORGANISATION>.pem`.
    static func pkiFolder(_ folder: URL) -> URL { folder.appendingPathComponent("pki") }
    var pki: URL { Self.pkiFolder(folder) }

    static func runToEnd(_ binary: String, _ arguments: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = arguments
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw BenchError("handover \(arguments.prefix(2).joined(separator: " ")) failed") }
    }

    /// A free TCP port on 127.0.0.1 (bound, read back, released).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { throw BenchError("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether something accepts connections on 127.0.0.1:`port`.
    public static func accepting(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

public struct BenchError: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}
