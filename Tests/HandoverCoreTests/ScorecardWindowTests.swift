import Testing

@testable import HandoverCore

/// How a window splits into whole days and part-days, and the duration buckets medians are found by.
@Suite("Scorecard windows and duration buckets")
struct ScorecardWindowTests {
    let day = ScorecardWindow.dayMicroseconds
    func at(_ days: Int64, hours: Int64 = 0) -> Timestamp { Timestamp(microsecondsSinceEpoch: days * day + hours * 3_600_000_000) }

    @Test func aWindowSplitsIntoWholeDaysAndTheirEdges() {
        let w = ScorecardWindow(since: at(100, hours: 9), until: at(130, hours: 15))
        #expect(w.days == 101..<130)
        #expect(w.edges == [at(100, hours: 9)..<at(101), at(130)..<at(130, hours: 15)])
        #expect(w.daysSpan == at(101)..<at(130))
    }

    @Test func midnightsLeaveNoEdges() {
        let w = ScorecardWindow(since: at(100), until: at(102))
        #expect(w.days == 100..<102 && w.edges.isEmpty)
    }

    @Test func aWindowInsideOneDayIsAllEdge() {
        let w = ScorecardWindow(since: at(100, hours: 2), until: at(100, hours: 5))
        #expect(w.days.isEmpty && w.edges == [at(100, hours: 2)..<at(100, hours: 5)])
        // Across one midnight, but with no whole day: still read from the rows, in one piece.
        let across = ScorecardWindow(since: at(100, hours: 20), until: at(101, hours: 3))
        #expect(across.days.isEmpty && across.edges == [at(100, hours: 20)..<at(101, hours: 3)])
    }

    @Test func backwardsAndPreEpochWindowsAreEmptyOrClamped() {
        #expect(ScorecardWindow(since: at(5), until: at(3)).edges.isEmpty)
        #expect(ScorecardWindow(since: at(5), until: at(3)).days.isEmpty)
        let clamped = ScorecardWindow(since: Timestamp(microsecondsSinceEpoch: -5 * day), until: at(2))
        #expect(clamped.since == at(0) && clamped.days == 0..<2 && clamped.edges.isEmpty)
    }

    @Test func bucketsCoverEverySecondOnceAndInOrder() {
        let last = DurationBuckets.bucket(Int64.max)
        #expect(DurationBuckets.range(0).lowerBound == Int64.min)
        for b in Int64(0)...last {
            let r = DurationBuckets.range(b)
            #expect(DurationBuckets.bucket(r.lowerBound) == b && DurationBuckets.bucket(r.upperBound) == b, "bucket \(b)")
            if b < last { #expect(r.upperBound + 1 == DurationBuckets.range(b + 1).lowerBound, "gap after bucket \(b)") }
        }
        #expect(DurationBuckets.range(last).upperBound == Int64.max)
    }

    @Test(arguments: [-7, 0, 1, 63, 64, 65, 127, 128, 3_599, 3_600, 86_400, 1_000_003, 1 << 40, (1 << 41) - 1, 1 << 41, Int64.max] as [Int64])
    func aBucketIsNeverWiderThanASixteenthOfItsValues(_ seconds: Int64) {
        let r = DurationBuckets.range(DurationBuckets.bucket(seconds))
        #expect(r.contains(seconds))
        if seconds > 0 && seconds < 1 << 41 { #expect(r.upperBound - r.lowerBound <= max(0, seconds / 16)) }
    }

    @Test func theMedianIsFoundInItsBucket() {
        let key = BoundaryKey(from: "A", to: "B", workflowID: "W")
        // Seven acceptance times over three buckets, given in two parts (whole days and an edge):
        // 10, 10, 30 | 100, 101 | 5000, 5001. The lower median (4th of 7) is the first of bucket(100).
        let counts = [
            DurationCount(key: key, kind: .acceptance, bucket: 10, count: 2), DurationCount(key: key, kind: .acceptance, bucket: 30, count: 1),
            DurationCount(key: key, kind: .acceptance, bucket: DurationBuckets.bucket(100), count: 1),
            DurationCount(key: key, kind: .acceptance, bucket: DurationBuckets.bucket(100), count: 1),
            DurationCount(key: key, kind: .acceptance, bucket: DurationBuckets.bucket(5000), count: 2),
            DurationCount(key: key, kind: .outcome, bucket: 7, count: 0),
        ]
        let lookups = ScorecardAssembly.medianLookups(counts)
        #expect(lookups == [MedianLookup(key: key, kind: .acceptance, seconds: DurationBuckets.range(DurationBuckets.bucket(100)), offset: 0)])
        // Eight values (60 added): the lower median is the 4th, 60; with 102 instead, the second of bucket(100).
        let eight = ScorecardAssembly.medianLookups(counts + [DurationCount(key: key, kind: .acceptance, bucket: 60, count: 1)])
        #expect(eight.first?.offset == 0 && eight.first?.seconds == 60...60)
        let evenHigh = ScorecardAssembly.medianLookups(
            counts + [DurationCount(key: key, kind: .acceptance, bucket: DurationBuckets.bucket(102), count: 1)])
        #expect(evenHigh.first?.offset == 0 && evenHigh.first?.seconds == DurationBuckets.range(DurationBuckets.bucket(100)))
        let nine = ScorecardAssembly.medianLookups(counts + [DurationCount(key: key, kind: .acceptance, bucket: 1, count: 2)])
        #expect(nine.first?.seconds == 30...30 && nine.first?.offset == 0)
    }

    @Test func daysAndEdgesAddUpAndNotYetDueIsTakenBack() {
        func tally(_ to: String, n: Int, ar: Int, held: Int) -> BoundaryTally {
            BoundaryTally(
                from: "A", to: to, workflowID: "W", n: n, identity: Double(n) / 2, consent: n, provenance: 0, intent: n,
                responsibilityCounted: ar, responsibilityHeld: held, routing: n, outcomeCounted: n, outcomeRecorded: 1)
        }
        let key = BoundaryKey(from: "A", to: "B", workflowID: "W")
        let out = ScorecardAssembly.tallies(
            days: [tally("B", n: 10, ar: 10, held: 4), tally("C", n: 0, ar: 0, held: 0)], notYetDue: [key: 3],
            edges: [tally("B", n: 5, ar: 2, held: 2), tally("D", n: 1, ar: 1, held: 1)])
        #expect(out.map(\.to) == ["B", "D"])
        #expect(out[0].crossings == 15 && out[0].flows[.identity]?.credit == 7.5 && out[0].flows[.outcome]?.credit == 2)
        #expect(out[0].flows[.alertResponsibility]?.counted == 9 && out[0].flows[.alertResponsibility]?.credit == 6)
    }
}
