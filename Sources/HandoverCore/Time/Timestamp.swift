/// An instant, in microseconds since the Unix epoch (UTC). The core never reads a clock: callers pass `now`.
public struct Timestamp: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let microsecondsSinceEpoch: Int64

    public init(microsecondsSinceEpoch: Int64) { self.microsecondsSinceEpoch = microsecondsSinceEpoch }
    public init(secondsSinceEpoch: Int64) { self.microsecondsSinceEpoch = secondsSinceEpoch * 1_000_000 }

    public var secondsSinceEpoch: Int64 {
        microsecondsSinceEpoch >= 0 ? microsecondsSinceEpoch / 1_000_000 : (microsecondsSinceEpoch - 999_999) / 1_000_000
    }

    public static func < (a: Self, b: Self) -> Bool { a.microsecondsSinceEpoch < b.microsecondsSinceEpoch }

    /// This instant moved by `seconds`, saturating at the representable range rather than trapping:
    /// durations come from directory documents and requests, so an absurd one must not kill the broker.
    public func adding(seconds: Int64) -> Timestamp {
        let (micros, overflowMultiply) = seconds.multipliedReportingOverflow(by: 1_000_000)
        let (sum, overflowAdd) = microsecondsSinceEpoch.addingReportingOverflow(micros)
        guard !overflowMultiply, !overflowAdd else { return seconds < 0 ? .distantPast : .distantFuture }
        return Timestamp(microsecondsSinceEpoch: sum)
    }

    /// The bounds `adding` saturates at: far outside any real deadline, still printable.
    public static let distantFuture = Timestamp(secondsSinceEpoch: 253_402_300_799)  // 9999-12-31T23:59:59Z
    public static let distantPast = Timestamp(secondsSinceEpoch: 0)

    public var description: String { isoUTC }

    /// The civil UTC fields of this instant.
    public var civil: CivilDateTime { CivilDateTime(secondsSinceEpoch: secondsSinceEpoch) }

    /// `yyyyMMddHHmmss`, as MESH v1 bodies and `mex-statustimestamp` use.
    public var compactUTC: String {
        let c = civil
        return pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2) + pad(c.hour, 2) + pad(c.minute, 2) + pad(c.second, 2)
    }

    /// Naive ISO-8601 with microseconds and no zone, as MESH v2 tracking shows (`2026-11-30T17:25:42.251334`).
    public var naiveISO: String {
        let c = civil
        let micros = Int(((microsecondsSinceEpoch % 1_000_000) + 1_000_000) % 1_000_000)
        return pad(c.year, 4) + "-" + pad(c.month, 2) + "-" + pad(c.day, 2) + "T" + pad(c.hour, 2) + ":"
            + pad(c.minute, 2) + ":" + pad(c.second, 2) + "." + pad(micros, 6)
    }

    /// ISO-8601 in UTC with a `Z`, for Handover's own JSON.
    public var isoUTC: String {
        let c = civil
        return pad(c.year, 4) + "-" + pad(c.month, 2) + "-" + pad(c.day, 2) + "T" + pad(c.hour, 2) + ":"
            + pad(c.minute, 2) + ":" + pad(c.second, 2) + "Z"
    }

    /// An RFC 9110 HTTP-date (`Wed, 25 Nov 2026 17:25:42 GMT`).
    public var httpDate: String {
        let c = civil
        let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let dayIndex = Int(((secondsSinceEpoch / 86_400) % 7 + 7) % 7)
        return days[dayIndex] + ", " + pad(c.day, 2) + " " + months[c.month - 1] + " " + pad(c.year, 4) + " "
            + pad(c.hour, 2) + ":" + pad(c.minute, 2) + ":" + pad(c.second, 2) + " GMT"
    }

    /// Parses the 12-digit `yyyyMMddHHmm` of a MESH token (UTC).
    public static func parseTokenMinute(_ text: Substring) -> Timestamp? {
        guard text.utf8.count == 12, let digits = asciiDigits(text) else { return nil }
        return civilTimestamp(digits, withTime: true, seconds: false)
    }

    /// Parses `2026-11-25T09:00:00Z` (UTC; the `Z` optional) or a date `2026-11-25`, as the admin API
    /// takes them. Only ASCII digits count: `isNumber` also accepts Thai or Arabic-Indic digits.
    public static func parseISO(_ text: String) -> Timestamp? {
        let utf8 = Array(text.utf8)
        let dateOnly = utf8.count == 10
        let withTime = utf8.count == 19 || (utf8.count == 20 && utf8[19] == UInt8(ascii: "Z"))
        guard dateOnly || withTime, utf8[4] == UInt8(ascii: "-"), utf8[7] == UInt8(ascii: "-") else { return nil }
        if withTime {
            guard utf8[10] == UInt8(ascii: "T"), utf8[13] == UInt8(ascii: ":"), utf8[16] == UInt8(ascii: ":") else { return nil }
        }
        let digitPositions = dateOnly ? [0, 1, 2, 3, 5, 6, 8, 9] : [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
        var digits: [Int] = []
        for i in digitPositions {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(utf8[i]) else { return nil }
            digits.append(Int(utf8[i] - UInt8(ascii: "0")))
        }
        return civilTimestamp(digits, withTime: withTime, seconds: true)
    }

    /// Reserved at the text's length: grown from empty, the array was reallocated at each doubling,
    /// for every token checked (3 % of a send's allocations).
    private static func asciiDigits(_ text: Substring) -> [Int]? {
        var digits: [Int] = []
        digits.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            digits.append(Int(byte - UInt8(ascii: "0")))
        }
        return digits
    }

    /// `yyyyMMdd[HHmm[ss]]` digits to an instant, or nil for an impossible field.
    private static func civilTimestamp(_ digits: [Int], withTime: Bool, seconds: Bool) -> Timestamp? {
        func num(_ from: Int, _ len: Int) -> Int { digits[from..<(from + len)].reduce(0) { $0 * 10 + $1 } }
        let (y, mo, d) = (num(0, 4), num(4, 2), num(6, 2))
        let h = withTime ? num(8, 2) : 0, mi = withTime ? num(10, 2) : 0, s = withTime && seconds ? num(12, 2) : 0
        guard (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61 else { return nil }
        return CivilDateTime(year: y, month: mo, day: d, hour: h, minute: mi, second: s).timestamp
    }
}

private func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
}

/// Civil (proleptic Gregorian) date and time fields, converted without Foundation so the core stays
/// thread-safe and allocation-light on hot paths. Algorithm: Howard Hinnant's days_from_civil.
public struct CivilDateTime: Hashable, Sendable {
    public var year, month, day, hour, minute, second: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        (self.year, self.month, self.day, self.hour, self.minute, self.second) = (year, month, day, hour, minute, second)
    }

    public init(secondsSinceEpoch: Int64) {
        let days = Int(secondsSinceEpoch >= 0 ? secondsSinceEpoch / 86_400 : (secondsSinceEpoch - 86_399) / 86_400)
        let secondsOfDay = Int(secondsSinceEpoch - Int64(days) * 86_400)
        let (y, m, d) = CivilDateTime.civil(fromDays: days)
        self.init(year: y, month: m, day: d, hour: secondsOfDay / 3600, minute: secondsOfDay % 3600 / 60, second: secondsOfDay % 60)
    }

    /// Days since 1970-01-01 of this date.
    public var daysSinceEpoch: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Day of week, 0 = Monday ... 6 = Sunday.
    public var weekday: Int { ((daysSinceEpoch % 7) + 7 + 3) % 7 }

    public var timestamp: Timestamp {
        Timestamp(secondsSinceEpoch: Int64(daysSinceEpoch) * 86_400 + Int64(hour * 3600 + minute * 60 + second))
    }

    static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

extension Timestamp {
    /// An ISO 8601 / FHIR `dateTime` with seconds: `2026-11-30T09:10:00Z`, `…+01:00`, with or without
    /// fractional seconds (dropped); or a date alone. Used where other systems' times arrive.
    public static func parseDateTime(_ text: String) -> Timestamp? {
        if let plain = parseISO(text) { return plain }
        let utf8 = Array(text.utf8)
        guard utf8.count >= 20, utf8.count <= 40 else { return nil }
        var end = 19
        if utf8[end] == UInt8(ascii: ".") {
            end += 1
            while end < utf8.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(utf8[end]) { end += 1 }
        }
        guard let base = parseISO(String(decoding: utf8[0..<19], as: UTF8.self)) else { return nil }
        let zone = Array(utf8[end...])
        if zone == [UInt8(ascii: "Z")] { return base }
        guard zone.count == 6, zone[0] == UInt8(ascii: "+") || zone[0] == UInt8(ascii: "-"), zone[3] == UInt8(ascii: ":"),
            let h = Int(String(decoding: zone[1..<3], as: UTF8.self)), let m = Int(String(decoding: zone[4..<6], as: UTF8.self)),
            zone[1...2].allSatisfy({ (48...57).contains($0) }), zone[4...5].allSatisfy({ (48...57).contains($0) }), h < 24, m < 60
        else { return nil }
        let offset = Int64(h * 3600 + m * 60)
        return base.adding(seconds: zone[0] == UInt8(ascii: "+") ? -offset : offset)
    }
}
