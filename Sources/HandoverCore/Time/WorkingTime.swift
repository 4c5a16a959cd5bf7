import Foundation

/// Working-time arithmetic on a calendar (working hours, working days, holidays, a time zone).
/// Pure: the time zone rules come from the system's tz database through Foundation, and `now` is
/// always passed in. Working windows never cross midnight, so DST changes (at 01:00 in the UK)
/// never fall inside one.
public struct WorkingTime: Sendable {
    public let calendar: WorkingCalendar
    let zone: TimeZone

    public init?(_ calendar: WorkingCalendar) {
        guard let zone = TimeZone(identifier: calendar.timezone), calendar.workingStart < calendar.workingEnd else { return nil }
        self.calendar = calendar
        self.zone = zone
    }

    /// `start` plus `duration`: elapsed time as is; working hours counted only inside working windows;
    /// working days as the same local time of day that many working days later (from the next
    /// working instant if `start` is outside working time).
    public func add(_ duration: DirectoryDuration, to start: Timestamp) -> Timestamp {
        switch duration {
        case .elapsed(let seconds): return start.adding(seconds: seconds)
        case .workingHours(let hours): return addWorkingSeconds(Int64(hours) * 3600, to: start)
        case .workingDays(let days): return addWorkingDays(days, to: start)
        }
    }

    public func isWorkingDay(_ local: CivilDateTime) -> Bool {
        calendar.workingDays.contains(local.weekday) && !calendar.holidays.contains(Self.dateKey(local))
    }

    /// Whether `instant` falls inside a working window.
    public func isWorkingTime(_ instant: Timestamp) -> Bool {
        let local = localTime(instant)
        let minute = local.hour * 60 + local.minute
        return isWorkingDay(local) && minute >= calendar.workingStart && minute < calendar.workingEnd
    }

    func addWorkingSeconds(_ total: Int64, to start: Timestamp) -> Timestamp {
        var remaining = total
        var cursor = start
        for _ in 0..<3660 {  // bounded: at most ten years of days
            let local = localTime(cursor)
            let dayStart = utc(year: local.year, month: local.month, day: local.day, minutes: calendar.workingStart)
            let dayEnd = utc(year: local.year, month: local.month, day: local.day, minutes: calendar.workingEnd)
            if isWorkingDay(local) && cursor < dayEnd {
                let from = max(cursor, dayStart)
                let available = (dayEnd.microsecondsSinceEpoch - from.microsecondsSinceEpoch) / 1_000_000
                if remaining <= available { return from.adding(seconds: remaining) }
                remaining -= available
            }
            cursor = nextDayStart(after: local)
        }
        return cursor
    }

    func addWorkingDays(_ days: Int, to start: Timestamp) -> Timestamp {
        var local = localTime(start)
        var minutes = local.hour * 60 + local.minute
        var seconds = local.second
        if !(isWorkingDay(local) && minutes >= calendar.workingStart && minutes < calendar.workingEnd) {
            // Outside working time: count from the next working start.
            let next = addWorkingSeconds(0, to: start)
            local = localTime(next)
            minutes = calendar.workingStart
            seconds = 0
        }
        var day = local
        var counted = 0
        for _ in 0..<3660 where counted < days {
            day = CivilDateTime(secondsSinceEpoch: Int64(day.daysSinceEpoch + 1) * 86_400)
            if isWorkingDay(day) { counted += 1 }
        }
        return utc(year: day.year, month: day.month, day: day.day, minutes: minutes).adding(seconds: Int64(seconds))
    }

    /// Local civil time of an instant.
    public func localTime(_ instant: Timestamp) -> CivilDateTime {
        let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(instant.secondsSinceEpoch)))
        return CivilDateTime(secondsSinceEpoch: instant.secondsSinceEpoch + Int64(offset))
    }

    /// The instant of a local wall-clock time (minutes after midnight) on a date.
    func utc(year: Int, month: Int, day: Int, minutes: Int) -> Timestamp {
        let naive = CivilDateTime(year: year, month: month, day: day, hour: minutes / 60, minute: minutes % 60).timestamp.secondsSinceEpoch
        var guess = naive - Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(naive))))
        guess = naive - Int64(zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(guess))))
        return Timestamp(secondsSinceEpoch: guess)
    }

    func nextDayStart(after local: CivilDateTime) -> Timestamp {
        let next = CivilDateTime(secondsSinceEpoch: Int64(local.daysSinceEpoch + 1) * 86_400)
        return utc(year: next.year, month: next.month, day: next.day, minutes: 0)
    }

    static func dateKey(_ c: CivilDateTime) -> String {
        func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(c.year)-\(pad(c.month))-\(pad(c.day))"
    }
}
