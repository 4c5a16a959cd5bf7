import Crypto

/// Remembers the tokens seen within the skew window so each is accepted once (real MESH: single use).
/// A value type with `now` passed in; the HTTP layer keeps one behind a lock. Tokens are remembered
/// by a 128-bit digest (16 bytes, not the token's ~100), and memory is bounded by `capacity`: when
/// full, the oldest entries are dropped first; tokens older than the window fail the timestamp check.
public struct TokenReplayGuard: Sendable {
    struct Key: Hashable, Sendable {
        let high: UInt64
        let low: UInt64
    }
    private var seen: [Key: Int64] = [:]
    private var order: [(key: Key, expiry: Int64)] = []
    private var head = 0
    public let windowSeconds: Int64
    public let capacity: Int

    /// The ±2 h timestamp skew MESH allows, plus a margin.
    public static let defaultWindowSeconds: Int64 = 2 * 3600 + 120

    public init(windowSeconds: Int64 = TokenReplayGuard.defaultWindowSeconds, capacity: Int = 2_000_000) {
        self.windowSeconds = windowSeconds
        self.capacity = capacity
    }

    public var count: Int { seen.count }

    /// Records the token; returns false if it was already used.
    public mutating func admit(_ token: MeshAuthToken, now: Timestamp) -> Bool {
        evict(now: now)
        let key = Self.key(token)
        if let expiry = seen[key], expiry > now.secondsSinceEpoch { return false }
        let expiry = now.secondsSinceEpoch + windowSeconds
        seen[key] = expiry
        order.append((key, expiry))
        return true
    }

    /// The token's 128-bit digest as hex, for a replay cache shared through the store.
    public static func digest(_ token: MeshAuthToken) -> String {
        let k = key(token)
        return hexString(withUnsafeBytes(of: k.high.bigEndian) { Array($0) } + withUnsafeBytes(of: k.low.bigEndian) { Array($0) })
    }

    static func key(_ token: MeshAuthToken) -> Key {
        // Length-prefixed, so no two different tokens can make the same text.
        let text = [token.mailbox, token.nonce, token.nonceCount, token.timestamp].map { "\($0.utf8.count):\($0)" }.joined()
        let digest = Array(SHA256.hash(data: Array(text.utf8)))
        func word(_ at: Int) -> UInt64 { digest[at..<(at + 8)].reduce(0) { $0 << 8 | UInt64($1) } }
        return Key(high: word(0), low: word(8))
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
