/// Token buckets per key (a mailbox, or a client address for failed sign-ins): each key may make
/// `ratePerSecond` requests a second with bursts up to `burst`, and one key's flood never spends
/// another's budget. Pure: `now` is passed in.
public struct RateLimiter<Key: Hashable & Sendable>: Sendable {
    public let ratePerSecond: Double
    public let burst: Double
    private var buckets: [Key: (tokens: Double, at: Timestamp)] = [:]

    public init(ratePerSecond: Double, burst: Double) {
        self.ratePerSecond = ratePerSecond
        self.burst = max(1, burst)
    }

    /// nil if the request may go ahead, else the whole seconds to wait (for `Retry-After`).
    public mutating func admit(_ key: Key, now: Timestamp) -> Int? {
        guard ratePerSecond > 0 else { return nil }
        let tokens = available(key, now: now)
        guard tokens >= 1 else {
            buckets[key] = (tokens, now)
            return wait(tokens)
        }
        buckets[key] = (tokens - 1, now)
        if buckets.count > 100_000 { buckets = buckets.filter { $0.value.tokens < burst - 1 } }
        return nil
    }

    /// Like `admit` without spending: nil if a request would go ahead now. The key is made only when
    /// some key has spent lately (a key with no bucket has its whole burst): a limiter of failures asked
    /// on every request is nearly always empty, and making its key (a client address formatted as
    /// text) showed in a profile of full cycles.
    public func peek(_ key: @autoclosure () -> Key, now: Timestamp) -> Int? {
        guard ratePerSecond > 0, !buckets.isEmpty else { return nil }
        let tokens = available(key(), now: now)
        return tokens >= 1 ? nil : wait(tokens)
    }

    private func available(_ key: Key, now: Timestamp) -> Double {
        let (tokens, at) = buckets[key] ?? (burst, now)
        let elapsed = Double(max(0, now.microsecondsSinceEpoch - at.microsecondsSinceEpoch)) / 1_000_000
        return min(burst, tokens + elapsed * ratePerSecond)
    }

    /// Whole seconds until a token is there, at most an hour (a tiny configured rate must not overflow).
    private func wait(_ tokens: Double) -> Int {
        let seconds = ((1 - tokens) / ratePerSecond).rounded(.up)
        return seconds.isFinite ? Int(min(3600, max(1, seconds))) : 3600
    }
}
