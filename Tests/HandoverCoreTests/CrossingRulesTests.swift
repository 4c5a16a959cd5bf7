import Foundation
import Testing

@testable import HandoverCore

/// The Fixtures folder beside the test targets (sample bundles written from the public specifications).
func fixture(_ path: String) throws -> [UInt8] {
    let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    return Array(try Data(contentsOf: tests.appendingPathComponent("Fixtures").appendingPathComponent(path)))
}

@Suite("NHS numbers")
struct NHSNumberTests {
    @Test(
        arguments: [
            ("4010232137", false, nil), ("401 023 2137", false, nil), ("9434765919", true, nil), ("9434765870", true, nil),
            ("9434765919", false, NHSNumber.Problem.testNumber), ("4010232138", false, .checkDigit), ("401023213", false, .notTenDigits),
            ("40102321370", false, .notTenDigits), ("1111111111", false, .repdigit), ("0000000000", false, .repdigit),
            ("401023213x", false, .notTenDigits), ("٤٠١٠٢٣٢١٣٧", false, .notTenDigits),
        ] as [(String, Bool, NHSNumber.Problem?)])
    func checks(_ number: String, _ allowTest: Bool, _ expected: NHSNumber.Problem?) {
        switch NHSNumber.parse(number, allowTestNumbers: allowTest) {
        case .success(let parsed):
            #expect(expected == nil)
            #expect(parsed.digits == number.replacingOccurrences(of: " ", with: ""))
            #expect(!"\(parsed)".contains(parsed.digits), "an NHS number never prints itself")
        case .failure(let problem): #expect(problem == expected)
        }
    }

    /// A check digit of 10 can never be valid: every number whose weighted sum leaves remainder 1.
    @Test func checkDigitTenIsInvalid() {
        // 1,0,0,0,0,0,0,0,1 → 10 + 2 = 12, 12 mod 11 = 1, 11 − 1 = 10.
        for last in 0...9 {
            #expect(NHSNumber.parse("100000001\(last)", allowTestNumbers: false) == .failure(.checkDigit))
        }
    }

    @Test func statusCodesAreTheNationalEight() {
        #expect(NHSNumber.verificationStatuses.keys.sorted() == ["01", "02", "03", "04", "05", "06", "07", "08"])
    }
}

@Suite("Crossing declarations")
struct CrossingDeclarationTests {
    func parse(_ json: String) -> Result<CrossingDeclaration, CrossingProblem> {
        CrossingDeclaration.parse(header: base64URLEncode(Array(json.utf8)))
    }

    @Test func readsTheContractShapeAndRoundTrips() throws {
        let json = #"""
            {"subject":{"nhs_number":"4010232137","nhs_number_status":"01","local_ids":[{"system":"urn:handover:713:person","value":"C104233"}]},
             "lawful_basis":{"article6":"A6-1e","article9":"A9-2h","dpa18_sch1":"S1-P1-2",
                 "article10":false,"confidentiality":"CLDC-implied-direct-care"},
             "consent":{"state":"implied-direct-care","objection":false,"person_aware":true},
             "provenance":{"system":"Riverside EPR 4.2","author":{"name":"Dr Ada Okafor","role":"Consultant","professional_id":"GMC:7012345"},
                           "created_at":"2026-11-30T09:12:00Z"},
             "intent":{"purpose":"discharge-to-assess","action":"for-action","priority":"urgent","respond_by":"2026-12-01T17:00:00Z"}}
            """#
        let declared = try parse(json).get()
        #expect(declared.subjects.count == 1 && declared.subjects[0].localIDs?.first?.value == "C104233")
        #expect(declared.lawfulBasis?.schedule1 == "S1-P1-2" && declared.provenance?.author?.professionalID == "GMC:7012345")
        #expect(try CrossingDeclaration.parse(header: declared.headerValue).get() == declared)
        // Base64url only: padding and the standard alphabet's + and / are refused.
        #expect(CrossingDeclaration.parse(header: declared.headerValue + "==").failureValue?.kind == .malformed)
        #expect(CrossingDeclaration.parse(header: "e3+/fQ").failureValue?.kind == .malformed)
    }

    @Test(
        arguments: [
            ("not base64 at all!", ""), ("e30", nil), ("WzFd", ""),  // {} is fine; [1] is not an object
        ] as [(String, String?)])
    func refusesWhatCannotBeRead(_ header: String, _ field: String?) {
        switch CrossingDeclaration.parse(header: header) {
        case .success: #expect(field == nil)
        case .failure(let p): #expect(p.kind == .malformed && p.field == field && p.status == 400)
        }
    }

    @Test func namesTheFieldNeverTheValue() throws {
        let unknown = parse(#"{"subject":{"nhs_numbr":"4010232137"}}"#)
        #expect(unknown.failureValue?.field == "subject.nhs_numbr" && unknown.failureValue?.reason == "unknown field")
        let wrongType = parse(#"{"intent":{"immediate_risk":"4010232137"}}"#)
        #expect(wrongType.failureValue?.field == "intent.immediate_risk")
        #expect(!(wrongType.failureValue?.description.contains("4010232137") ?? true))
        let both = parse(#"{"subject":{},"subjects":[{}]}"#)
        #expect(both.failureValue?.field == "subjects")
    }

    @Test func limitsTheHeaderTo4KiB() {
        let big = String(repeating: "A", count: 4097)
        #expect(CrossingDeclaration.parse(header: big).failureValue?.reason.contains("4096") == true)
    }
}

extension Result {
    var failureValue: Failure? { if case .failure(let f) = self { f } else { nil } }
}

@Suite("Crossing rules")
struct CrossingRulesTests {
    let fullBasis = LawfulBasis(article6: "A6-1e", article9: "A9-2h", schedule1: "S1-P1-2", confidentiality: "CLDC-implied-direct-care")
    let author = Provenance(author: .init(name: "Dr Ada Okafor"), createdAt: "2026-11-30T09:12:00Z")
    let intent = ClinicalIntent(purpose: "discharge-to-assess", action: "for-action")

    func context(_ policy: CrossingPolicy = .standard, safeguarding: Bool = false, publicAuthority: Bool = true) -> CrossingRules.Context {
        CrossingRules.Context(policy: policy, safeguarding: safeguarding, senderIsPublicAuthority: publicAuthority)
    }

    var complete: CrossingDeclaration {
        CrossingDeclaration(
            subjects: [CrossingSubject(nhsNumber: "4010232137", nhsNumberStatus: "01")], lawfulBasis: fullBasis,
            consent: Consent(state: "implied-direct-care"), provenance: author, intent: intent)
    }

    @Test func requiredRefusesNamingTheField() {
        let policy = CrossingPolicy(identity: .required, lawfulBasis: .required, intent: .required, provenance: .required)
        #expect(CrossingRules.record(declared: complete, payload: nil, context: context(policy)).failureValue == nil)
        var noIdentity = complete
        noIdentity.subjects = []
        let refused = CrossingRules.record(declared: noIdentity, payload: nil, context: context(policy)).failureValue
        #expect(refused?.kind == .required && refused?.field == "subject.nhs_number" && refused?.status == 417 && refused?.code == .crossingRequired)
        var noArticle9 = complete
        noArticle9.lawfulBasis?.article9 = nil
        noArticle9.lawfulBasis?.schedule1 = nil
        #expect(CrossingRules.record(declared: noArticle9, payload: nil, context: context(policy)).failureValue?.field == "lawful_basis.article9")
        var noAction = complete
        noAction.intent?.action = nil
        #expect(CrossingRules.record(declared: noAction, payload: nil, context: context(policy)).failureValue?.field == "intent.action")
        var noDate = complete
        noDate.provenance?.createdAt = nil
        #expect(CrossingRules.record(declared: noDate, payload: nil, context: context(policy)).failureValue?.field == "provenance.created_at")
        // A stated reason for no NHS number satisfies identity (the scorecard counts it half).
        var absent = complete
        absent.subjects = [CrossingSubject(nhsNumberAbsentReason: "not-issued")]
        #expect(CrossingRules.record(declared: absent, payload: nil, context: context(policy)).failureValue == nil)
    }

    @Test func flaggedDeliversAndShowsRecordedOnlyCounts() throws {
        let policy = CrossingPolicy(identity: .flagged, lawfulBasis: .recorded, intent: .off, provenance: .flagged)
        let record = try CrossingRules.record(declared: nil, payload: nil, context: context(policy)).get()
        #expect(record.flags.map(\.flow) == ["identity", "lawful_basis", "provenance"])
        #expect(record.flags.map(\.shown) == [true, false, true])
        #expect(record.sources.isEmpty)
    }

    @Test func defaultsFillIntentOnlyAndSaySo() throws {
        let policy = CrossingPolicy(
            intent: .required, defaultIntent: ClinicalIntent(purpose: "discharge-to-assess", action: "for-action", priority: "routine"))
        let defaulted = try CrossingRules.record(declared: nil, payload: nil, context: context(policy)).get()
        #expect(defaulted.intent?.purpose == "discharge-to-assess" && defaulted.sources["intent"] == .default)
        #expect(defaulted.lawfulBasis == nil && defaulted.subjects.isEmpty)
        // The sender's own intent wins; defaults fill only its gaps, and the part stays the sender's.
        let mine = CrossingDeclaration(intent: ClinicalIntent(purpose: "assessment", action: "for-information"))
        let merged = try CrossingRules.record(declared: mine, payload: nil, context: context(policy)).get()
        #expect(merged.intent == ClinicalIntent(purpose: "assessment", action: "for-information", priority: "routine"))
        #expect(merged.sources["intent"] == .sender)
    }

    @Test func malformedValuesAreRefusedEvenOnSafeguarding() {
        let lenient = CrossingPolicy(identity: .flagged, lawfulBasis: .flagged, intent: .flagged)
        func refusal(_ change: (inout CrossingDeclaration) -> Void, publicAuthority: Bool = true) -> CrossingProblem? {
            var d = complete
            change(&d)
            return CrossingRules.record(declared: d, payload: nil, context: context(lenient, safeguarding: true, publicAuthority: publicAuthority))
                .failureValue
        }
        #expect(refusal { $0.subjects[0].nhsNumber = "4010232138" }?.field == "subject.nhs_number")
        #expect(refusal { $0.subjects[0].nhsNumber = "9434765919" }?.reason.contains("test number") == true)
        #expect(refusal { $0.subjects[0].nhsNumberStatus = "09" }?.field == "subject.nhs_number_status")
        #expect(
            refusal { $0.subjects = [CrossingSubject(nhsNumber: "4010232137", nhsNumberAbsentReason: "unknown")] }?.field
                == "subject.nhs_number_absent_reason")
        #expect(refusal { $0.lawfulBasis?.article6 = "A6-1z" }?.reason.contains("A6-1a, A6-1c") == true)
        #expect(refusal { $0.lawfulBasis?.schedule1 = nil }?.field == "lawful_basis.dpa18_sch1")
        #expect(refusal { $0.lawfulBasis?.article6 = "A6-1f" }?.reason.contains("public authority") == true)
        #expect(refusal({ $0.lawfulBasis?.article6 = "A6-1f" }, publicAuthority: false) == nil)
        #expect(refusal { $0.intent?.priority = "whenever" }?.field == "intent.priority")
        #expect(refusal { $0.intent?.respondBy = "tomorrow" }?.field == "intent.respond_by")
        #expect(refusal { $0.subjects.append(CrossingSubject(nhsNumber: "123")) }?.field == "subjects[1].nhs_number")
    }

    @Test func consentThatContradictsItselfIsRefused() {
        func refusal(_ consent: Consent, confidentiality: String = "CLDC-implied-direct-care", safeguarding: Bool = false) -> CrossingProblem? {
            var d = complete
            d.consent = consent
            d.lawfulBasis?.confidentiality = confidentiality
            return CrossingRules.record(declared: d, payload: nil, context: context(safeguarding: safeguarding)).failureValue
        }
        #expect(refusal(Consent(state: "refused"))?.field == "lawful_basis.confidentiality")
        #expect(refusal(Consent(state: "explicit", objection: true))?.field == "lawful_basis.confidentiality")
        #expect(refusal(Consent(state: "withdrawn"), confidentiality: "CLDC-public-interest")?.field == "consent.decided_by")
        #expect(refusal(Consent(state: "withdrawn", decidedBy: "Caldicott Guardian"), confidentiality: "CLDC-public-interest") == nil)
        #expect(refusal(Consent(state: "not-sought-safeguarding", reason: "risk of harm"))?.reason.contains("safeguarding workflows") == true)
        #expect(refusal(Consent(state: "not-sought-safeguarding"), safeguarding: true)?.field == "consent.reason")
        #expect(refusal(Consent(state: "not-sought-safeguarding", reason: "alerting the person would increase risk"), safeguarding: true) == nil)
        #expect(refusal(Consent(state: "assumed"))?.field == "consent.state")
    }

    @Test func theSubjectIsNeverShownWithoutBeingAskedFor() throws {
        let record = try CrossingRules.record(declared: complete, payload: nil, context: context()).get()
        let hidden = record.withoutSubject
        #expect(hidden.subjects.isEmpty && hidden.subjectWithheld == true)
        #expect(!hidden.json.serialized.contains("4010232137"))
        #expect(!record.headerValue.isEmpty && !String(decoding: base64URLDecode(record.headerValue) ?? [], as: UTF8.self).contains("4010232137"))
        #expect(record.json.serialized.contains("4010232137"))
    }
}

@Suite("Transfer of Care payloads")
struct FHIRMessageReaderTests {
    @Test func readsAnSTU3XMLeDischarge() throws {
        let bytes = try fixture("fhir/toc-edischarge-stu3.xml")
        #expect(FHIRMessageReader.format(contentType: nil, prefix: bytes) == .xml)
        let reading = try #require(try FHIRMessageReader.read(bytes, format: .xml).get())
        #expect(reading.facts.version == "STU3" && reading.facts.format == .xml)
        #expect(reading.facts.eventCode == "ITK003D" && reading.facts.eventSystem == "https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2")
        #expect(reading.facts.messageID == "7c9e6679-7425-40de-944b-e07fc1f90ae7")
        #expect(reading.facts.infAckRequested == true && reading.facts.busAckRequested == true && reading.facts.recipientType == "FA")
        #expect(reading.facts.senderReference == "RIVERSIDE-DS-20261130-0042")
        #expect(reading.subjects == [CrossingSubject(nhsNumber: "9434765919", nhsNumberStatus: "01")])
        #expect(reading.intent == ClinicalIntent(purpose: "ITK003D", action: "for-action"))
        #expect(reading.provenance?.author?.name == "Dr Ada Okafor" && reading.provenance?.createdAt == "2026-11-30T09:10:00+00:00")
        #expect(reading.provenance?.system == "Riverside EPR 4.2")
    }

    @Test func readsAnR4JSONBundle() throws {
        let bytes = try fixture("fhir/toc-edischarge-r4.json")
        #expect(FHIRMessageReader.format(contentType: "application/octet-stream", prefix: bytes) == .json)
        let reading = try #require(try FHIRMessageReader.read(bytes, format: .json).get())
        #expect(reading.facts.version == "R4" && reading.facts.eventCode == "ITK008D")
        #expect(reading.facts.infAckRequested == true && reading.facts.busAckRequested == false && reading.facts.recipientType == "FI")
        #expect(reading.subjects == [CrossingSubject(nhsNumber: "9434765870", nhsNumberStatus: "02")])
        #expect(reading.intent?.action == "for-information")
    }

    @Test func severalPatientsDeriveNobody() throws {
        // A second Patient in the focus document (a carer, say): who it is about is no longer clear.
        var bundle = try #require(try JSONSerialization.jsonObject(with: Data(try fixture("fhir/toc-edischarge-r4.json"))) as? [String: Any])
        var entries = try #require(bundle["entry"] as? [[String: Any]])
        var document = try #require(entries[1]["resource"] as? [String: Any])
        var inner = try #require(document["entry"] as? [[String: Any]])
        inner.append([
            "fullUrl": "urn:uuid:other",
            "resource": [
                "resourceType": "Patient", "id": "other",
                "identifier": [["system": FHIRMessageReader.nhsNumberSystem, "value": "4010232137"]],
            ],
        ])
        document["entry"] = inner
        entries[1]["resource"] = document
        bundle["entry"] = entries
        let text = String(decoding: try JSONSerialization.data(withJSONObject: bundle), as: UTF8.self)
        let reading = try #require(try FHIRMessageReader.read(Array(text.utf8), format: .json).get())
        #expect(reading.subjects.isEmpty && reading.facts.eventCode == "ITK008D")
    }

    @Test func hostileOrBrokenPayloadsAreRefusedClearly() throws {
        let xml = String(decoding: try fixture("fhir/toc-edischarge-stu3.xml"), as: UTF8.self)
        let withDTD = xml.replacingOccurrences(
            of: "<Bundle xmlns", with: "<!DOCTYPE Bundle [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<Bundle xmlns")
        #expect(FHIRMessageReader.read(Array(withDTD.utf8), format: .xml).failureValue?.reason.contains("DTD") == true)
        let truncated = Array(xml.utf8.prefix(xml.utf8.count / 2))
        #expect(FHIRMessageReader.read(truncated, format: .xml).failureValue?.kind == .fhir)
        let deepJSON =
            #"{"resourceType":"Bundle","type":"message","x":"# + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}"
        #expect(FHIRMessageReader.read(Array(deepJSON.utf8), format: .json).failureValue?.reason.contains("64") == true)
        let deepXML =
            "<Bundle xmlns=\"http://hl7.org/fhir\">" + String(repeating: "<a>", count: 100) + String(repeating: "</a>", count: 100) + "</Bundle>"
        #expect(FHIRMessageReader.read(Array(deepXML.utf8), format: .xml).failureValue?.reason.contains("64") == true)
        let huge = [UInt8](repeating: 0x20, count: FHIRMessageReader.maximumBytes + 1)
        #expect(FHIRMessageReader.read(huge, format: .json).failureValue?.reason.contains("20 MiB") == true)
        #expect(
            FHIRMessageReader.read(Array(#"{"resourceType":"Patient"}"#.utf8), format: .json).failureValue?.reason.contains("not a FHIR Bundle")
                == true)
        // A FHIR Bundle that is not a message passes through with nothing derived.
        #expect(try FHIRMessageReader.read(Array(#"{"resourceType":"Bundle","type":"document"}"#.utf8), format: .json).get() == nil)
        // Not FHIR at all: not even read.
        #expect(FHIRMessageReader.format(contentType: "text/plain", prefix: Array("hello bob".utf8)) == nil)
        #expect(FHIRMessageReader.format(contentType: nil, prefix: Array(#"{"resourceType":"Patient"}"#.utf8)) == nil)
        // The content type alone can say FHIR, in any case; "fhir" without a format falls back to the bytes.
        let plain = Array("hello bob".utf8)
        #expect(FHIRMessageReader.format(contentType: "Application/FHIR+JSON; charset=utf-8", prefix: plain) == .json)
        #expect(FHIRMessageReader.format(contentType: "application/fhir+xml", prefix: plain) == .xml)
        #expect(FHIRMessageReader.format(contentType: "application/fhir", prefix: plain) == nil)
        #expect(FHIRMessageReader.format(contentType: "application/json", prefix: plain) == nil)
    }

    @Test func payloadFillsTheRecordAndMustAgreeWithTheDeclaration() throws {
        let reading = try #require(try FHIRMessageReader.read(try fixture("fhir/toc-edischarge-stu3.xml"), format: .xml).get())
        let policy = CrossingPolicy(identity: .required, testNHSNumbersAllowed: true)
        let rules = CrossingRules.Context(policy: policy, safeguarding: false, senderIsPublicAuthority: true)
        let derived = try CrossingRules.record(declared: nil, payload: reading, context: rules).get()
        #expect(derived.subjects.first?.nhsNumber == "9434765919" && derived.sources["subject"] == .payload && derived.sources["intent"] == .payload)
        let agreeing = CrossingDeclaration(subjects: [CrossingSubject(nhsNumber: "943 476 5919")])
        #expect(try CrossingRules.record(declared: agreeing, payload: reading, context: rules).get().sources["subject"] == .sender)
        let disagreeing = CrossingDeclaration(subjects: [CrossingSubject(nhsNumber: "4010232137")])
        let refused = CrossingRules.record(declared: disagreeing, payload: reading, context: rules).failureValue
        #expect(refused?.kind == .mismatch && refused?.status == 400 && !(refused?.description.contains("4010232137") ?? true))
        // Test numbers stay refused where the workflow does not allow them, wherever they came from.
        let strict = CrossingRules.Context(policy: .standard, safeguarding: false, senderIsPublicAuthority: true)
        #expect(CrossingRules.record(declared: nil, payload: reading, context: strict).failureValue?.reason.contains("test number") == true)
    }
}

@Suite("Other systems' date-times")
struct DateTimeTests {
    @Test func offsetsAndFractionsAreUnderstood() {
        let utc = Timestamp.parseISO("2026-11-30T09:10:00Z")
        #expect(Timestamp.parseDateTime("2026-11-30T09:10:00+00:00") == utc)
        #expect(Timestamp.parseDateTime("2026-11-30T10:10:00.123+01:00") == utc)
        #expect(Timestamp.parseDateTime("2026-11-30T04:10:00-05:00") == utc)
        for bad in ["2026-11-30T09:10:00+0100", "2026-11-30T09:10:00+25:00", "2026-11-30 09:10:00Z", "tomorrow", "2026-11-30T09:10:00+0١:00"] {
            #expect(Timestamp.parseDateTime(bad) == nil, "\(bad)")
        }
    }
}

@Suite("Crossing policy in the directory")
struct DirectoryCrossingPolicyTests {
    func build(_ workflows: String, organisations: String = #"[{"code":"A","name":"A","domain":"nhs"}]"#) throws -> (Directory, [DirectoryProblem]) {
        let json = #"{"organisations":\#(organisations),"workflows":\#(workflows)}"#
        let document = try JSONDecoder().decode(DirectoryDocument.self, from: Data(json.utf8))
        return DirectoryBuilder.build([(source: "d.json", document: document)])
    }

    @Test func policiesBuildRoundTripAndShowInDiffs() throws {
        let (directory, problems) = try build(
            #"""
            [{"id":"D2A_REFERRAL","senders":["A"],"receivers":["A"],"crossing":{"identity":"required","lawful_basis":"required","intent":"required",
               "receiver_basis":"required","defaults":{"intent":{"purpose":"discharge-to-assess","action":"for-action"}}}},
             {"id":"SAFEGUARDING_ADULT_REFERRAL","senders":["A"],"receivers":["A"],"safeguarding":true,
              "crossing":{"identity":"flagged","lawful_basis":"flagged","intent":"flagged","receiver_basis":"required"}},
             {"id":"TOC_FHIR_IP_DISCH","senders":["A"],"receivers":["A"]}]
            """#)
        #expect(problems.isEmpty)
        let d2a = try #require(directory.workflows.first)
        #expect(d2a.crossing.identity == .required && d2a.crossing.provenance == .recorded && d2a.crossing.receiverBasisRequired)
        #expect(d2a.crossing.defaultIntent?.purpose == "discharge-to-assess" && d2a.acks == .handover)
        #expect(directory.workflows[1].safeguarding && directory.workflows[2].acks == .fhirITK3)
        let document = DirectoryDocument(directory)
        #expect(DirectoryBuilder.build([(source: "x", document: document)]).0 == directory)
        var changed = document
        changed.workflows?[0].crossing?.identity = "flagged"
        #expect(DirectoryDiff.changes(from: document, to: changed).map(\.summary) == ["changed workflow D2A_REFERRAL (crossing)"])
    }

    @Test func aConcernNeverBouncesForAMissingField() throws {
        let (_, problems) = try build(
            #"""
            [{"id":"SG","senders":["A"],"receivers":["A"],"safeguarding":true,
                "crossing":{"identity":"required","intent":"required","receiver_basis":"required"}}]
            """#)
        #expect(problems.map(\.field).sorted() == ["crossing.identity", "crossing.intent"])
        #expect(problems.allSatisfy { $0.message.contains("use flagged") })
    }

    @Test func badValuesNameTheirField() throws {
        let (_, problems) = try build(
            #"""
            [{"id":"W","senders":["A"],"receivers":["A"],"acks":"itk",
                "crossing":{"identity":"mandatory","receiver_basis":"maybe","test_nhs_numbers":"yes",
              "defaults":{"intent":{"action":"for-fun"}}}}]
            """#, organisations: #"[{"code":"A","name":"A","domain":"nhs"},{"code":"B","name":"B","domain":"charity"}]"#)
        #expect(
            Set(problems.map(\.field)) == [
                "acks", "crossing.identity", "crossing.receiver_basis", "crossing.test_nhs_numbers",
                "crossing.defaults.intent.action", "domain",
            ])
        #expect(problems.first { $0.field == "domain" }?.message.contains("police, education, voluntary, public") == true)
    }

    @Test func publicAuthorityDefaultsFromTheDomain() throws {
        let (directory, _) = try build(
            "[]",
            organisations: #"""
                [{"code":"N","name":"N","domain":"nhs"},{"code":"P","name":"P","domain":"provider"},
                 {"code":"V","name":"V","domain":"voluntary","public_authority":true},
                     {"code":"L","name":"L","domain":"local-authority","public_authority":false}]
                """#)
        #expect(directory.organisations.map(\.publicAuthority) == [true, false, true, false])
    }

    /// The code lists are part of the directory (versioned like the rest): a list the directory gives
    /// replaces the built-in one; the others stay.
    @Test func theDirectoryCanReplaceACodeList() throws {
        let json = #"""
            {"lawful_basis_codes":[{"id":"A6-1e","list":"article6","name":"Public task"},{"id":"A6-1c","list":"article6"},
                                   {"id":"X-1","list":"article7"},{"id":"has space","list":"article9"},{"id":"A6-1c","list":"article6"}]}
            """#
        let (directory, problems) = DirectoryBuilder.build([
            (source: "d.json", document: try JSONDecoder().decode(DirectoryDocument.self, from: Data(json.utf8)))
        ])
        #expect(Set(problems.map(\.entry)) == ["lawful basis code X-1", "lawful basis code has space", "lawful basis code A6-1c"])
        let vocabulary = directory.vocabulary
        #expect(vocabulary.article6 == ["A6-1e", "A6-1c", "A6-1c"] && vocabulary.article9 == LawfulBasisVocabulary.builtIn.article9)
        let rules = CrossingRules.Context(policy: .standard, safeguarding: false, senderIsPublicAuthority: false, vocabulary: vocabulary)
        let refused = CrossingRules.invalidBasis(LawfulBasis(article6: "A6-1a"), field: "lawful_basis", context: rules)
        #expect(refused?.reason == "unknown code; known codes are A6-1e, A6-1c, A6-1c")
        #expect(CrossingRules.invalidBasis(LawfulBasis(article6: "A6-1c"), field: "lawful_basis", context: rules) == nil)
        #expect(Directory().vocabulary == .builtIn)
    }
}

@Suite("The crossing record's JSON")
struct CrossingRecordJSONTests {
    /// The hand-written JSON (written on every send) and Codable agree: what is stored reads back whole.
    @Test func theWrittenJSONReadsBackAndMatchesCodable() throws {
        var record = CrossingRecord(
            CrossingDeclaration(
                subjects: [
                    CrossingSubject(
                        nhsNumber: "4010232137", nhsNumberStatus: "01", localIDs: [LocalIdentifier(system: "urn:x", value: "C\"1")],
                        restricted: true),
                    CrossingSubject(nhsNumberAbsentReason: "withheld"),
                ],
                lawfulBasis: LawfulBasis(
                    article6: "A6-1e", article9: "A9-2h", schedule1: "S1-P1-2", article10: true, confidentiality: "CLDC-public-interest"),
                consent: Consent(
                    state: "withdrawn", objection: true, decidedBy: "Caldicott Guardian", restrictions: ["no-onward-sharing"], personAware: false,
                    reason: "line\nbreak"),
                provenance: Provenance(
                    system: "EPR/4.2", author: .init(name: "Dr Ada Okafor", role: "Consultant", professionalID: "GMC:7012345"),
                    createdAt: "2026-11-30T09:12:00Z"),
                intent: ClinicalIntent(
                    purpose: "p", action: "for-action", priority: "urgent", question: "q?", respondBy: "2026-12-01T17:00:00Z",
                    immediateRisk: true)))
        record.sources["intent"] = CrossingSource.default
        record.subjects[1].nhsNumberHash = "hmac-sha256:ab"
        record.flags = [CrossingFlag(flow: "identity", field: "subject.nhs_number", reason: "missing", shown: true)]
        var facts = FHIRMessageFacts(format: .xml, version: "STU3", eventSystem: "s", eventCode: "ITK003D", messageID: "m")
        (facts.recipientType, facts.priority, facts.infAckRequested, facts.busAckRequested, facts.senderReference, facts.duplicate) =
            ("FA", "urgent", true, false, "ref", true)
        record.derived = CrossingDerived(
            senderMailbox: "ALICE", senderOrganisation: "X26", senderDomain: "nhs", senderAuthority: "NHS Act 2006",
            senderPublicAuthority: true, receivedAt: "2026-11-30T09:12:00Z", payloadSHA256: "ab",
            route: RouteTaken(addressedBy: .postcode, address: "RV2", service: "s", directoryVersion: 3),
            certificateMatchesSender: true, fhir: facts)
        record.derived?.receiverOrganisation = "X27"
        record.derived?.acceptBy = "2026-11-30T13:12:00Z"
        record.derived?.offSystem = OffSystemFacts(
            channel: "phone", occurredAt: "2026-11-30T09:00:00Z", workflowID: "W", recordedBy: "duty",
            anonymous: true)
        let written = record.jsonValue.serialized
        #expect(try JSONDecoder().decode(CrossingRecord.self, from: Data(written.utf8)) == record)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let codable = try JSONDecoder().decode(JSONValue.self, from: encoder.encode(record))
        #expect(JSONValue.stored(written) == codable)
    }
}
