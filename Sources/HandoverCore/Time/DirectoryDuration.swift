/// A duration as the routing directory writes it: `30s`, `15m`, `4h`, `5d` in elapsed time, or
/// `3wh` / `1wd` in working hours or working days on a calendar (contract §2).
public enum DirectoryDuration: Hashable, Sendable, CustomStringConvertible {
    case elapsed(seconds: Int64)
    case workingHours(Int)
    case workingDays(Int)

    /// The longest duration a directory may state (10 years): longer is a typo, and bounding it keeps
    /// deadline arithmetic far from overflow.
    public static let maximumSeconds: Int64 = 3650 * 86_400

    public init?(_ text: String) {
        let t = text.trimmingWhitespace().lowercased()
        let units: [(String, (Int64) -> DirectoryDuration)] = [
            ("wh", { .workingHours(Int($0)) }), ("wd", { .workingDays(Int($0)) }),
            ("s", { .elapsed(seconds: $0) }), ("m", { .elapsed(seconds: $0 * 60) }),
            ("h", { .elapsed(seconds: $0 * 3600) }), ("d", { .elapsed(seconds: $0 * 86_400) }),
        ]
        for (suffix, make) in units where t.hasSuffix(suffix) {
            let number = t.dropLast(suffix.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && $0.isNumber }), number.count <= 9,
                let value = Int64(number), value > 0
            else { return nil }
            let duration = make(value)
            guard duration.upperBoundSeconds <= Self.maximumSeconds else { return nil }
            self = duration
            return
        }
        return nil
    }

    public var description: String {
        switch self {
        case .elapsed(let s):
            if s % 86_400 == 0 { return "\(s / 86_400)d" }
            if s % 3600 == 0 { return "\(s / 3600)h" }
            if s % 60 == 0 { return "\(s / 60)m" }
            return "\(s)s"
        case .workingHours(let h): return "\(h)wh"
        case .workingDays(let d): return "\(d)wd"
        }
    }

    /// The most elapsed time this can take: a working hour is at least an hour, a working day at least a day.
    var upperBoundSeconds: Int64 {
        switch self {
        case .elapsed(let s): s
        case .workingHours(let h): Int64(h) * 3600
        case .workingDays(let d): Int64(d) * 86_400
        }
    }

    /// Elapsed seconds, or nil for working-time durations, which need a calendar.
    public var elapsedSeconds: Int64? {
        if case .elapsed(let s) = self { return s }
        return nil
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        // Nothing to trim when both ends are printable ASCII other than space (the usual header):
        // a Character is whitespace by its first scalar, and no whitespace scalar is followed in its
        // Character by printable ASCII ("\r\n" ends in a control). Saves walking the ends a Character at
        // a time on every send.
        var s = Substring(self)
        if let first = s.utf8.first, let last = s.utf8.last, (0x21...0x7E).contains(first), (0x21...0x7E).contains(last) { return String(s) }
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}

extension DirectoryDuration {
    /// An expiry's longest reading when no calendar is known, so that on any calendar of five 8-hour
    /// working days a week no message expires early: each working day a calendar day, two more for
    /// each weekend the span can touch (one per five working days, and one where it starts), and four
    /// for holidays (Christmas to New Year has three on the England and Wales calendar); working hours
    /// as working days of eight hours. (Read as an hour, a working hour would end three working hours
    /// sent on a Friday afternoon that night, not on Monday.)
    public var longestExpirySeconds: Int64 {
        func workingDays(_ d: Int64) -> Int64 { (d + 2 * (d / 5 + 1) + 4) * 86_400 }
        switch self {
        case .elapsed(let s): return s
        case .workingHours(let h): return workingDays((Int64(h) + 7) / 8)
        case .workingDays(let d): return workingDays(Int64(d))
        }
    }
}
