/// Per-mailbox token buckets: each mailbox may make `ratePerSecond` requests a second with bursts up
/// to `burst`, and one mailbox's flood never spends another's budget. Pure: `now` is passed in.
public struct RateLimiter: Sendable {
    public let ratePerSecond: Double
    public let burst: Double
    private var buckets: [MailboxID: (tokens: Double, at: Timestamp)] = [:]

    public init(ratePerSecond: Double, burst: Double) {
        self.ratePerSecond = ratePerSecond
        self.burst = max(1, burst)
    }

    /// nil if the request may go ahead, else the whole seconds to wait (for `Retry-After`).
    public mutating func admit(_ mailbox: MailboxID, now: Timestamp) -> Int? {
        guard ratePerSecond > 0 else { return nil }
        var (tokens, at) = buckets[mailbox] ?? (burst, now)
        let elapsed = Double(max(0, now.microsecondsSinceEpoch - at.microsecondsSinceEpoch)) / 1_000_000
        tokens = min(burst, tokens + elapsed * ratePerSecond)
        guard tokens >= 1 else {
            buckets[mailbox] = (tokens, now)
            return max(1, Int(((1 - tokens) / ratePerSecond).rounded(.up)))
        }
        buckets[mailbox] = (tokens - 1, now)
        if buckets.count > 100_000 { buckets = buckets.filter { $0.value.tokens < burst - 1 } }
        return nil
    }
}
