/// How a scorecard window is read cheaply: the whole days inside it from the per-day sums the store
/// keeps as crossings change, and the part-days at either end from the crossings' own rows. Days are
/// UTC days counted from the epoch (`created_at / 86 400 000 000` in the store's triggers).
public struct ScorecardWindow: Hashable, Sendable {
    public static let dayMicroseconds: Int64 = 86_400_000_000

    public let since: Timestamp
    public let until: Timestamp
    /// The days wholly inside the window (empty when it holds none).
    public let days: Range<Int64>
    /// The part-days read from the rows themselves, each `since..<until`.
    public let edges: [Range<Timestamp>]

    public init(since: Timestamp, until: Timestamp) {
        // Nothing is stored before the epoch, and a negative start would divide differently in SQL.
        let since = max(since, Timestamp(microsecondsSinceEpoch: 0))
        let until = max(until, since)
        (self.since, self.until) = (since, until)
        let d = Self.dayMicroseconds
        let first = (since.microsecondsSinceEpoch + d - 1) / d
        let end = until.microsecondsSinceEpoch / d
        guard first < end else {
            (days, edges) = (first..<first, since < until ? [since..<until] : [])
            return
        }
        days = first..<end
        let daysStart = Timestamp(microsecondsSinceEpoch: first * d), daysEnd = Timestamp(microsecondsSinceEpoch: end * d)
        edges = [since..<daysStart, daysEnd..<until].filter { !$0.isEmpty }
    }

    /// The days a part-day touches (its first and last).
    public static func days(of edge: Range<Timestamp>) -> ClosedRange<Int64> {
        edge.lowerBound.microsecondsSinceEpoch / dayMicroseconds...max(
            edge.lowerBound.microsecondsSinceEpoch, edge.upperBound.microsecondsSinceEpoch - 1) / dayMicroseconds
    }

    /// Where the whole days begin and end, as times.
    public var daysSpan: Range<Timestamp> {
        Timestamp(
            microsecondsSinceEpoch: days.lowerBound * Self.dayMicroseconds)..<Timestamp(
                microsecondsSinceEpoch: days.upperBound * Self.dayMicroseconds)
    }
}

/// Which duration a histogram counts.
public enum DurationKind: String, CaseIterable, Hashable, Sendable {
    case acceptance = "accept"
    case outcome

    /// The facts column holding it, in whole seconds.
    public var column: String { self == .acceptance ? "secs_to_accept" : "secs_to_outcome" }
}

/// Histogram buckets for durations in seconds: exact below a minute (and then some), then sixteen
/// buckets per doubling, so a bucket is never wider than 1/16 of its values. The store keeps counts
/// per bucket and day; a median is found by counting buckets and then reading only the rows of the
/// one bucket that holds it. The same function is written as SQL for the store's triggers.
public enum DurationBuckets {
    static let exactBelow: Int64 = 64
    static let subBuckets: Int64 = 16
    /// The last doubling with buckets of its own (2^40 s is some 35,000 years); above it, one bucket.
    static let lastExponent: Int64 = 40

    public static func bucket(_ seconds: Int64) -> Int64 {
        if seconds <= 0 { return 0 }
        if seconds < exactBelow { return seconds }
        let exponent = Int64(63 - seconds.leadingZeroBitCount)
        if exponent > lastExponent { return base(lastExponent + 1) }
        return base(exponent) + (seconds >> (exponent - 4)) - subBuckets
    }

    /// The seconds a bucket holds.
    public static func range(_ bucket: Int64) -> ClosedRange<Int64> {
        if bucket <= 0 { return Int64.min...0 }
        if bucket < exactBelow { return bucket...bucket }
        let exponent = (bucket - exactBelow) / subBuckets + 6
        if exponent > lastExponent { return (Int64(1) << (lastExponent + 1))...Int64.max }
        let width = Int64(1) << (exponent - 4)
        let low = (subBuckets + (bucket - base(exponent))) * width
        return low...(low + width - 1)
    }

    static func base(_ exponent: Int64) -> Int64 { exactBelow + (exponent - 6) * subBuckets }

    /// `bucket(column)` as a SQL expression both SQLite and PostgreSQL evaluate with integer
    /// arithmetic (a ladder of doublings; no logarithms, which SQLite may lack).
    public static func sql(_ column: String) -> String {
        var cases = ["WHEN \(column) <= 0 THEN 0", "WHEN \(column) < \(exactBelow) THEN \(column)"]
        for exponent in 6...lastExponent {
            let shift = Int64(1) << (exponent - 4)
            cases.append("WHEN \(column) < \(Int64(1) << (exponent + 1)) THEN \(base(exponent) - subBuckets) + \(column) / \(shift)")
        }
        return "(CASE " + cases.joined(separator: " ") + " ELSE \(base(lastExponent + 1)) END)"
    }
}
