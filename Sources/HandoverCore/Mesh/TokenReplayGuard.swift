import Crypto

/// Remembers spent tokens so each is accepted once (real MESH: single use). A value type with `now`
/// passed in; the HTTP layer keeps one behind a lock.
///
/// A token stays spent until its *own* timestamp plus the window: the verifier accepts timestamps up
/// to two hours either side of now, so a token dated two hours ahead must be remembered for four.
/// Tokens are kept by a 64-bit digest in buckets by the minute they expire, so forgetting is dropping
/// whole buckets. When `capacity` unexpired tokens are held, new ones are refused (`.full`) rather
/// than forgetting tokens that could still be replayed.
public struct TokenReplayGuard: Sendable {
    public enum Verdict: Equatable, Sendable { case admitted, replayed, full }

    private var buckets: [Int64: Set<UInt64>] = [:]
    private var lastSweptMinute: Int64 = .min
    public private(set) var count = 0
    public let windowSeconds: Int64
    public let capacity: Int

    /// The ±2 h timestamp skew MESH allows, plus a margin.
    public static let defaultWindowSeconds: Int64 = 2 * 3600 + 120
    /// Tokens are forgotten only this long after they expire: a wall clock stepped forward by up to an
    /// hour and then corrected must not bring a forgotten token back inside its window.
    public static let clockStepToleranceSeconds: Int64 = 3600
    static let toleranceMinutes = clockStepToleranceSeconds / 60

    public init(windowSeconds: Int64 = TokenReplayGuard.defaultWindowSeconds, capacity: Int = 4_000_000) {
        self.windowSeconds = windowSeconds
        self.capacity = capacity
    }

    /// Records the token as spent unless it already was, or the guard is full.
    public mutating func admit(_ token: MeshAuthToken, now: Timestamp) -> Verdict {
        admit(key: Self.key(token), expiresAt: Self.expiry(of: token, now: now, window: windowSeconds), now: now)
    }

    /// The same for a token already reduced to its digest and expiry (restoring a journal).
    public mutating func admit(key: UInt64, expiresAt: Timestamp, now: Timestamp) -> Verdict {
        sweep(now: now)
        let minute = Self.minute(expiresAt)
        // Long past its window: the timestamp check refuses it, whatever the clock does next.
        guard minute > Self.minute(now) - Self.toleranceMinutes else { return .admitted }
        if buckets[minute]?.contains(key) == true { return .replayed }
        guard count < capacity else { return .full }
        buckets[minute, default: []].insert(key)
        count += 1
        return .admitted
    }

    /// When a token stops needing to be remembered: its own timestamp plus the window (never before now).
    public static func expiry(of token: MeshAuthToken, now: Timestamp, window: Int64 = defaultWindowSeconds) -> Timestamp {
        let issued = Timestamp.parseTokenMinute(Substring(token.timestamp)) ?? now
        return issued.adding(seconds: window)
    }

    /// The token's 128-bit digest: its high word keys the in-memory set and the spent-token journal,
    /// the whole (as hex) the replay cache shared through the store. Computed once per request.
    public struct Digest: Sendable {
        public let high: UInt64
        public let low: UInt64
        public var key: UInt64 { high }
        public var hex: String {
            hexString(withUnsafeBytes(of: high.bigEndian) { Array($0) } + withUnsafeBytes(of: low.bigEndian) { Array($0) })
        }
    }

    public static func key(_ token: MeshAuthToken) -> UInt64 { digest(token).key }

    public static func digest(_ token: MeshAuthToken) -> Digest {
        // Length-prefixed (`5:ALICE3:abc…`), so no two different tokens can make the same text. Built
        // as bytes in one buffer: joining interpolated strings was a sixth of the token check's CPU.
        var text: [UInt8] = []
        text.reserveCapacity(24 + token.mailbox.utf8.count + token.nonce.utf8.count + token.nonceCount.utf8.count + token.timestamp.utf8.count)
        func add(_ part: String) {
            text.append(contentsOf: String(part.utf8.count).utf8)
            text.append(UInt8(ascii: ":"))
            text.append(contentsOf: part.utf8)
        }
        add(token.mailbox)
        add(token.nonce)
        add(token.nonceCount)
        add(token.timestamp)
        return SHA256.hash(data: text).withUnsafeBytes { digest in
            func word(_ at: Int) -> UInt64 { UInt64(bigEndian: digest.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
            return Digest(high: word(0), low: word(8))
        }
    }

    static func minute(_ t: Timestamp) -> Int64 { t.secondsSinceEpoch / 60 }

    /// Drops buckets that expired more than the clock-step tolerance ago; runs at most once a minute.
    private mutating func sweep(now: Timestamp) {
        let current = Self.minute(now)
        guard current != lastSweptMinute else { return }
        lastSweptMinute = current
        for minute in buckets.keys where minute <= current - Self.toleranceMinutes {
            count -= buckets[minute]?.count ?? 0
            buckets[minute] = nil
        }
    }
}
