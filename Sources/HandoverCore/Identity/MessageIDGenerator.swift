/// Makes message ids in the real MESH shape `yyyyMMddHHmmssSSSSSS_XXXXXX`: a UTC timestamp to the
/// microsecond and six random hex digits. The store's unique key is the final guard against collisions.
public struct MessageIDGenerator: Sendable {
    public init() {}

    public func next(now: Timestamp) -> MessageID {
        var rng = SystemRandomNumberGenerator()
        return next(now: now, using: &rng)
    }

    public func next(now: Timestamp, using rng: inout some RandomNumberGenerator) -> MessageID {
        let micros = Int(now.microsecondsSinceEpoch % 1_000_000)
        let suffix = UInt32.random(in: 0...0xFF_FFFF, using: &rng)
        let hex = String(suffix, radix: 16, uppercase: true)
        let padded = String(repeating: "0", count: 6 - hex.count) + hex
        let microText = String(micros)
        return MessageID(now.compactUTC + String(repeating: "0", count: 6 - microText.count) + microText + "_" + padded)
    }
}
