import ArgumentParser
import Foundation
import HandoverBench

/// `handover bench`: the load generator (docs/PERFORMANCE.md). Loopback only.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure throughput, latency and memory of a broker (spawned, or --url).")

    @Option(help: "send | cycle | large | list | scorecard") var mode = "send"
    @Option(help: "A running MESH server on loopback (default: spawn handover serve on a fresh SQLite store).") var url: String?
    @Option var mailboxes = 8
    @Option var clients = 32
    @Option(help: "Seconds for send and cycle.") var duration = 10.0
    @Option(help: "Unrecorded seconds of the same load first (send and cycle).") var warmup = 2.0
    @Option(name: .customLong("size"), help: "Message bytes.") var size = 1024
    @Option(name: .customLong("rate"), help: "Total sends a second to aim for (0: as fast as possible).") var rate = 0.0
    @Option(name: .customLong("large-mib"), help: "Size of the large message, MiB.") var largeMiB = 1024
    @Option(name: .customLong("chunk-mib"), help: "Chunk size, MiB.") var chunkMiB = 75
    @Option(help: "Messages to store before timing listings (list mode), or crossings before timing the scorecard (scorecard mode).") var prefill =
        100_000
    @Option(name: .customLong("shared-key")) var sharedKey = "BenchKey"
    @Option var password = "bench-password"
    @Option(name: .customLong("mailbox-prefix")) var mailboxPrefix = "BENCH"
    @Option var workflow = "BENCH_WF"
    @Option(help: "Store for spawned brokers: a postgres:// URL of an empty database (default: a fresh SQLite file).") var database: String?
    @Option(help: "Brokers to spawn on --database (clients spread over them).") var instances = 1
    @Option(name: .customLong("broker-pid"), help: "The broker's pid, for its peak memory, with --url.") var brokerPID: Int32?
    @Option(
        name: .customLong("broker-binary"),
        help: "The handover binary to spawn as the broker (default: this one), to compare two builds under the same load generator.")
    var brokerBinary: String?
    @Option(
        help: ArgumentHelp(
            "off | mutual: how spawned brokers listen (mutual: a fresh development PKI, one client certificate for the mailboxes' organisation, "
                + "keep-alive).")
    ) var tls = "off"

    func run() async throws {
        if mode == "scorecard" {
            print(try await ScorecardBench.run(database: database, crossings: max(1, prefill), clients: max(1, clients)))
            return
        }
        guard let mode = BenchConfiguration.Mode(rawValue: mode) else { throw ValidationError("--mode is send, cycle, large, list or scorecard") }
        if let url, !(url.contains("://127.") || url.contains("://localhost")) { throw ValidationError("--url must be a loopback address") }
        var c = BenchConfiguration()
        c.mode = mode
        c.url = url
        c.mailboxes = max(2, mailboxes)
        c.clients = max(1, clients)
        c.durationSeconds = duration
        c.messageBytes = max(1, size)
        c.targetRate = rate
        c.largeBytes = Int64(largeMiB) << 20
        c.chunkBytes = chunkMiB << 20
        c.prefill = prefill
        c.sharedKey = sharedKey
        c.password = password
        c.mailboxPrefix = mailboxPrefix
        c.workflow = workflow
        c.brokerPID = brokerPID
        c.warmupSeconds = max(0, warmup)
        c.database = database
        c.instances = max(1, instances)
        guard tls == "off" || tls == "mutual" else { throw ValidationError("--tls is off or mutual") }
        if tls == "mutual" && url != nil {
            throw ValidationError("--tls mutual applies to spawned brokers; with --url, give an https URL of your own")
        }
        c.mutualTLS = tls == "mutual"
        // Each spawned broker makes its own development PKI; the clients trust one.
        if c.mutualTLS && instances > 1 { throw ValidationError("--tls mutual spawns one broker; drop --instances") }
        if instances > 1 && database == nil { throw ValidationError("--instances above 1 needs a shared --database postgres://…") }
        if brokerBinary != nil && url != nil { throw ValidationError("--broker-binary applies to spawned brokers; drop --url") }
        print(try await BenchRunner(config: c, brokerBinary: brokerBinary ?? CommandLine.arguments[0]).run())
    }
}
