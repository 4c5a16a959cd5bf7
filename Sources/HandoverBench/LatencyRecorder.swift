import Histogram
import Synchronization

/// Latency histograms per operation (HdrHistogram, microseconds, 3 significant digits).
public final class LatencyRecorder: Sendable {
    private let histograms = Mutex<[String: Histogram<UInt64>]>([:])
    private let failures = Mutex<[String: Int]>([:])

    public init() {}

    public func record(_ operation: String, microseconds: UInt64) {
        histograms.withLock { all in
            // In place: taking the histogram out and putting it back copied all its counts per sample.
            _ = all[operation, default: Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)]
                .record(max(1, microseconds))
        }
    }

    public func fail(_ operation: String) { failures.withLock { $0[operation, default: 0] += 1 } }

    public struct Row: Sendable {
        public let operation: String
        public let count: UInt64
        public let failures: Int
        public let p50, p90, p99, p999, max: Double
    }

    /// Per operation: count, failures and p50/p90/p99/p99.9/max in milliseconds.
    public func rows() -> [Row] {
        let (all, failed) = (histograms.withLock { $0 }, failures.withLock { $0 })
        return Set(all.keys).union(failed.keys).sorted().map { op in
            let h = all[op]
            func ms(_ p: Double) -> Double { Double(h?.valueAtPercentile(p) ?? 0) / 1000 }
            return Row(
                operation: op, count: h?.totalCount ?? 0, failures: failed[op] ?? 0, p50: ms(50), p90: ms(90), p99: ms(99), p999: ms(99.9),
                max: Double(h?.max ?? 0) / 1000)
        }
    }
}
