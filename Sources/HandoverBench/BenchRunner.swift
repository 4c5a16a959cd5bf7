import Foundation
import NIOCore
import NIOSSL
import Synchronization

/// Runs one benchmark and prints a report: throughput, latency percentiles per operation and the
/// broker's peak memory. Load goes to loopback only, bounded by `durationSeconds` or a message count.
public struct BenchRunner: Sendable {
    let config: BenchConfiguration
    let brokerBinary: String

    public init(config: BenchConfiguration, brokerBinary: String) {
        self.config = config
        self.brokerBinary = brokerBinary
    }

    public func run() async throws -> String {
        var brokers: [SpawnedBroker] = []
        defer { for broker in brokers { broker.stop() } }
        let bases: [String]
        if let url = config.url {
            bases = [url]
        } else {
            for _ in 0..<max(1, config.instances) { brokers.append(try SpawnedBroker(config: config, binary: brokerBinary)) }
            bases = brokers.map { "\(config.mutualTLS ? "https" : "http")://127.0.0.1:\($0.port)" }
        }
        let pids = brokers.isEmpty ? [config.brokerPID].compactMap { $0 } : brokers.map(\.pid)
        var tlsContext: NIOSSLContext?
        if config.mutualTLS, let pki = brokers.first?.pki {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(pki.appendingPathComponent("ca.pem").path)
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(pki.appendingPathComponent("clients/\(config.mailboxPrefix).pem").path).map {
                .certificate($0)
            }
            tls.privateKey = .privateKey(
                try NIOSSLPrivateKey(file: pki.appendingPathComponent("clients/\(config.mailboxPrefix).key").path, format: .pem))
            tlsContext = try NIOSSLContext(configuration: tls)
        }
        let pools = try bases.map { try BenchConnectionPool(base: $0, tls: tlsContext) }
        defer { for pool in pools { pool.shutdown() } }
        let recorder = LatencyRecorder()
        let clients = pools.map { BenchClient(http: $0, config: config, recorder: recorder) }
        let client = BenchClients(all: clients)
        if config.warmupSeconds > 0, config.mode == .send || config.mode == .cycle {
            // Unrecorded: opens the clients' connections and the broker's reader connections and
            // statement caches, so the figures describe the steady state, not the first second.
            var warm = config
            warm.durationSeconds = config.warmupSeconds
            let warmRunner = BenchRunner(config: warm, brokerBinary: brokerBinary)
            let warmClients = BenchClients(all: pools.map { BenchClient(http: $0, config: warm, recorder: LatencyRecorder()) })
            _ = config.mode == .send ? await warmRunner.runSend(warmClients) : await warmRunner.runCycle(warmClients)
        }
        let started = ContinuousClock.now
        let cpuAtStart = (brokers: pids.map { cpuSeconds(pid: $0) }, generator: cpuSeconds(pid: nil))
        let storageAtStart = pids.map { storageWrites(pid: $0) }
        var summary: [String] = []
        do {
            switch config.mode {
            case .send: summary = await runSend(client)
            case .cycle: summary = await runCycle(client)
            case .large: summary = try await runLarge(client)
            case .list: summary = await runList(client)
            }
        }
        let elapsed = ContinuousClock.now - started
        var lines = [
            "handover bench: mode \(config.mode.rawValue), \(config.clients) clients, \(config.mailboxes) mailboxes, "
                + "\(config.messageBytes) B messages, against \(target)"
        ]
        lines += summary
        lines.append(
            String(
                format: "%-12@ %9@ %6@ %9@ %9@ %9@ %9@ %9@", "operation" as NSString, "count" as NSString, "fail" as NSString,
                "p50 ms" as NSString, "p90 ms" as NSString, "p99 ms" as NSString, "p99.9 ms" as NSString, "max ms" as NSString))
        for row in recorder.rows() {
            lines.append(
                String(
                    format: "%-12@ %9llu %6d %9.2f %9.2f %9.2f %9.2f %9.2f", row.operation as NSString, row.count, row.failures,
                    row.p50, row.p90, row.p99, row.p999, row.max))
        }
        for pid in pids {
            if let peak = peakResidentMiB(pid: pid) { lines.append(String(format: "broker %d peak memory (VmHWM): %.1f MiB", pid, peak)) }
        }
        // What bounds a run on a small machine: the cores each side used over the whole run.
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let brokerCPU = zip(pids, cpuAtStart.brokers).compactMap { pid, start in start.flatMap { s in cpuSeconds(pid: pid).map { $0 - s } } }.reduce(
            0, +)
        if !pids.isEmpty, seconds > 0 {
            lines.append(
                String(format: "CPU: brokers %.2f cores", brokerCPU / seconds)
                    + (cpuAtStart.generator.flatMap { s in
                        cpuSeconds(pid: nil).map { String(format: ", load generator %.2f cores", ($0 - s) / seconds) }
                    } ?? "")
                    + ", of \(ProcessInfo.processInfo.activeProcessorCount)")
        }
        // Per send (in cycles, per cycle): steadier than throughput on a machine whose speed varies,
        // so a change that saves a little shows beside the run-to-run spread.
        let storage = zip(pids, storageAtStart).compactMap { pid, start in start.flatMap { s in storageWrites(pid: pid).map { $0 - s } } }
        if let sends = recorder.rows().first(where: { $0.operation == "send" })?.count, sends > 0, !pids.isEmpty {
            let unit = config.mode == .cycle ? "cycle" : "send"
            lines.append(
                String(format: "per %@: broker CPU %.3f ms", unit as NSString, brokerCPU * 1000 / Double(sends))
                    + (storage.count == pids.count
                        ? String(format: ", storage writes %.1f KiB", Double(storage.reduce(0, +)) / 1024 / Double(sends)) : ""))
        }
        lines.append(String(format: "wall time %.1f s", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
        return lines.joined(separator: "\n")
    }

    var target: String {
        if let url = config.url { return url }
        let store = (config.database.map { _ in "PostgreSQL" } ?? "SQLite, synchronous=FULL") + (config.mutualTLS ? ", mutual TLS" : "")
        return config.instances > 1 ? "\(config.instances) spawned brokers (\(store))" : "a spawned broker (\(store))"
    }

    func payload(_ size: Int, seed: Int) -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: size)
        for i in 0..<size { buffer.writeInteger(UInt8(truncatingIfNeeded: i &* 31 &+ seed)) }
        return buffer
    }

    /// Runs `body` on every client until the deadline, paced to `targetRate` if set. Returns the loop count.
    /// Paced clients are spread evenly over one interval, so requests arrive one at a time at the rate
    /// asked for; started together, all the clients would fire in the same instant every interval, and
    /// the latency measured would be that of a burst as large as the client count.
    func loop(_ body: @escaping @Sendable (Int, Int) async -> Bool) async -> Int {
        let start = ContinuousClock.now
        let deadline = start + .milliseconds(Int(config.durationSeconds * 1000))
        let interval: Duration? = config.targetRate > 0 ? .microseconds(Int64(Double(config.clients) / config.targetRate * 1_000_000)) : nil
        let done = Counter()
        let clients = config.clients
        await withTaskGroup(of: Void.self) { group in
            for c in 0..<clients {
                group.addTask {
                    var i = 0
                    var next = start + (interval.map { Self.offset(ofClient: c, of: clients, interval: $0) } ?? .zero)
                    while ContinuousClock.now < deadline {
                        if let interval {
                            next = next + interval
                            if next > ContinuousClock.now { try? await Task.sleep(until: next) }
                        }
                        if await body(c, i) { done.add() }
                        i += 1
                    }
                }
            }
        }
        return done.value
    }

    /// Where a paced client's ticks fall within the shared interval: evenly apart, in client order.
    public static func offset(ofClient client: Int, of clients: Int, interval: Duration) -> Duration { interval / clients * client }

    func rate(_ n: Int) -> String { String(format: "%.0f/s", Double(n) / config.durationSeconds) }

    func runSend(_ client: BenchClients) async -> [String] {
        let body = payload(config.messageBytes, seed: 7)
        let sent = await loop { c, i in
            await client.sender(c).send(from: config.mailbox(c), to: config.mailbox(c + 1), payload: body) != nil
        }
        return ["sends: \(sent) in \(config.durationSeconds) s = \(rate(sent))"]
    }

    func runCycle(_ client: BenchClients) async -> [String] {
        let body = payload(config.messageBytes, seed: 11)
        let cycles = await loop { c, _ in
            let (from, to) = (config.mailbox(c + config.mailboxes / 2), config.mailbox(c))
            guard let id = await client.sender(c).send(from: from, to: to, payload: body) else { return false }
            let receiver = client.receiver(c)
            _ = await receiver.list(to, maxResults: 10)
            guard await receiver.download(to, id) == config.messageBytes else { return false }
            return await receiver.acknowledge(to, id) == true
        }
        return ["full cycles (send, list, download, acknowledge): \(cycles) in \(config.durationSeconds) s = \(rate(cycles))"]
    }

    func runLarge(_ clients: BenchClients) async throws -> [String] {
        let client = clients.all[0]
        let chunks = Int((config.largeBytes + Int64(config.chunkBytes) - 1) / Int64(config.chunkBytes))
        let chunk = payload(config.chunkBytes, seed: 3)
        let from = config.mailbox(0), to = config.mailbox(1)
        let upStart = ContinuousClock.now
        guard let id = await client.send(from: from, to: to, payload: chunk, chunkRange: "1:\(chunks)") else { return ["large: first chunk failed"] }
        for n in 2...max(2, chunks) where n <= chunks {
            let r = client.request(
                .POST, "/messageexchange/\(from)/outbox/\(id)/\(n)", as: from,
                headers: [("mex-chunk-range", "\(n):\(chunks)"), ("content-type", "application/octet-stream")], body: chunk)
            let ok: Bool? = await client.timed("send-chunk", r, timeout: .seconds(600)) { $0.status == .accepted ? true : nil }
            guard ok == true else { return ["large: chunk \(n) failed"] }
        }
        let up = ContinuousClock.now - upStart
        let downStart = ContinuousClock.now
        var received = 0
        for n in 1...chunks { received += await client.download(to, id, chunk: n, op: "download-chunk") ?? 0 }
        let down = ContinuousClock.now - downStart
        let total = Double(Int64(chunks) * Int64(config.chunkBytes)) / 1_048_576
        func mbps(_ d: Duration) -> Double { total / (Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18) }
        return [
            String(
                format: "large message: %.0f MiB in %d chunks; upload %.1f MiB/s, download %.1f MiB/s, %@", total, chunks, mbps(up), mbps(down),
                (received == chunks * config.chunkBytes ? "all bytes back" : "BYTES MISSING") as NSString)
        ]
    }

    func runList(_ clients: BenchClients) async -> [String] {
        let client = clients.all[0]
        let body = payload(config.messageBytes, seed: 5)
        let target = config.mailbox(0)
        let filled = Counter()
        let perClient = (config.prefill + config.clients - 1) / config.clients
        await withTaskGroup(of: Void.self) { group in
            for c in 0..<config.clients {
                group.addTask {
                    for _ in 0..<perClient where filled.value < config.prefill {
                        if await client.send(from: config.mailbox(c + 1), to: target, payload: body) != nil { filled.add() }
                    }
                }
            }
        }
        let recorder = LatencyRecorder()
        let lister = BenchClient(http: client.http, config: config, recorder: recorder)
        for _ in 0..<config.listSamples { _ = await lister.list(target, maxResults: 500) }
        let row = recorder.rows().first
        return [
            "inbox of \(filled.value) messages; \(config.listSamples) listings of 500 ids: "
                + String(format: "p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms", row?.p50 ?? 0, row?.p90 ?? 0, row?.p99 ?? 0, row?.max ?? 0)
        ]
    }
}

/// Peak resident memory of a process, from /proc (Linux).
public func peakResidentMiB(pid: Int32) -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
        let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
    else { return nil }
    return kb / 1024
}

/// Bytes a process has caused to be written to storage (dirtied in the page cache, or written
/// directly), from /proc (Linux): `write_bytes` of `/proc/PID/io`.
public func storageWrites(pid: Int32) -> Int64? {
    guard let io = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8),
        let line = io.split(separator: "\n").first(where: { $0.hasPrefix("write_bytes:") })
    else { return nil }
    return Int64(line.split(separator: " ").last ?? "")
}

/// CPU time (user + system) a process has used, in seconds, from /proc (Linux). With `pid` nil, this process.
public func cpuSeconds(pid: Int32?) -> Double? {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid.map(String.init) ?? "self")/stat", encoding: .utf8),
        let afterName = stat.range(of: ") ")?.upperBound
    else { return nil }
    // Fields after the command name start at field 3; utime and stime are fields 14 and 15.
    let fields = stat[afterName...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// A shared count for the client tasks.
final class Counter: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

/// The clients of each broker instance: client `c` sends through instance `c mod n` and, in a
/// cycle, receives through the next one, so messages cross instances.
struct BenchClients: Sendable {
    let all: [BenchClient]
    func sender(_ c: Int) -> BenchClient { all[c % all.count] }
    func receiver(_ c: Int) -> BenchClient { all[(c + 1) % all.count] }
}
