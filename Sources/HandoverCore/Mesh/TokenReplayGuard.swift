/// Remembers the tokens seen within the skew window so each is accepted once (real MESH: single use).
/// A value type with `now` passed in; the HTTP layer keeps one behind a lock. Memory is bounded by
/// `capacity`: when full, the oldest entries are dropped first, and tokens older than the window are
/// refused by the timestamp check anyway.
public struct TokenReplayGuard: Sendable {
    private var seen: [String: Int64] = [:]
    private var order: [(key: String, expiry: Int64)] = []
    private var head = 0
    public let windowSeconds: Int64
    public let capacity: Int

    public init(windowSeconds: Int64 = 2 * 3600 + 120, capacity: Int = 2_000_000) {
        self.windowSeconds = windowSeconds
        self.capacity = capacity
    }

    public var count: Int { seen.count }

    /// Records the token; returns false if it was already used.
    public mutating func admit(_ token: MeshAuthToken, now: Timestamp) -> Bool {
        evict(now: now)
        let key = token.mailbox + ":" + token.nonce + ":" + token.nonceCount + ":" + token.timestamp
        if let expiry = seen[key], expiry > now.secondsSinceEpoch { return false }
        let expiry = now.secondsSinceEpoch + windowSeconds
        seen[key] = expiry
        order.append((key, expiry))
        return true
    }

    private mutating func evict(now: Timestamp) {
        while head < order.count, order[head].expiry <= now.secondsSinceEpoch || seen.count > capacity {
            let entry = order[head]
            if seen[entry.key] == entry.expiry { seen[entry.key] = nil }
            head += 1
        }
        if head > 4096, head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}
