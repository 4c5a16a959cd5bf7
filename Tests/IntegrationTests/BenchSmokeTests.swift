import Foundation
import HandoverTestSupport
import Testing

@testable import HandoverBench

/// `handover bench` against a spawned broker, briefly: the load generator works, and concurrent
/// send-list-download-acknowledge cycles complete. (Before reads and commits moved off the Swift
/// concurrency threads, 16 concurrent clients deadlocked the broker within a second.)
@Suite("Benchmark smoke run", .serialized)
struct BenchSmokeTests {
    @Test(.timeLimit(.minutes(2))) func concurrentCyclesComplete() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try BrokerProcess.binaryPath())
        // The broker named explicitly (`--broker-binary`, for comparing two builds under one load generator).
        process.arguments = ["bench", "--mode", "cycle", "--duration", "2", "--clients", "16", "--broker-binary", try BrokerProcess.binaryPath()]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        if process.isRunning {
            process.terminate()
            Issue.record("handover bench --mode cycle did not finish within 60 s: the broker stalled")
            return
        }
        let report = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0)
        let cycles = report.split(separator: "\n").first { $0.hasPrefix("full cycles") }
        #expect(cycles != nil && !(cycles!.contains(": 0 in")), "\(report)")
        for op in ["send", "list", "download", "acknowledge"] {
            let row = report.split(separator: "\n").first { $0.hasPrefix(op + " ") }?.split(separator: " ", omittingEmptySubsequences: true)
            #expect(row.map { $0.count > 2 && $0[2] == "0" } == true, "failures in \(op): \(report)")
        }
        // What a cycle cost the broker, read from /proc: both figures are there, CPU above zero (storage
        // writes are zero where the temporary folder is a tmpfs, which does not count them).
        let perCycle = report.split(separator: "\n").first { $0.hasPrefix("per cycle: broker CPU ") }
        let figures = perCycle.map { line in line.split(separator: " ").compactMap { Double(String($0)) } } ?? []
        try #require(figures.count == 2, "\(report)")
        #expect(figures[0] > 0 && figures[1] >= 0, "\(report)")
    }

    /// The default path measured: sends over mutual TLS (a fresh development PKI, one organisation
    /// certificate, keep-alive) succeed without a failure.
    @Test(.timeLimit(.minutes(2))) func sendsOverMutualTLSSucceed() throws {
        let run = try HandoverCommand.run(
            ["bench", "--mode", "send", "--tls", "mutual", "--duration", "2", "--warmup", "0", "--clients", "8"],
            includeErrors: false)
        #expect(run.status == 0, "\(run.output)")
        #expect(run.output.contains("mutual TLS"), "\(run.output)")
        let row = run.output.split(separator: "\n").first { $0.hasPrefix("send ") }?.split(separator: " ", omittingEmptySubsequences: true)
        #expect(row.map { $0.count > 2 && Int($0[1]) ?? 0 > 0 && $0[2] == "0" } == true, "sends failed over mutual TLS: \(run.output)")
    }

    /// At a paced rate the clients take turns: 32 clients at 1,000 sends a second send one a millisecond
    /// apart, not all 32 in the same instant every 32 ms (which measured the latency of a burst).
    @Test func pacedClientsAreSpreadOverTheInterval() {
        let interval = Duration.milliseconds(32)
        let offsets = (0..<32).map { BenchRunner.offset(ofClient: $0, of: 32, interval: interval) }
        #expect(offsets.first == .zero && offsets.last == .milliseconds(31))
        #expect(zip(offsets, offsets.dropFirst()).allSatisfy { $1 - $0 == .milliseconds(1) })
        #expect(BenchRunner.offset(ofClient: 2, of: 3, interval: .microseconds(900)) == .microseconds(600))
    }

    /// A broker that never starts (here a program that exits at once) leaves no folder behind.
    @Test func aBrokerThatDoesNotStartLeavesNothingBehind() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("handover-bench-test-\(UUID().uuidString)")
        #expect(throws: BenchError.self) { _ = try SpawnedBroker(config: BenchConfiguration(), binary: "/bin/true", folder: folder) }
        #expect(!FileManager.default.fileExists(atPath: folder.path))
    }
}
