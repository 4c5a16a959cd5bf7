/// A boundary: sending organisation, receiving organisation, workflow.
public struct BoundaryKey: Hashable, Comparable, Sendable {
    public var from: String
    public var to: String
    public var workflowID: String

    public init(from: String, to: String, workflowID: String) { (self.from, self.to, self.workflowID) = (from, to, workflowID) }

    public static func < (a: BoundaryKey, b: BoundaryKey) -> Bool { (a.from, a.to, a.workflowID) < (b.from, b.to, b.workflowID) }
}

extension BoundaryTally {
    public var key: BoundaryKey { BoundaryKey(from: from, to: to, workflowID: workflowID) }

    /// Adds another part of the same boundary's window (whole days and part-days).
    public mutating func add(_ other: BoundaryTally) {
        crossings += other.crossings
        for (flow, part) in other.flows {
            let mine = flows[flow] ?? (0, 0)
            flows[flow] = (mine.counted + part.counted, mine.credit + part.credit)
        }
    }
}

/// One histogram row: how many of a boundary's durations of one kind fall in one bucket.
public struct DurationCount: Hashable, Sendable {
    public var key: BoundaryKey
    public var kind: DurationKind
    public var bucket: Int64
    public var count: Int

    public init(key: BoundaryKey, kind: DurationKind, bucket: Int64, count: Int) {
        (self.key, self.kind, self.bucket, self.count) = (key, kind, bucket, count)
    }
}

/// Where a median lies: in which bucket's seconds, and how many of that bucket's values (in order)
/// come before it. The store reads it with one short indexed query.
public struct MedianLookup: Hashable, Sendable {
    public var key: BoundaryKey
    public var kind: DurationKind
    public var seconds: ClosedRange<Int64>
    public var offset: Int
}

extension Array where Element == BoundaryTally {
    /// Records the median a lookup found (nil: none) on its boundary.
    public mutating func setMedian(_ seconds: Int64?, for lookup: MedianLookup) {
        guard let i = firstIndex(where: { $0.key == lookup.key }) else { return }
        if lookup.kind == .acceptance { self[i].medianSecondsToAcceptance = seconds } else { self[i].medianSecondsToOutcome = seconds }
    }
}

/// Puts a window's parts together (pure): the whole days' sums, the part-days' sums, and Alert &
/// Responsibility's crossings not yet due, which the day sums counted as pending.
public enum ScorecardAssembly {
    /// - Parameters:
    ///   - days: each boundary's sums over the window's whole days, Alert & Responsibility counting
    ///     every pending crossing (accepted or not, deadline passed or not).
    ///   - notYetDue: per boundary, the crossings in those days whose deadline has not passed and are
    ///     not accepted: taken back out of Alert & Responsibility's count.
    ///   - edges: each boundary's sums over the part-days, judged against "now" already.
    public static func tallies(days: [BoundaryTally], notYetDue: [BoundaryKey: Int], edges: [BoundaryTally]) -> [BoundaryTally] {
        var byKey: [BoundaryKey: BoundaryTally] = [:]
        for var tally in days {
            if let pending = notYetDue[tally.key], let ar = tally.flows[.alertResponsibility] {
                tally.flows[.alertResponsibility] = (ar.counted - pending, ar.credit)
            }
            byKey[tally.key, default: BoundaryTally(from: tally.from, to: tally.to, workflowID: tally.workflowID, crossings: 0, flows: [:])].add(
                tally)
        }
        for tally in edges {
            byKey[tally.key, default: BoundaryTally(from: tally.from, to: tally.to, workflowID: tally.workflowID, crossings: 0, flows: [:])].add(
                tally)
        }
        return byKey.values.filter { $0.crossings > 0 }.sorted { $0.key < $1.key }
    }

    /// The lower median of each boundary's durations (a time that actually happened), located in
    /// the histogram: which bucket, and its place among that bucket's values.
    public static func medianLookups(_ counts: [DurationCount]) -> [MedianLookup] {
        var histograms: [BoundaryKey: [DurationKind: [Int64: Int]]] = [:]
        for row in counts where row.count != 0 { histograms[row.key, default: [:]][row.kind, default: [:]][row.bucket, default: 0] += row.count }
        var lookups: [MedianLookup] = []
        for (key, kinds) in histograms {
            for (kind, buckets) in kinds {
                let total = buckets.values.reduce(0, +)
                guard total > 0 else { continue }
                var rank = (total - 1) / 2
                for bucket in buckets.keys.sorted() {
                    let n = buckets[bucket] ?? 0
                    if rank < n {
                        lookups.append(MedianLookup(key: key, kind: kind, seconds: DurationBuckets.range(bucket), offset: rank))
                        break
                    }
                    rank -= n
                }
            }
        }
        return lookups
    }
}
