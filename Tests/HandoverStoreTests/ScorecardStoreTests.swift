import Foundation
import GRDB
import HandoverCore
import HandoverStore
import NIOCore
import Testing

/// The scorecard over stored crossings, on both backends, against values worked out by hand.
@Suite("The boundary scorecard in the store")
struct ScorecardStoreTests {
    let t0 = CivilDateTime(year: 2026, month: 11, day: 25, hour: 9).timestamp

    /// Twelve crossings X26 → X27 on WF, all with provenance, intent and a 4-hour acceptance deadline:
    /// identity 8 verified, 2 status 03, 2 none; the sender's basis on 6 (0 to 5).
    func crossing(_ i: Int) -> MessageRecord {
        let subject: [CrossingSubject] =
            i < 8
            ? [CrossingSubject(nhsNumber: "4010232137", nhsNumberStatus: "01")]
            : i < 10 ? [CrossingSubject(nhsNumber: "4010232137", nhsNumberStatus: "03")] : []
        var record = CrossingRecord(
            CrossingDeclaration(
                subjects: subject, lawfulBasis: i < 6 ? LawfulBasis(article6: "A6-1e", article9: "A9-2h", schedule1: "S1-P1-2") : nil,
                provenance: Provenance(author: .init(name: "Dr Ada Okafor"), createdAt: "2026-11-25T08:00:00Z"),
                intent: ClinicalIntent(purpose: "discharge-to-assess", action: "for-action", priority: "urgent")))
        record.derived = CrossingDerived(
            senderMailbox: nil, senderOrganisation: "X26", senderDomain: "nhs", senderAuthority: nil,
            senderPublicAuthority: true, receivedAt: nil, payloadSHA256: nil, route: nil, certificateMatchesSender: nil,
            fhir: nil)
        record.derived?.receiverOrganisation = "X27"
        record.derived?.acceptBy = t0.adding(seconds: 4 * 3600).isoUTC
        return MessageRecord(
            id: MessageID(String(format: "S%02d", i)), sender: MailboxID("ALICE"), recipient: MailboxID("BOB"), workflowID: "WF",
            totalChunks: 1, status: .uploading, createdAt: t0, expirySeconds: 86_400 * 5,
            route: RouteTaken(addressedBy: .organisation, address: "X27", directoryVersion: 1), responsibilityRequired: true,
            crossing: record)
    }

    func stage(_ store: any BrokerStore) -> StagedChunk {
        StagedChunk(uploadID: ChunkStager.newUploadID(now: t0), size: 1, segmentCount: 1, sha256: "", inlineSegment: ByteBuffer(string: "x"))
    }

    /// Accepts (downloaded first, as the machine requires), with the council's basis, at `after` seconds.
    func accept(_ store: any BrokerStore, _ i: Int, after: Int64, outcomeAfter: Int64? = nil) async throws {
        let id = MessageID(String(format: "S%02d", i))
        try await store.markDownloaded(messageID: id, now: t0)
        let at = t0.adding(seconds: after)
        _ = try await store.updateResponsibility(
            messageID: id, recipient: MailboxID("BOB"), event: "responsibility_accepted", now: at,
            change: { m in
                ResponsibilityMachine.decide(
                    m.responsibility ?? ResponsibilityRecord(), decision: .accept, by: Person(name: "Sam Patel"), note: nil,
                    downloaded: true, now: at, receiverBasis: LawfulBasis(article6: "A6-1e", article9: "A9-2b", schedule1: "S1-P2-18"))
            }, ack: { _, _ in nil })
        if let outcomeAfter {
            let when = t0.adding(seconds: outcomeAfter)
            _ = try await store.updateResponsibility(
                messageID: id, recipient: MailboxID("BOB"), event: "outcome", now: when,
                change: { m in
                    ResponsibilityMachine.recordOutcome(
                        m.responsibility ?? ResponsibilityRecord(), code: "assessed", detail: nil, by: Person(name: "Sam Patel"), now: when)
                }, ack: { _, _ in nil })
        }
    }

    @Test(arguments: StoreFactory.all)
    func sharesLevelsCapsAndRiskFromStoredCrossings(factory: StoreFactory) async throws {
        let store = try await factory.make()
        for i in 0..<12 { _ = try await store.createMessage(crossing(i), firstChunk: stage(store), now: t0) }
        // Accepted in time at 1, 2 and 3 hours (two with outcomes at 1 and 2 days), one late at 5 hours.
        try await accept(store, 0, after: 3600, outcomeAfter: 86_400)
        try await accept(store, 1, after: 7200, outcomeAfter: 172_800)
        try await accept(store, 2, after: 10_800)
        try await accept(store, 3, after: 18_000)
        // A message that is not a crossing (no record) is not counted.
        _ = try await store.createMessage(
            MessageRecord(
                id: MessageID("PLAIN"), sender: MailboxID("ALICE"), recipient: MailboxID("BOB"), workflowID: "WF",
                totalChunks: 1, status: .uploading, createdAt: t0), firstChunk: stage(store), now: t0)
        let window = (since: t0.adding(seconds: -60), until: t0.adding(seconds: 60))

        // An hour in: the eight unaccepted crossings are not yet due.
        let early = try await store.boundaryTallies(since: window.since, until: window.until, now: t0.adding(seconds: 3600))
        #expect(early.count == 1 && early[0].from == "X26" && early[0].to == "X27" && early[0].workflowID == "WF" && early[0].crossings == 12)
        let e = BoundaryScorecard.score(early[0])
        // Identity (8 + 2 × 0.5) / 12 = 0.75 → 2; consent: basis on 0–5, and the four accepted gave their own → 6/12 = 0.5 → 2.
        #expect(e.score(.identity)?.share == 0.75 && e.score(.identity)?.level == 2)
        #expect(e.score(.consent)?.share == 0.5 && e.score(.consent)?.level == 2)
        #expect(e.score(.provenance)?.level == 4 && e.score(.clinicalIntent)?.level == 4 && e.score(.serviceRouting)?.level == 4)
        // Alert & Responsibility counts 4 (accepted), 3 in time: 0.75 → 2; outcome 2/12 → 0.
        #expect(e.score(.alertResponsibility)?.counted == 4 && e.score(.alertResponsibility)?.share == 0.75)
        // …but 4 counted is under ten: insufficient data, and so no risk score yet.
        #expect(e.score(.alertResponsibility)?.level == nil && e.risk == nil)
        #expect(e.score(.outcome)?.counted == 12 && e.score(.outcome)?.level == 0)
        #expect(e.medianSecondsToAcceptance == 7200 && e.medianSecondsToOutcome == 86_400)

        // Five hours in: every deadline has passed; 3 of 12 in time → 0.25 → 1, which caps Outcome at 1 (it is 0 already).
        let late = BoundaryScorecard.score(
            try await store.boundaryTallies(since: window.since, until: window.until, now: t0.adding(seconds: 5 * 3600))[0])
        #expect(late.score(.alertResponsibility)?.counted == 12 && late.score(.alertResponsibility)?.level == 1)
        // 2 + 2 + 4 + 4 + 1 + 4 + 0 = 17: round(100 × 11/28) = 39.
        #expect(late.risk == 39)
        // Outside the window: nothing.
        #expect(try await store.boundaryTallies(since: t0.adding(seconds: 60), until: t0.adding(seconds: 120), now: t0).isEmpty)

        // The crossings behind each level.
        func failing(_ flow: Flow, now: Timestamp) async throws -> Set<String> {
            Set(
                try await store.boundaryCrossings(
                    from: "X26", to: "X27", workflowID: "WF", failing: flow, since: window.since, until: window.until,
                    now: now, limit: 100
                ).map(\.rawValue))
        }
        #expect(try await failing(.identity, now: t0) == ["S08", "S09", "S10", "S11"])
        #expect(try await failing(.consent, now: t0) == ["S06", "S07", "S08", "S09", "S10", "S11"])
        #expect(try await failing(.alertResponsibility, now: t0.adding(seconds: 3600)) == ["S03"])
        #expect(try await failing(.alertResponsibility, now: t0.adding(seconds: 5 * 3600)).count == 9)
        #expect(try await failing(.outcome, now: t0).count == 10)
        #expect(
            try await store.boundaryCrossings(
                from: "X26", to: "X27", workflowID: "WF", failing: nil, since: window.since, until: window.until,
                now: t0, limit: 5
            ).count == 5)
    }

    /// Crossings over five days on two boundaries, accepted after times from seconds to a day,
    /// some with no deadline: whatever the window (whole days read from the day sums, part-days
    /// from the rows) and whatever "now", the store's tallies and medians equal the scorecard worked
    /// out from the stored messages one by one.
    @Test(arguments: StoreFactory.all)
    func daySumsAgreeWithEveryCrossingJudgedAlone(factory: StoreFactory) async throws {
        let store = try await factory.make()
        let delays: [Int64] = [30, 61, 200, 3_000, 7_200, 20_000, 100_000]
        var ids: [MessageID] = []
        for i in 0..<90 {
            var m = crossing(i % 12)
            m.id = MessageID(String(format: "M%03d", i))
            let created = t0.adding(seconds: Int64(i) * 97 * 60)
            m.createdAt = created
            m.crossing?.derived?.receiverOrganisation = i % 3 == 0 ? "X28" : "X27"
            m.crossing?.derived?.acceptBy = i % 5 == 0 ? nil : created.adding(seconds: 4 * 3600).isoUTC
            _ = try await store.createMessage(m, firstChunk: stage(store), now: m.createdAt)
            ids.append(m.id)
        }
        for (i, id) in ids.enumerated() where i % 4 != 3 {
            let created = t0.adding(seconds: Int64(i) * 97 * 60)
            try await store.markDownloaded(messageID: id, now: created)
            let at = created.adding(seconds: delays[i % delays.count] + Int64(i))
            _ = try await store.updateResponsibility(
                messageID: id, recipient: MailboxID("BOB"), event: "responsibility_accepted", now: at,
                change: { m in
                    ResponsibilityMachine.decide(
                        m.responsibility ?? ResponsibilityRecord(), decision: .accept, by: Person(name: "Sam Patel"), note: nil,
                        downloaded: true, now: at, receiverBasis: i % 2 == 0 ? LawfulBasis(article6: "A6-1e") : nil)
                }, ack: { _, _ in nil })
            if i % 3 == 1 {
                let when = at.adding(seconds: 3_600 * Int64(i % 7) + 5)
                _ = try await store.updateResponsibility(
                    messageID: id, recipient: MailboxID("BOB"), event: "outcome", now: when,
                    change: { m in
                        ResponsibilityMachine.recordOutcome(
                            m.responsibility ?? ResponsibilityRecord(), code: "assessed", detail: nil,
                            by: Person(name: "Sam Patel"), now: when)
                    }, ack: { _, _ in nil })
            }
        }
        var stored: [MessageRecord] = []
        for id in ids { stored.append(try #require(try await store.message(id))) }
        let midnight = CivilDateTime(year: 2026, month: 11, day: 26, hour: 0).timestamp
        let windows: [(since: Timestamp, until: Timestamp, now: Timestamp)] = [
            (t0.adding(seconds: -86_400), t0.adding(seconds: 10 * 86_400), t0.adding(seconds: 10 * 86_400)),
            (t0.adding(seconds: 13 * 3600), t0.adding(seconds: 3 * 86_400 + 5 * 3600), t0.adding(seconds: 2 * 86_400)),
            (midnight, midnight.adding(seconds: 2 * 86_400), t0.adding(seconds: 86_400 + 7_000)),
            (midnight.adding(seconds: 3600), midnight.adding(seconds: 7200), t0),
            (t0.adding(seconds: 5 * 86_400 + 3600), t0.adding(seconds: 6 * 86_400), t0.adding(seconds: 6 * 86_400)),
        ]
        for w in windows {
            var expected: [String: [CrossingFacts]] = [:]
            for m in stored where m.createdAt >= w.since && m.createdAt < w.until {
                let deadline = m.crossing?.derived?.acceptBy.flatMap(Timestamp.parseDateTime)
                expected[m.crossing?.derived?.receiverOrganisation ?? "", default: []]
                    .append(CrossingFacts(message: m, notAcceptedDeadline: deadline, now: w.now))
            }
            let tallies = try await store.boundaryTallies(since: w.since, until: w.until, now: w.now)
            #expect(tallies.map(\.to) == expected.keys.sorted(), "window \(w.since)–\(w.until)")
            for tally in tallies {
                let mine = BoundaryScorecard.score(tally), reference = BoundaryScorecard.score(expected[tally.to] ?? [])
                #expect(mine == reference, "window \(w.since)–\(w.until), now \(w.now), boundary to \(tally.to)")
            }
        }
    }
}

/// The duration buckets as SQL (what the triggers and the part-day reads compute) agree with the
/// Swift function the median lookup bounds come from.
@Suite("Duration buckets in SQL")
struct DurationBucketSQLTests {
    @Test func theSQLLadderMatchesTheSwiftFunction() throws {
        let db = try DatabaseQueue()
        var values: [Int64] = [
            -5, 0, 1, 2, 63, 64, 65, 127, 128, 129, 1_000, 3_599, 3_600, 86_399, 86_400, 1 << 40, (1 << 41) - 1, 1 << 41, Int64.max,
        ]
        var rng = SystemRandomNumberGenerator()
        values += (0..<500).map { _ in Int64.random(in: 0...(1 << 30), using: &rng) }
        let sql = "SELECT \(DurationBuckets.sql("x")) FROM (SELECT ? AS x)"
        let buckets = try db.read { db in try values.map { try Int64.fetchOne(db, sql: sql, arguments: [$0]) } }
        for (v, bucket) in zip(values, buckets) { #expect(bucket == DurationBuckets.bucket(v), "seconds \(v)") }
    }
}
