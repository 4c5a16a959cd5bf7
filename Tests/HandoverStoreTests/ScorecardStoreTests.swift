import Foundation
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
        let subject: [CrossingSubject] = i < 8 ? [CrossingSubject(nhsNumber: "4010232137", nhsNumberStatus: "01")]
            : i < 10 ? [CrossingSubject(nhsNumber: "4010232137", nhsNumberStatus: "03")] : []
        var record = CrossingRecord(CrossingDeclaration(
            subjects: subject, lawfulBasis: i < 6 ? LawfulBasis(article6: "A6-1e", article9: "A9-2h", schedule1: "S1-P1-2") : nil,
            provenance: Provenance(author: .init(name: "Dr Ada Okafor"), createdAt: "2026-11-25T08:00:00Z"),
            intent: ClinicalIntent(purpose: "discharge-to-assess", action: "for-action", priority: "urgent")))
        record.derived = CrossingDerived(senderMailbox: nil, senderOrganisation: "X26", senderDomain: "nhs", senderAuthority: nil,
                                         senderPublicAuthority: true, receivedAt: nil, payloadSHA256: nil, route: nil, certificateMatchesSender: nil,
                                         fhir: nil)
        record.derived?.receiverOrganisation = "X27"
        record.derived?.acceptBy = t0.adding(seconds: 4 * 3600).isoUTC
        return MessageRecord(id: MessageID(String(format: "S%02d", i)), sender: MailboxID("ALICE"), recipient: MailboxID("BOB"), workflowID: "WF",
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
        _ = try await store.updateResponsibility(messageID: id, recipient: MailboxID("BOB"), event: "responsibility_accepted", now: at, change: { m in
            ResponsibilityMachine.decide(m.responsibility ?? ResponsibilityRecord(), decision: .accept, by: Person(name: "Sam Patel"), note: nil,
                                         downloaded: true, now: at, receiverBasis: LawfulBasis(article6: "A6-1e", article9: "A9-2b", schedule1: "S1-P2-18"))
        }, ack: { _, _ in nil })
        if let outcomeAfter {
            let when = t0.adding(seconds: outcomeAfter)
            _ = try await store.updateResponsibility(messageID: id, recipient: MailboxID("BOB"), event: "outcome", now: when, change: { m in
                ResponsibilityMachine.recordOutcome(m.responsibility ?? ResponsibilityRecord(), code: "assessed", detail: nil, by: Person(name: "Sam Patel"), now: when)
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
        _ = try await store.createMessage(MessageRecord(id: MessageID("PLAIN"), sender: MailboxID("ALICE"), recipient: MailboxID("BOB"), workflowID: "WF",
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
        let late = BoundaryScorecard.score(try await store.boundaryTallies(since: window.since, until: window.until, now: t0.adding(seconds: 5 * 3600))[0])
        #expect(late.score(.alertResponsibility)?.counted == 12 && late.score(.alertResponsibility)?.level == 1)
        // 2 + 2 + 4 + 4 + 1 + 4 + 0 = 17: round(100 × 11/28) = 39.
        #expect(late.risk == 39)
        // Outside the window: nothing.
        #expect(try await store.boundaryTallies(since: t0.adding(seconds: 60), until: t0.adding(seconds: 120), now: t0).isEmpty)

        // The crossings behind each level.
        func failing(_ flow: Flow, now: Timestamp) async throws -> Set<String> {
            Set(try await store.boundaryCrossings(from: "X26", to: "X27", workflowID: "WF", failing: flow, since: window.since, until: window.until,
                                                  now: now, limit: 100).map(\.rawValue))
        }
        #expect(try await failing(.identity, now: t0) == ["S08", "S09", "S10", "S11"])
        #expect(try await failing(.consent, now: t0) == ["S06", "S07", "S08", "S09", "S10", "S11"])
        #expect(try await failing(.alertResponsibility, now: t0.adding(seconds: 3600)) == ["S03"])
        #expect(try await failing(.alertResponsibility, now: t0.adding(seconds: 5 * 3600)).count == 9)
        #expect(try await failing(.outcome, now: t0).count == 10)
        #expect(try await store.boundaryCrossings(from: "X26", to: "X27", workflowID: "WF", failing: nil, since: window.since, until: window.until,
                                                  now: t0, limit: 5).count == 5)
    }
}
