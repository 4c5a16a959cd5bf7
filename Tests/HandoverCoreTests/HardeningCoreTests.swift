import Foundation
import HandoverCore
import Testing

/// Inputs that used to reach a trap (force unwrap, overflow) or slip past validation.
@Suite("Hardening: core inputs")
struct HardeningCoreTests {
    @Test func isoTimestampsTakeOnlyASCIIDigits() {
        // A Thai digit satisfies Character.isNumber but is not 0-9; it used to crash the broker.
        #expect(Timestamp.parseISO("\u{0E52}") == nil)
        #expect(Timestamp.parseISO("2026-11-2\u{0E52}") == nil)
        #expect(Timestamp.parseISO("２０２６-11-25") == nil)  // full-width digits
        #expect(Timestamp.parseISO("2026-11-25")?.isoUTC == "2026-11-25T00:00:00Z")
        #expect(Timestamp.parseISO("2026-11-25T09:30:05Z")?.isoUTC == "2026-11-25T09:30:05Z")
        #expect(Timestamp.parseISO("2026-13-25") == nil)
        #expect(Timestamp.parseISO("") == nil)
        #expect(Timestamp.parseTokenMinute("20261125\u{0E52}725") == nil)
    }

    @Test func timestampArithmeticSaturatesInsteadOfTrapping() {
        let now = Timestamp(secondsSinceEpoch: 1_800_000_000)
        #expect(now.adding(seconds: .max) == .distantFuture)
        #expect(now.adding(seconds: .min) == .distantPast)
        #expect(now.adding(seconds: 60).secondsSinceEpoch == 1_800_000_060)
    }

    @Test func directoryDurationsAreBoundedAtTenYears() {
        #expect(DirectoryDuration("200000000d") == nil)
        #expect(DirectoryDuration("999999999h") == nil)
        #expect(DirectoryDuration("3651d") == nil)
        #expect(DirectoryDuration("3650d") == .elapsed(seconds: 3650 * 86_400))
        #expect(DirectoryDuration("87601wh") == nil)
        #expect(DirectoryDuration("4h") == .elapsed(seconds: 4 * 3600))
    }

    @Test func anAbsurdExpiryIsAValidationErrorNamingTheField() {
        var document = DirectoryDocument()
        document.organisations = [.init(code: "X1", name: "X", domain: "nhs", authority: nil)]
        document.workflows = [.init(id: "WF", senders: ["*"], receivers: ["*"], expiry: "200000000d")]
        let (_, problems) = DirectoryBuilder.build([(source: "workflows.yaml", document: document)])
        #expect(problems.contains { $0.entry == "workflow WF" && $0.field == "expiry" && $0.message.contains("10 years") })
    }

    @Test func aTinyRateLimitDoesNotOverflowItsRetryAfter() {
        var limiter = RateLimiter<String>(ratePerSecond: 1e-300, burst: 1)
        let now = Timestamp(secondsSinceEpoch: 1_800_000_000)
        #expect(limiter.admit("a", now: now) == nil)
        #expect(limiter.admit("a", now: now) == 3600)
        #expect(limiter.peek("a", now: now) == 3600)
        #expect(limiter.peek("b", now: now) == nil)
    }

    /// The failure limiters are asked on every request, nearly always empty: their key (a formatted
    /// client address) is made only once some key has spent.
    @Test func peekingAnUntouchedLimiterMakesNoKey() {
        var limiter = RateLimiter<String>(ratePerSecond: 1, burst: 1)
        let now = Timestamp(secondsSinceEpoch: 1_800_000_000)
        var keysMade = 0
        func key() -> String {
            keysMade += 1
            return "a"
        }
        #expect(limiter.peek(key(), now: now) == nil)
        #expect(keysMade == 0)
        #expect(limiter.admit("a", now: now) == nil)
        #expect(limiter.peek(key(), now: now) == 1)
        #expect(keysMade == 1)
    }

    @Test func outcomeUpdatesPerMessageAreBounded() throws {
        let now = Timestamp(secondsSinceEpoch: 1_800_000_000)
        let nurse = Person(name: "Sam Patel")
        var record = try ResponsibilityMachine.decide(ResponsibilityRecord(), decision: .accept, by: nurse, note: nil, downloaded: true, now: now)
            .get()
        for _ in 0..<ResponsibilityMachine.maximumOutcomes {
            record = try ResponsibilityMachine.recordOutcome(record, code: "assessed", detail: nil, by: nurse, now: now).get()
        }
        #expect(record.outcomeCount == ResponsibilityMachine.maximumOutcomes)
        #expect(ResponsibilityMachine.recordOutcome(record, code: "closed", detail: nil, by: nurse, now: now) == .failure(.tooManyOutcomes))
    }

    @Test func webhookDestinationsOnTheBrokersOwnNetworkAreRefused() throws {
        for address in [
            "127.0.0.1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
            "::1", "fd00::1", "fe80::1", "::ffff:10.0.0.1", "224.0.0.1",
        ] {
            #expect(WebhookAddressRules.isPrivate(address), "\(address)")
        }
        for address in ["8.8.8.8", "172.32.0.1", "2a00:1450:4009::200e", "::ffff:8.8.8.8"] {
            #expect(!WebhookAddressRules.isPrivate(address), "\(address)")
        }
    }

    @Test func deepNestingIsRefusedBeforeAnyParser() throws {
        #expect(throws: DirectoryProblem.self) { try DirectoryText.checkNesting(String(repeating: "[", count: 10_000)) }
        #expect(throws: DirectoryProblem.self) { try DirectoryText.checkNesting("x:\n" + String(repeating: "- ", count: 5_000) + "a") }
        #expect(throws: DirectoryProblem.self) { try DirectoryText.checkNesting("name: St John's\n" + String(repeating: "{", count: 100)) }
        try DirectoryText.checkNesting(
            "workflows:\n  - {id: WF, senders: [\"*\"], receivers: ['*'], note: \"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"}\n")
    }
}

@Suite("Directory: unknown keys and unused entries")
struct DirectoryKeyCheckTests {
    func tree(_ json: String) throws -> KeyTree { try JSONDecoder().decode(KeyTree.self, from: Data(json.utf8)) }

    @Test func aMistypedKeyIsAnErrorWithTheNearestKnownKey() throws {
        let problems = DirectoryKeyCheck.problems(
            in: try tree(
                """
                {"workflows": [{"id": "SAFEGUARDING_ADULT_REFERRAL", "senders": ["*"], "escalaton": "sg"}]}
                """), source: "workflows.yaml")
        #expect(problems.count == 1)
        let problem = try #require(problems.first)
        #expect(problem.file == "workflows.yaml" && problem.entry == "workflow SAFEGUARDING_ADULT_REFERRAL" && problem.field == "escalaton")
        #expect(problem.message.contains("did you mean `escalation`?"))
    }

    @Test func unknownKeysAreFoundAtEveryDepth() throws {
        let problems = DirectoryKeyCheck.problems(
            in: try tree(
                """
                {"organisatons": [], "escalation_policies": [{"id": "p", "stages": [{"after": "4h", "when": "not-accepted",
                 "notify": [{"mailbx": "A"}], "repeats": "1h"}]}], "webhooks": [{"id": "h", "url": "https://x", "secrte": "${S}"}]}
                """), source: "d.yaml")
        let fields = Set(problems.map(\.field))
        #expect(fields == ["", "stages[0].notify[0].mailbx", "stages[0].repeats", "secrte"])
        #expect(problems.first { $0.field == "stages[0].repeats" }?.message.contains("`repeat`") == true)
        #expect(problems.first { $0.entry == "file" }?.message.contains("`organisations`") == true)
    }

    /// The key list must follow the document types: every key a fully populated document encodes is known.
    @Test func theKnownKeysMatchWhatDocumentsEncode() throws {
        var directory = Directory(
            organisations: [Organisation(code: ODSCode("A"), name: "A", domain: .nhs, authority: "x", publicAuthority: false)],
            mailboxes: [Mailbox(id: MailboxID("M"), organisation: ODSCode("A"), name: "M", password: .environment("P"), active: true)],
            areas: [Area(code: "E1", name: "E", postcodeDistricts: ["RV1"])],
            services: [DirectoryService(id: "s", organisation: ODSCode("A"), mailbox: MailboxID("M"), workflows: [WorkflowID("WF")], areas: ["E1"])],
            workflows: [
                Workflow(
                    id: WorkflowID("WF"), senders: ["*"], receivers: ["*"], expiry: DirectoryDuration("5d"), responsibility: .required,
                    escalation: "p",
                    safeguarding: true, crossing: fullCrossingPolicy, acks: .fhirITK3)
            ],
            escalationPolicies: [
                EscalationPolicy(
                    id: "p", calendar: "c",
                    stages: [
                        EscalationStage(
                            after: .elapsed(seconds: 3600), when: .notAccepted,
                            notify: [.mailbox(MailboxID("M")), .webhook("h"), .sender, .email("duty@example.org")],
                            repeatEvery: .elapsed(seconds: 3600))
                    ])
            ],
            calendars: [
                WorkingCalendar(id: "c", timezone: "Europe/London", workingStart: 540, workingEnd: 1020, workingDays: [0], holidays: ["2026-12-25"])
            ],
            webhooks: [Webhook(id: "h", url: "https://x", secret: .environment("S"), allowPrivate: true, format: .pagerDuty)])
        directory.lawfulBasisCodes = [LawfulBasisCode(code: "A6-1e", list: "article6", name: "Public task")]
        let d = DirectoryDocument(directory)
        #expect(d.workflows?.first?.crossing?.defaults?.intent?.immediateRisk == true && d.organisations?.first?.public_authority == false)
        let encoded = try JSONEncoder().encode(d)
        #expect(DirectoryKeyCheck.problems(in: try JSONDecoder().decode(KeyTree.self, from: encoded), source: "d").isEmpty)
    }

    let fullCrossingPolicy = CrossingPolicy(
        identity: .flagged, lawfulBasis: .off, intent: .required, provenance: .flagged, receiverBasisRequired: true, testNHSNumbersAllowed: true,
        defaultIntent: ClinicalIntent(
            purpose: "p", action: "for-action", priority: "urgent", question: "q", respondBy: "2026-12-01T17:00:00Z", immediateRisk: true))

    @Test func unusedPoliciesCalendarsAndWebhooksAreWarnings() {
        var directory = Directory()
        directory.escalationPolicies = [EscalationPolicy(id: "orphan", calendar: nil, stages: [])]
        directory.calendars = [
            WorkingCalendar(id: "idle", timezone: "Europe/London", workingStart: 540, workingEnd: 1020, workingDays: [0], holidays: [])
        ]
        directory.webhooks = [Webhook(id: "quiet", url: "https://x", secret: .environment("S"))]
        let warnings = DirectoryValidator.warnings(in: directory).map(\.entry)
        #expect(warnings == ["escalation policy orphan", "calendar idle", "webhook quiet"])
    }

    @Test func webhooksMustBeHTTPSAndSigned() {
        var directory = Directory()
        directory.webhooks = [
            Webhook(id: "plain", url: "http://alerts.example.org", secret: .environment("S")),
            Webhook(id: "unsigned", url: "https://alerts.example.org", secret: nil),
            Webhook(id: "local", url: "http://127.0.0.1:9093", secret: .environment("S"), allowPrivate: true),
        ]
        let problems = DirectoryValidator.problems(in: directory)
        #expect(problems.contains { $0.entry == "webhook plain" && $0.field == "url" })
        #expect(problems.contains { $0.entry == "webhook unsigned" && $0.field == "secret" })
        #expect(!problems.contains { $0.entry == "webhook local" })
    }
}

@Suite("Stored JSON read back")
struct StoredJSONTests {
    @Test func storedTextBecomesAValueAndNonJSONStaysText() {
        #expect(
            JSONValue.stored(#"{"state":"accepted","by":{"name":"Sam"},"n":3,"ok":true,"none":null,"list":[1,"a"]}"#).serialized
                == #"{"by":{"name":"Sam"},"list":[1,"a"],"n":3,"none":null,"ok":true,"state":"accepted"}"#)
        #expect(JSONValue.stored("{}").serialized == "{}")
        #expect(JSONValue.stored("not json {").serialized == #""not json {""#)
    }
}
