import Foundation

/// What `handover bench` measures and against what.
public struct BenchConfiguration: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// C clients send as fast as they can.
        case send
        /// Each client: send, list the recipient's inbox, download, acknowledge.
        case cycle
        /// One message of `largeBytes` in `chunkBytes` chunks, up and down.
        case large
        /// Fill one inbox with `prefill` messages, then time listings.
        case list
    }

    public var mode: Mode = .send
    /// Base URL of a running broker; nil to spawn `handover serve` on a fresh SQLite store.
    public var url: String?
    public var mailboxes = 8
    public var clients = 32
    public var durationSeconds = 10.0
    /// Unrecorded load before a send or cycle run.
    public var warmupSeconds = 2.0
    public var messageBytes = 1024
    public var largeBytes: Int64 = 1 << 30
    public var chunkBytes = 75 << 20
    public var prefill = 100_000
    public var listSamples = 500
    public var sharedKey = "BenchKey"
    public var password = "bench-password"
    public var mailboxPrefix = "BENCH"
    public var workflow = "BENCH_WF"
    /// Send at most this many messages a second in total (0: as fast as possible), for latency at a set load.
    public var targetRate = 0.0
    /// The store for spawned brokers: nil for a fresh SQLite file, or a `postgres://` URL (an empty database).
    public var database: String?
    /// How many brokers to spawn on `database`; clients are spread over them, and a cycle sends
    /// through one instance and receives through the next.
    public var instances = 1
    /// The broker's pid, for its peak memory, when not spawned.
    public var brokerPID: Int32?
    /// Spawned brokers listen with mutual TLS (a fresh development PKI; the clients present one
    /// certificate for the benchmark's organisation over keep-alive connections), as in production.
    public var mutualTLS = false

    public init() {}

    /// The `i`th mailbox (wrapping), as `%03d` would number it: Foundation's format parser, run twice a
    /// send, was 8 % of the load generator's CPU in a profile of saturated sends.
    public func mailbox(_ i: Int) -> String {
        let number = String(i % max(1, mailboxes))
        return mailboxPrefix + String(repeating: "0", count: max(0, 3 - number.count)) + number
    }
}
