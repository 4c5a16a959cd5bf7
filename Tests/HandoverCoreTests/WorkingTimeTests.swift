import HandoverCore
import Testing

@Suite("Working-time calendars")
struct WorkingTimeTests {
    static let england = WorkingCalendar(
        id: "england", timezone: "Europe/London", workingStart: 9 * 60, workingEnd: 17 * 60, workingDays: [0, 1, 2, 3, 4],
        holidays: ["2026-12-25", "2026-12-28", "2027-01-01", "2027-03-26", "2027-03-29"])
    let time = WorkingTime(WorkingTimeTests.england)!

    /// A UTC instant.
    static func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int = 0) -> Timestamp {
        CivilDateTime(year: y, month: mo, day: d, hour: h, minute: mi).timestamp
    }

    // (start UTC, duration, expected end UTC, why)
    static let table: [(Timestamp, String, Timestamp, String)] = [
        (utc(2026, 11, 27, 16), "1wd", utc(2026, 11, 30, 16), "Friday 16:00 + 1wd is Monday 16:00"),
        (utc(2026, 11, 25, 16), "3wh", utc(2026, 11, 26, 11), "16:00 on a working day + 3wh is 11:00 the next working day"),
        (utc(2026, 11, 27, 16), "3wh", utc(2026, 11, 30, 11), "over a weekend"),
        (utc(2026, 12, 24, 10), "1wd", utc(2026, 12, 29, 10), "Christmas Day and the Boxing Day substitute are skipped"),
        (utc(2026, 12, 31, 16), "2wh", utc(2027, 1, 4, 10), "New Year's Day and a weekend are skipped"),
        (utc(2026, 11, 28, 10), "3wh", utc(2026, 11, 30, 12), "from a Saturday: counting starts Monday 09:00"),
        (utc(2026, 11, 25, 18), "1wd", utc(2026, 11, 27, 9), "after hours: counting starts at the next working start"),
        (utc(2026, 11, 25, 10), "4h", utc(2026, 11, 25, 14), "elapsed time ignores the calendar"),
        (utc(2026, 11, 28, 3), "30m", utc(2026, 11, 28, 3, 30), "elapsed time at a weekend"),
        // Autumn change: BST ends Sunday 25 October 2026. Friday 16:00 BST is 15:00 UTC.
        (utc(2026, 10, 23, 15), "1wd", utc(2026, 10, 26, 16), "Friday 16:00 BST + 1wd is Monday 16:00 GMT"),
        (utc(2026, 10, 23, 15), "3wh", utc(2026, 10, 26, 11), "3wh across the autumn change"),
        // Spring change: BST starts Sunday 28 March 2027, with Good Friday and Easter Monday off.
        (utc(2027, 3, 25, 16), "1wd", utc(2027, 3, 30, 15), "Thursday 16:00 GMT + 1wd is Tuesday 16:00 BST, after Easter"),
        (utc(2027, 3, 25, 16), "2wh", utc(2027, 3, 30, 9), "Thursday 16:00 GMT + 2wh is Tuesday 10:00 BST"),
    ]

    @Test(arguments: 0..<table.count)
    func calendarTable(row: Int) throws {
        let (start, text, expected, why) = Self.table[row]
        let duration = try #require(DirectoryDuration(text))
        #expect(time.add(duration, to: start) == expected, "\(why): got \(time.add(duration, to: start))")
    }

    @Test func workingTimeKnowsWeekendsHolidaysAndHours() {
        #expect(time.isWorkingTime(Self.utc(2026, 11, 25, 9)))
        #expect(!time.isWorkingTime(Self.utc(2026, 11, 25, 17)))
        #expect(!time.isWorkingTime(Self.utc(2026, 11, 28, 12)))
        #expect(!time.isWorkingTime(Self.utc(2026, 12, 25, 12)))
        // 08:30 UTC in July is 09:30 BST.
        #expect(time.isWorkingTime(Self.utc(2026, 7, 1, 8, 30)))
        #expect(WorkingTime(WorkingCalendar(id: "x", timezone: "Not/AZone", workingStart: 0, workingEnd: 60, workingDays: [0], holidays: [])) == nil)
    }
}

@Suite("Responsibility and escalation rules")
struct ResponsibilityRulesTests {
    let now = WorkingTimeTests.utc(2026, 11, 25, 12)
    let nurse = Person(name: "Sam Patel", role: "Social worker", team: "Adult safeguarding")

    @Test func acceptAndOutcome() throws {
        let pending = ResponsibilityRecord()
        #expect(
            ResponsibilityMachine.decide(pending, decision: .accept, by: nurse, note: nil, downloaded: false, now: now) == .failure(.notDownloaded))
        #expect(
            ResponsibilityMachine.decide(pending, decision: .accept, by: Person(name: " "), note: nil, downloaded: true, now: now)
                == .failure(.personRequired))
        let accepted = try ResponsibilityMachine.decide(pending, decision: .accept, by: nurse, note: nil, downloaded: true, now: now).get()
        #expect(accepted.state == .accepted && accepted.decidedBy == nurse && accepted.decidedAt == now)
        #expect(
            ResponsibilityMachine.decide(accepted, decision: .decline, by: nurse, note: "x", downloaded: true, now: now)
                == .failure(.alreadyDecided(.accepted)))
        #expect(
            ResponsibilityMachine.recordOutcome(accepted, code: "made-up", detail: nil, by: nurse, now: now) == .failure(.unknownOutcome("made-up")))
        let done = try ResponsibilityMachine.recordOutcome(accepted, code: "assessed", detail: "seen at home", by: nurse, now: now).get()
        #expect(done.outcomeCode == "assessed" && done.outcomeBy == nurse)
    }

    @Test func declineNeedsANoteAndBlocksOutcomes() throws {
        let pending = ResponsibilityRecord()
        #expect(
            ResponsibilityMachine.decide(pending, decision: .decline, by: nurse, note: "  ", downloaded: true, now: now) == .failure(.noteRequired))
        let declined = try ResponsibilityMachine.decide(pending, decision: .decline, by: nurse, note: "not our area", downloaded: true, now: now)
            .get()
        #expect(declined.state == .declined)
        #expect(ResponsibilityMachine.recordOutcome(declined, code: "assessed", detail: nil, by: nurse, now: now) == .failure(.notAccepted))
    }

    @Test func conditionsHoldUntilTheirEventHappens() {
        var f = EscalationFacts(deliveredAt: now, downloaded: false, acknowledged: false, responsibility: .pending, hasOutcome: false, closed: false)
        for c in EscalationCondition.allCases { #expect(EscalationRules.holds(c, f), "\(c)") }
        f.downloaded = true
        #expect(!EscalationRules.holds(.notDownloaded, f) && EscalationRules.holds(.notAcknowledged, f))
        f.acknowledged = true
        f.responsibility = .declined
        #expect(!EscalationRules.holds(.notAcknowledged, f) && EscalationRules.holds(.notAccepted, f))
        f.responsibility = .accepted
        #expect(!EscalationRules.holds(.notAccepted, f) && EscalationRules.holds(.noOutcome, f))
        f.hasOutcome = true
        #expect(!EscalationRules.holds(.noOutcome, f))
        let closed = EscalationFacts(
            deliveredAt: now, downloaded: false, acknowledged: false, responsibility: .pending, hasOutcome: false, closed: true)
        #expect(EscalationCondition.allCases.allSatisfy { !EscalationRules.holds($0, closed) })
    }

    @Test func dueTimesAndRepeatsUseTheCalendar() throws {
        let policy = EscalationPolicy(
            id: "p", calendar: "england",
            stages: [
                EscalationStage(after: .elapsed(seconds: 4 * 3600), when: .notAccepted, notify: [.sender], repeatEvery: .elapsed(seconds: 3600)),
                EscalationStage(after: .workingDays(1), when: .notAccepted, notify: [.sender]),
            ])
        let friday = WorkingTimeTests.utc(2026, 11, 27, 16)
        let time = WorkingTime(WorkingTimeTests.england)
        #expect(
            EscalationRules.dueTimes(policy, deliveredAt: friday, calendar: time) == [
                friday.adding(seconds: 4 * 3600), WorkingTimeTests.utc(2026, 11, 30, 16),
            ])
        #expect(EscalationRules.nextRepeat(policy.stages[0], after: friday, calendar: time) == friday.adding(seconds: 3600))
        #expect(EscalationRules.nextRepeat(policy.stages[1], after: friday, calendar: time) == nil)
    }
}

extension WorkingTimeTests {
    /// A directory with one workflow per expiry: on a policy with the england calendar, on a policy
    /// without one, and with no policy at all.
    static func expiryIndex(_ expiry: String?) -> DirectoryIndex {
        let duration = expiry.flatMap(DirectoryDuration.init)
        let directory = Directory(
            workflows: [
                Workflow(id: WorkflowID("ON_CALENDAR"), senders: ["*"], receivers: ["*"], expiry: duration, escalation: "timed"),
                Workflow(id: WorkflowID("NO_CALENDAR"), senders: ["*"], receivers: ["*"], expiry: duration, escalation: "untimed"),
                Workflow(id: WorkflowID("NO_POLICY"), senders: ["*"], receivers: ["*"], expiry: duration),
            ],
            escalationPolicies: [
                EscalationPolicy(id: "timed", calendar: "england", stages: []), EscalationPolicy(id: "untimed", stages: []),
            ],
            calendars: [WorkingTimeTests.england])
        return DirectoryIndex(directory: directory, version: 1, passwords: [:])
    }

    @Test func expiryInWorkingTimeIsCountedOnTheWorkflowsCalendar() {
        let friday = WorkingTimeTests.utc(2026, 11, 27, 16)
        func seconds(_ expiry: String?, _ workflow: String, from start: Timestamp = friday) -> Int64 {
            let index = WorkingTimeTests.expiryIndex(expiry)
            return index.expirySeconds(workflow: index.workflows[WorkflowID(workflow)], deliveredAt: start, defaultSeconds: 5 * 86_400)
        }
        // Friday 16:00 + 1wd is Monday 16:00; + 3wh is Monday 11:00; Christmas Eve + 1wd skips two bank holidays.
        #expect(seconds("1wd", "ON_CALENDAR") == 3 * 86_400)
        #expect(seconds("3wh", "ON_CALENDAR") == 67 * 3600)
        #expect(seconds("1wd", "ON_CALENDAR", from: WorkingTimeTests.utc(2026, 12, 24, 10)) == 5 * 86_400)
        // Elapsed expiries and the default ignore calendars.
        #expect(seconds("2d", "ON_CALENDAR") == 2 * 86_400 && seconds("2d", "NO_POLICY") == 2 * 86_400)
        #expect(seconds(nil, "ON_CALENDAR") == 5 * 86_400)
        #expect(WorkingTimeTests.expiryIndex("1wd").expirySeconds(workflow: nil, deliveredAt: friday, defaultSeconds: 77) == 77)
        // Without a calendar, the longest reading.
        for workflow in ["NO_CALENDAR", "NO_POLICY"] {
            #expect(seconds("1wd", workflow) == 7 * 86_400)
            #expect(seconds("3wh", workflow) == seconds("1wd", workflow))
            #expect(seconds("9wh", workflow) == 8 * 86_400)
        }
        // Every three hours over Christmas to New Year and over Easter, on the england calendar with
        // its bank holidays: the calendar-less reading is never shorter.
        let starts = [WorkingTimeTests.utc(2026, 12, 17, 0), WorkingTimeTests.utc(2027, 3, 18, 0)].flatMap { first in
            (0..<(24 * 8)).map { first.adding(seconds: Int64($0) * 3 * 3600) }
        }
        for expiry in ["1wd", "2wd", "5wd", "10wd", "1wh", "3wh", "8wh", "16wh", "40wh"] {
            let shortfalls = starts.filter { seconds(expiry, "NO_CALENDAR") < seconds(expiry, "ON_CALENDAR", from: $0) }
            #expect(shortfalls.isEmpty, "\(expiry) from \(shortfalls.prefix(3))")
        }
    }

    @Test func aWorkingTimeExpiryWithoutACalendarIsAWarning() {
        let warned = DirectoryValidator.warnings(in: WorkingTimeTests.expiryIndex("2wd").directory).filter { $0.field == "expiry" }
        #expect(warned.map(\.entry) == ["workflow NO_CALENDAR", "workflow NO_POLICY"])
        #expect(warned.allSatisfy { $0.message.contains("read as 8 calendar days") }, "\(warned)")
        #expect(DirectoryValidator.warnings(in: WorkingTimeTests.expiryIndex("2d").directory).allSatisfy { $0.field != "expiry" })
    }
}
