/// Slows repeated failed sign-ins per account and per address instead of locking accounts: a duty
/// team must not be lockable by someone typing their email wrongly on purpose. After `freeFailures`
/// failures for a key, each further attempt must wait twice as long as the last (capped), and an
/// attempt inside the wait is refused without being checked or counted. A success clears the key.
public struct SignInThrottle: Sendable {
    public var freeFailures = 3
    public var maximumDelaySeconds: Int64 = 60
    /// Keys not seen for this long are forgotten, which also bounds the table.
    public var forgetAfterSeconds: Int64 = 3600
    public var capacity = 100_000
    var entries: [String: Entry] = [:]

    struct Entry: Sendable {
        var failures: Int
        var lastFailure: Timestamp
    }

    public init() {}

    /// Seconds the caller must still wait before `keys` may try again (0: go ahead).
    public func waitSeconds(for keys: [String], now: Timestamp) -> Int64 {
        keys.compactMap { entries[$0] }.map { entry in
            let allowedAt = entry.lastFailure.adding(seconds: delay(afterFailures: entry.failures))
            return max(0, (allowedAt.microsecondsSinceEpoch - now.microsecondsSinceEpoch + 999_999) / 1_000_000)
        }.max() ?? 0
    }

    func delay(afterFailures failures: Int) -> Int64 {
        guard failures >= freeFailures else { return 0 }
        let doublings = min(failures - freeFailures, 16)
        return min(maximumDelaySeconds, Int64(1) << Int64(doublings))
    }

    public mutating func recordFailure(for keys: [String], now: Timestamp) {
        if entries.count >= capacity { forgetStale(now: now) }
        for key in keys where entries.count < capacity || entries[key] != nil {
            entries[key, default: Entry(failures: 0, lastFailure: now)].failures += 1
            entries[key]?.lastFailure = now
        }
    }

    public mutating func recordSuccess(for keys: [String]) {
        for key in keys { entries[key] = nil }
    }

    mutating func forgetStale(now: Timestamp) {
        entries = entries.filter { $0.value.lastFailure.adding(seconds: forgetAfterSeconds) > now }
    }
}
