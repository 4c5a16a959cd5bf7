import Synchronization

/// Makes message ids in the real MESH shape `yyyyMMddHHmmssSSSSSS_XXXXXX`: a UTC timestamp to the
/// microsecond and six random hex digits. The timestamp part never goes backwards within a process,
/// even when the wall clock is stepped back: each id's time is at least one microsecond after the
/// last one's, so ids stay unique and in order. The store's unique key is the final guard.
public final class MessageIDGenerator: Sendable {
    /// The one every part of the broker uses, so ids from the store, the broker and the scheduler share one order.
    public static let shared = MessageIDGenerator()
    private let last = Mutex<Int64>(.min)

    public init() {}

    public func next(now: Timestamp) -> MessageID {
        var rng = SystemRandomNumberGenerator()
        return next(now: now, using: &rng)
    }

    public func next(now: Timestamp, using rng: inout some RandomNumberGenerator) -> MessageID {
        let issued = Timestamp(
            microsecondsSinceEpoch: last.withLock { last in
                last = last == .min ? now.microsecondsSinceEpoch : max(now.microsecondsSinceEpoch, last + 1)
                return last
            })
        let micros = Int(issued.microsecondsSinceEpoch % 1_000_000)
        let suffix = UInt32.random(in: 0...0xFF_FFFF, using: &rng)
        let hex = String(suffix, radix: 16, uppercase: true)
        let padded = String(repeating: "0", count: 6 - hex.count) + hex
        let microText = String(micros)
        return MessageID(issued.compactUTC + String(repeating: "0", count: 6 - microText.count) + microText + "_" + padded)
    }
}
