/// Builds a message's crossing record from what the sender declared, what the payload says and
/// the workflow's defaults, then checks it: malformed or contradictory values are always refused;
/// missing parts are refused, flagged or counted as the workflow's policy says. Pure: the caller
/// supplies the directory's facts.
public enum CrossingRules {
    public struct Context: Sendable {
        public var policy: CrossingPolicy
        /// `safeguarding: true` workflows never refuse for a missing part.
        public var safeguarding: Bool
        /// Whether the sending organisation is a public authority (which cannot rely on 6(1)(ea) or (f)).
        public var senderIsPublicAuthority: Bool
        public var vocabulary: LawfulBasisVocabulary

        public init(policy: CrossingPolicy, safeguarding: Bool, senderIsPublicAuthority: Bool, vocabulary: LawfulBasisVocabulary = .builtIn) {
            (self.policy, self.safeguarding, self.senderIsPublicAuthority, self.vocabulary) = (
                policy, safeguarding, senderIsPublicAuthority, vocabulary
            )
        }
    }

    /// The record to store, or the first reason to refuse the send.
    public static func record(declared: CrossingDeclaration?, payload: FHIRReading?, context: Context) -> Result<CrossingRecord, CrossingProblem> {
        var record = CrossingRecord(declared ?? CrossingDeclaration())
        if let payload {
            if let problem = merge(payload, into: &record) { return .failure(problem) }
        }
        if let defaults = context.policy.defaultIntent {
            var intent = record.intent ?? ClinicalIntent()
            if intent.fill(from: defaults), record.intent == nil { record.sources["intent"] = .default }
            record.intent = intent
        }
        if let problem = invalidValue(in: record, context: context) { return .failure(problem) }
        for gap in gaps(in: record, policy: context.policy) {
            switch gap.strength {
            case .required: return .failure(CrossingProblem(kind: .required, field: gap.field, reason: gap.reason))
            case .flagged, .recorded:
                record.flags.append(CrossingFlag(flow: gap.flow, field: gap.field, reason: gap.reason, shown: gap.strength == .flagged))
            case .off: break
            }
        }
        return .success(record)
    }

    /// What the payload adds where the sender gave nothing; a declared NHS number must agree with it.
    static func merge(_ payload: FHIRReading, into record: inout CrossingRecord) -> CrossingProblem? {
        if let found = payload.subjects.first?.nhsNumber {
            let digits = found.filter { $0 != " " }
            if record.subjects.isEmpty {
                record.subjects = payload.subjects
                record.sources["subject"] = .payload
            } else if record.subjects.count == 1 {
                if let declared = record.subjects[0].nhsNumber {
                    guard declared.filter({ $0 != " " }) == digits else {
                        return CrossingProblem(kind: .mismatch, field: "subject.nhs_number", reason: "does not match the NHS number in the payload")
                    }
                } else {
                    record.subjects[0].nhsNumber = found
                    record.subjects[0].nhsNumberStatus = record.subjects[0].nhsNumberStatus ?? payload.subjects[0].nhsNumberStatus
                }
            } else if !record.subjects.contains(where: { $0.nhsNumber?.filter({ $0 != " " }) == digits }) {
                return CrossingProblem(kind: .mismatch, field: "subjects", reason: "none of the declared NHS numbers matches the payload's")
            }
        }
        if record.intent == nil, let intent = payload.intent {
            record.intent = intent
            record.sources["intent"] = .payload
        }
        if record.provenance == nil, let provenance = payload.provenance {
            record.provenance = provenance
            record.sources["provenance"] = .payload
        }
        return nil
    }

    /// The first value that is malformed, unknown or contradicts another.
    static func invalidValue(in record: CrossingRecord, context: Context) -> CrossingProblem? {
        let many = record.subjects.count > 1
        for (i, subject) in record.subjects.enumerated() {
            let field = many ? "subjects[\(i)]" : "subject"
            if let problem = invalidSubject(subject, field: field, allowTestNumbers: context.policy.testNHSNumbersAllowed) { return problem }
        }
        if let basis = record.lawfulBasis, let problem = invalidBasis(basis, field: "lawful_basis", context: context) { return problem }
        if let consent = record.consent, let problem = invalidConsent(consent, basis: record.lawfulBasis, safeguarding: context.safeguarding) {
            return problem
        }
        if let intent = record.intent {
            if let action = intent.action, !ClinicalIntent.actions.contains(action) {
                return .invalid("intent.action", "must be one of " + ClinicalIntent.actions.joined(separator: ", "))
            }
            if let priority = intent.priority, !ClinicalIntent.priorities.contains(priority) {
                return .invalid("intent.priority", "must be one of " + ClinicalIntent.priorities.joined(separator: ", "))
            }
            if let by = intent.respondBy, Timestamp.parseDateTime(by) == nil {
                return .invalid("intent.respond_by", "must be an ISO 8601 date and time")
            }
            if let problem = tooLong(intent.purpose, "intent.purpose", 100) ?? tooLong(intent.question, "intent.question", 1000) { return problem }
        }
        if let provenance = record.provenance {
            if let at = provenance.createdAt, Timestamp.parseDateTime(at) == nil {
                return .invalid("provenance.created_at", "must be an ISO 8601 date and time")
            }
            if let problem = tooLong(provenance.system, "provenance.system", 200) ?? tooLong(provenance.author?.name, "provenance.author.name", 200)
                ?? tooLong(provenance.author?.role, "provenance.author.role", 200)
                ?? tooLong(provenance.author?.professionalID, "provenance.author.professional_id", 100)
            {
                return problem
            }
        }
        return nil
    }

    static func invalidSubject(_ subject: CrossingSubject, field: String, allowTestNumbers: Bool) -> CrossingProblem? {
        if let number = subject.nhsNumber, case .failure(let problem) = NHSNumber.parse(number, allowTestNumbers: allowTestNumbers) {
            return .invalid(field + ".nhs_number", problem.rawValue)
        }
        if let status = subject.nhsNumberStatus {
            guard NHSNumber.verificationStatuses[status] != nil else { return .invalid(field + ".nhs_number_status", "must be a code 01 to 08") }
            guard subject.nhsNumber != nil else { return .invalid(field + ".nhs_number_status", "is given without an NHS number") }
        }
        if let reason = subject.nhsNumberAbsentReason {
            guard CrossingSubject.absentReasons.contains(reason) else {
                return .invalid(field + ".nhs_number_absent_reason", "must be one of " + CrossingSubject.absentReasons.joined(separator: ", "))
            }
            guard subject.nhsNumber == nil else { return .invalid(field + ".nhs_number_absent_reason", "is given with an NHS number") }
        }
        guard (subject.localIDs ?? []).count <= 10 else { return .invalid(field + ".local_ids", "at most 10") }
        for (i, id) in (subject.localIDs ?? []).enumerated() where id.system.count > 200 || id.value.count > 100 || id.value.isEmpty {
            return .invalid(field + ".local_ids[\(i)]", "system at most 200 and value 1 to 100 characters")
        }
        return nil
    }

    /// Also used for the receiver's own basis when it accepts.
    public static func invalidBasis(_ basis: LawfulBasis, field: String, context: Context) -> CrossingProblem? {
        let v = context.vocabulary
        func check(_ code: String?, _ name: String, _ list: [String]) -> CrossingProblem? {
            guard let code, !list.contains(code) else { return nil }
            return .invalid("\(field).\(name)", "unknown code; known codes are " + list.joined(separator: ", "))
        }
        if let problem = check(basis.article6, "article6", v.article6) ?? check(basis.article9, "article9", v.article9)
            ?? check(basis.schedule1, "dpa18_sch1", v.schedule1) ?? check(basis.confidentiality, "confidentiality", v.confidentiality)
        {
            return problem
        }
        if basis.article6 == nil && (basis.article9 != nil || basis.schedule1 != nil) {
            return .invalid("\(field).article6", "an Article 6 basis is needed beside Article 9")
        }
        if let a9 = basis.article9, LawfulBasisVocabulary.needsSchedule1.contains(a9), basis.schedule1 == nil {
            return .invalid("\(field).dpa18_sch1", "Article 9 condition \(a9) needs its DPA 2018 Schedule 1 condition")
        }
        if let a6 = basis.article6, context.senderIsPublicAuthority, LawfulBasisVocabulary.notForPublicAuthorities.contains(a6) {
            return .invalid("\(field).article6", "a public authority cannot rely on \(a6) for its tasks")
        }
        return nil
    }

    static func invalidConsent(_ consent: Consent, basis: LawfulBasis?, safeguarding: Bool) -> CrossingProblem? {
        if let state = consent.state, !Consent.states.contains(state) {
            return .invalid("consent.state", "must be one of " + Consent.states.joined(separator: ", "))
        }
        let overridden = consent.state == "refused" || consent.state == "withdrawn" || consent.objection == true
        if overridden {
            guard let c = basis?.confidentiality, LawfulBasisVocabulary.overridingConfidentiality.contains(c) else {
                return .invalid(
                    "lawful_basis.confidentiality",
                    "refused or withdrawn consent, or an objection, needs CLDC-public-interest or CLDC-legal-requirement")
            }
            guard !(consent.decidedBy ?? "").trimmingWhitespace().isEmpty else {
                return .invalid("consent.decided_by", "who decided to share despite refusal or objection must be named")
            }
        }
        if consent.state == "not-sought-safeguarding" {
            guard safeguarding else { return .invalid("consent.state", "not-sought-safeguarding is only for safeguarding workflows") }
            guard !(consent.reason ?? "").trimmingWhitespace().isEmpty else { return .invalid("consent.reason", "say why consent was not sought") }
        }
        return tooLong(consent.decidedBy, "consent.decided_by", 200) ?? tooLong(consent.reason, "consent.reason", 1000)
    }

    static func tooLong(_ text: String?, _ field: String, _ limit: Int) -> CrossingProblem? {
        guard let text, text.count > limit else { return nil }
        return .invalid(field, "at most \(limit) characters")
    }

    struct Gap {
        var flow: String
        var field: String
        var reason: String
        var strength: CrossingStrength
    }

    /// The parts the workflow asks for that the record lacks.
    static func gaps(in record: CrossingRecord, policy: CrossingPolicy) -> [Gap] {
        var found: [Gap] = []
        if !record.subjects.contains(where: { $0.nhsNumber != nil || $0.nhsNumberAbsentReason != nil }) {
            found.append(
                Gap(
                    flow: "identity", field: "subject.nhs_number", reason: "missing (give an NHS number or nhs_number_absent_reason)",
                    strength: policy.identity))
        }
        if record.lawfulBasis?.article6 == nil {
            found.append(Gap(flow: "lawful_basis", field: "lawful_basis.article6", reason: "missing", strength: policy.lawfulBasis))
        } else if record.lawfulBasis?.article9 == nil {
            found.append(
                Gap(
                    flow: "lawful_basis", field: "lawful_basis.article9", reason: "missing (health or care data needs an Article 9 condition)",
                    strength: policy.lawfulBasis))
        }
        if record.intent?.purpose == nil {
            found.append(Gap(flow: "intent", field: "intent.purpose", reason: "missing", strength: policy.intent))
        } else if record.intent?.action == nil {
            found.append(Gap(flow: "intent", field: "intent.action", reason: "missing (for-action or for-information)", strength: policy.intent))
        }
        if record.provenance?.author?.name == nil {
            found.append(Gap(flow: "provenance", field: "provenance.author.name", reason: "missing", strength: policy.provenance))
        } else if record.provenance?.createdAt == nil {
            found.append(Gap(flow: "provenance", field: "provenance.created_at", reason: "missing", strength: policy.provenance))
        }
        return found
    }
}
