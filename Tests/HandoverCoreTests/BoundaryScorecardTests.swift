import Testing

@testable import HandoverCore

/// Every share, level, cap and score checked against values worked out by hand.
@Suite("The boundary scorecard")
struct BoundaryScorecardTests {
    /// `n` crossings, all flows passing, then `change` applied to the first `k` of them.
    func crossings(_ n: Int, failing k: Int = 0, _ change: (inout CrossingFacts) -> Void = { _ in }) -> [CrossingFacts] {
        (0..<n).map { i in
            var f = CrossingFacts(
                identity: 1, consent: true, provenance: true, clinicalIntent: true, alertResponsibility: true,
                serviceRouting: true, outcome: true)
            if i < k { change(&f) }
            return f
        }
    }

    @Test(arguments: [(0.0, 0), (0.19, 0), (0.2, 1), (0.49, 1), (0.5, 2), (0.79, 2), (0.8, 3), (0.94, 3), (0.95, 4), (1.0, 4)])
    func levelsFollowTheThresholds(_ share: Double, _ level: Int) {
        #expect(BoundaryScorecard.level(share: share) == level)
    }

    @Test func aFullyGovernedBoundaryScoresZeroRisk() {
        let score = BoundaryScorecard.score(crossings(20))
        #expect(score.crossings == 20 && score.flows.allSatisfy { $0.level == 4 && $0.share == 1 })
        #expect(score.risk == 0)
    }

    @Test func sharesCountHalvesAndLeaveOutWhatIsNotDue() {
        // 20 crossings: 10 verified (1), 6 other status (0.5), 4 nothing (0): (10 + 3) / 20 = 0.65 → level 2.
        var facts = crossings(20)
        for i in 10..<16 { facts[i].identity = 0.5 }
        for i in 16..<20 { facts[i].identity = 0 }
        // Alert & Responsibility: 5 not yet due (left out), 3 late: 12 of 15 → 0.8 → level 3.
        for i in 0..<5 { facts[i].alertResponsibility = nil }
        for i in 5..<8 { facts[i].alertResponsibility = false }
        let score = BoundaryScorecard.score(facts)
        #expect(score.score(.identity)?.share == 0.65 && score.score(.identity)?.level == 2)
        #expect(score.score(.alertResponsibility)?.counted == 15 && score.score(.alertResponsibility)?.share == 0.8)
        #expect(score.score(.alertResponsibility)?.level == 3)
        // Levels 2, 4, 4, 4, 3, 4, 4 = 25: round(100 × (1 − 25/28)) = round(10.71) = 11.
        #expect(score.risk == 11)
    }

    @Test func tooFewCrossingsShowNoLevel() {
        #expect(BoundaryScorecard.score(crossings(9)).flows.allSatisfy { $0.level == nil && $0.share == 1 })
        #expect(BoundaryScorecard.score(crossings(9)).risk == nil)
        // Enough crossings, but only 9 counted for outcome (11 for-information).
        let score = BoundaryScorecard.score(crossings(20, failing: 11) { $0.outcome = nil })
        #expect(score.score(.outcome)?.counted == 9 && score.score(.outcome)?.level == nil && score.score(.identity)?.level == 4)
        #expect(score.risk == nil)
    }

    @Test func identityBelowTwoCapsConsentAndProvenanceAtOne() {
        // Identity 0.4 → level 1; consent and provenance would be 4.
        let score = BoundaryScorecard.score(crossings(10, failing: 6) { $0.identity = 0 })
        #expect(score.score(.identity)?.level == 1)
        #expect(score.score(.consent)?.uncappedLevel == 4 && score.score(.consent)?.level == 1)
        #expect(score.score(.provenance)?.level == 1 && score.score(.clinicalIntent)?.level == 4 && score.score(.outcome)?.level == 4)
        // Consent, now 1, caps Service Routing at 2 in turn (the third rule reads the capped level).
        #expect(score.score(.serviceRouting)?.level == 2)
        // 1 + 1 + 1 + 4 + 4 + 2 + 4 = 17: round(100 × 11/28) = round(39.29) = 39.
        #expect(score.risk == 39)
    }

    @Test func intentBelowTwoCapsResponsibilityAndRoutingAtOne() {
        let score = BoundaryScorecard.score(crossings(10, failing: 10) { $0.clinicalIntent = false })
        #expect(score.score(.clinicalIntent)?.level == 0)
        #expect(score.score(.alertResponsibility)?.level == 1 && score.score(.serviceRouting)?.level == 1)
        #expect(score.score(.consent)?.level == 4)
        // Alert & Responsibility is now 1, so the fourth rule caps Outcome at 1 too.
        #expect(score.score(.outcome)?.uncappedLevel == 4 && score.score(.outcome)?.level == 1)
        // 4 + 4 + 4 + 0 + 1 + 1 + 1 = 15: round(100 × 13/28) = round(46.43) = 46.
        #expect(score.risk == 46)
    }

    @Test func consentBelowTwoCapsRoutingAtTwo() {
        // 3 of 10: share 0.3, level 1.
        let score = BoundaryScorecard.score(crossings(10, failing: 7) { $0.consent = false })
        #expect(score.score(.consent)?.share == 0.3 && score.score(.consent)?.level == 1 && score.score(.serviceRouting)?.level == 2)
        #expect(score.score(.serviceRouting)?.uncappedLevel == 4 && score.score(.provenance)?.level == 4)
        #expect(score.score(.alertResponsibility)?.level == 4 && score.score(.outcome)?.level == 4)
    }

    @Test func responsibilityBelowTwoCapsOutcomeAtOne() {
        let score = BoundaryScorecard.score(crossings(10, failing: 9) { $0.alertResponsibility = false })
        #expect(score.score(.alertResponsibility)?.level == 0 && score.score(.outcome)?.level == 1)
        #expect(score.score(.serviceRouting)?.level == 4)
    }

    /// The caps read the levels as capped so far: identity caps consent at 1, which then caps routing at 2.
    @Test func capsCascadeInOrder() {
        let score = BoundaryScorecard.score(crossings(10, failing: 10) { $0.identity = 0 })
        #expect(score.score(.consent)?.level == 1 && score.score(.consent)?.uncappedLevel == 4)
        #expect(score.score(.serviceRouting)?.level == 2 && score.score(.serviceRouting)?.uncappedLevel == 4)
    }

    @Test func mediansAreTimesThatHappened() {
        var facts = crossings(4)
        for (i, s) in [300, 100, 200, 400].enumerated() { facts[i].secondsToAcceptance = Int64(s) }
        facts[0].secondsToOutcome = 5000
        let score = BoundaryScorecard.score(facts)
        #expect(score.medianSecondsToAcceptance == 200 && score.medianSecondsToOutcome == 5000)
    }

    @Test func aStoredCrossingIsJudgedFromItsRecord() {
        let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)
        var record = CrossingRecord(
            CrossingDeclaration(
                subjects: [CrossingSubject(nhsNumber: "4010232137", nhsNumberStatus: "03")],
                lawfulBasis: LawfulBasis(article6: "A6-1e", article9: "A9-2h", schedule1: "S1-P1-2"),
                provenance: Provenance(author: .init(name: "Dr Ada Okafor"), createdAt: "2026-11-30T09:12:00Z"),
                intent: ClinicalIntent(purpose: "discharge-to-assess", action: "for-action", priority: "urgent")))
        record.derived = nil
        var message = MessageRecord(
            id: MessageID("M"), sender: MailboxID("A"), recipient: MailboxID("B"), workflowID: "W", totalChunks: 1,
            status: .accepted, createdAt: t0, deliveredAt: t0,
            route: RouteTaken(addressedBy: .organisation, address: "X27", directoryVersion: 1),
            responsibilityRequired: true, crossing: record)
        let deadline = t0.adding(seconds: 4 * 3600)
        // Not accepted, deadline not passed: left out of Alert & Responsibility; no outcome yet.
        var facts = CrossingFacts(message: message, notAcceptedDeadline: deadline, now: t0.adding(seconds: 60))
        #expect(facts.identity == 0.5 && facts.consent && facts.provenance && facts.clinicalIntent && facts.serviceRouting)
        #expect(facts.alertResponsibility == nil && facts.outcome == false)
        // Past the deadline unaccepted: failing.
        #expect(CrossingFacts(message: message, notAcceptedDeadline: deadline, now: deadline).alertResponsibility == false)
        // Accepted in time without the receiver's own basis: responsibility holds, consent does not.
        var r = ResponsibilityRecord()
        (r.state, r.decidedAt, r.decidedBy) = (.accepted, t0.adding(seconds: 3600), Person(name: "Sam Patel"))
        message.responsibility = r
        facts = CrossingFacts(message: message, notAcceptedDeadline: deadline, now: deadline.adding(seconds: 1))
        #expect(facts.alertResponsibility == true && !facts.consent && facts.secondsToAcceptance == 3600)
        r.receiverBasis = LawfulBasis(article6: "A6-1e", article9: "A9-2b", schedule1: "S1-P2-18")
        (r.outcomeCode, r.outcomeAt) = ("assessed", t0.adding(seconds: 86_400))
        message.responsibility = r
        facts = CrossingFacts(message: message, notAcceptedDeadline: deadline, now: deadline.adding(seconds: 1))
        #expect(facts.consent && facts.outcome == true && facts.secondsToOutcome == 86_400)
        // Expired: routing failed; for information: left out of responsibility and outcome.
        message.status = .error
        message.crossing?.intent?.action = "for-information"
        facts = CrossingFacts(message: message, notAcceptedDeadline: deadline, now: deadline)
        #expect(!facts.serviceRouting && facts.alertResponsibility == nil && facts.outcome == nil)
    }

    @Test func csvCellsCannotBecomeFormulas() {
        #expect(csvCell("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"")
        #expect(csvCell("X26") == "X26" && csvCell("a,b") == "\"a,b\"" && csvCell("@SUM") == "'@SUM" && csvCell("line\nbreak") == "\"line\nbreak\"")
    }
}
