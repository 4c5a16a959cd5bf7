/// The governance of one crossing (the four flows a pipe does not carry: Identity, Consent,
/// Provenance, Clinical Intent), in three parts: what the sender declared, what the broker derived
/// and what the receiver asserted. Every declared field remembers where it came from. Stored as JSON
/// beside the message; the same JSON is what the API shows.
public struct CrossingRecord: Codable, Hashable, Sendable {
    public var subjects: [CrossingSubject]
    public var lawfulBasis: LawfulBasis?
    public var consent: Consent?
    public var provenance: Provenance?
    public var intent: ClinicalIntent?
    /// Where each part came from, keyed by part (`subject`, `lawful_basis`, `consent`, `provenance`, `intent`).
    public var sources: [String: CrossingSource]
    public var derived: CrossingDerived?
    /// The gaps a `flagged` policy let through, shown to both sides.
    public var flags: [CrossingFlag]

    enum CodingKeys: String, CodingKey {
        case subjects, consent, provenance, intent, sources, derived, flags
        case lawfulBasis = "lawful_basis"
    }

    public init(_ declaration: CrossingDeclaration = CrossingDeclaration(), source: CrossingSource = .sender) {
        subjects = declaration.subjects
        lawfulBasis = declaration.lawfulBasis
        consent = declaration.consent
        provenance = declaration.provenance
        intent = declaration.intent
        sources = [:]
        for (part, present) in declaration.presentParts where present { sources[part] = source }
        flags = []
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        subjects = try c.decodeIfPresent([CrossingSubject].self, forKey: .subjects) ?? []
        lawfulBasis = try c.decodeIfPresent(LawfulBasis.self, forKey: .lawfulBasis)
        consent = try c.decodeIfPresent(Consent.self, forKey: .consent)
        provenance = try c.decodeIfPresent(Provenance.self, forKey: .provenance)
        intent = try c.decodeIfPresent(ClinicalIntent.self, forKey: .intent)
        sources = try c.decodeIfPresent([String: CrossingSource].self, forKey: .sources) ?? [:]
        derived = try c.decodeIfPresent(CrossingDerived.self, forKey: .derived)
        flags = try c.decodeIfPresent([CrossingFlag].self, forKey: .flags) ?? []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if !subjects.isEmpty { try c.encode(subjects, forKey: .subjects) }  // absent rather than [] when withheld or none
        try c.encodeIfPresent(lawfulBasis, forKey: .lawfulBasis)
        try c.encodeIfPresent(consent, forKey: .consent)
        try c.encodeIfPresent(provenance, forKey: .provenance)
        try c.encodeIfPresent(intent, forKey: .intent)
        try c.encode(sources, forKey: .sources)
        try c.encodeIfPresent(derived, forKey: .derived)
        try c.encode(flags, forKey: .flags)
    }

    /// The record without who it is about: headers reach proxy logs and tracking reaches the sender's
    /// tooling, so only the recipient's and sender's `…/crossing` calls show the subject.
    public var withoutSubject: CrossingRecord {
        var copy = self
        copy.subjects = []
        copy.sources["subject"] = nil
        if !subjects.isEmpty { copy.subjectWithheld = true }
        return copy
    }

    /// The record with each `restricted` subject (a sensitive record) cut to its marker and
    /// verification status: such a subject is shown whole only to the message's recipient.
    public var withRestrictedSubjectsMasked: CrossingRecord {
        var copy = self
        copy.subjects = subjects.map { $0.restricted == true ? CrossingSubject(nhsNumberStatus: $0.nhsNumberStatus, restricted: true) : $0 }
        return copy
    }

    /// Set on a copy whose subject was left out, so a reader can tell "none given" from "not shown".
    public var subjectWithheld: Bool? {
        get { sources["subject_withheld"] == .broker ? true : nil }
        set { sources["subject_withheld"] = newValue == true ? .broker : nil }
    }
}

public enum CrossingSource: String, Codable, Hashable, Sendable {
    case sender, payload, `default`, broker, receiver
}

public struct CrossingSubject: Codable, Hashable, Sendable {
    public var nhsNumber: String?
    public var nhsNumberStatus: String?
    public var nhsNumberAbsentReason: String?
    public var localIDs: [LocalIdentifier]?
    public var restricted: Bool?
    /// After the retention period: the keyed hash that replaced the NHS number.
    public var nhsNumberHash: String?

    public init(
        nhsNumber: String? = nil, nhsNumberStatus: String? = nil, nhsNumberAbsentReason: String? = nil,
        localIDs: [LocalIdentifier]? = nil, restricted: Bool? = nil
    ) {
        (self.nhsNumber, self.nhsNumberStatus, self.nhsNumberAbsentReason) = (nhsNumber, nhsNumberStatus, nhsNumberAbsentReason)
        (self.localIDs, self.restricted) = (localIDs, restricted)
    }

    enum CodingKeys: String, CodingKey {
        case restricted
        case nhsNumber = "nhs_number", nhsNumberStatus = "nhs_number_status", nhsNumberAbsentReason = "nhs_number_absent_reason"
        case localIDs = "local_ids", nhsNumberHash = "nhs_number_hash"
    }

    public static let absentReasons = ["unknown", "not-issued", "withheld"]
}

public struct LocalIdentifier: Codable, Hashable, Sendable {
    public var system: String
    public var value: String
    public init(system: String, value: String) { (self.system, self.value) = (system, value) }
}

public struct LawfulBasis: Codable, Hashable, Sendable {
    public var article6: String?
    public var article9: String?
    public var schedule1: String?
    public var article10: Bool?
    public var confidentiality: String?

    public init(article6: String? = nil, article9: String? = nil, schedule1: String? = nil, article10: Bool? = nil, confidentiality: String? = nil) {
        (self.article6, self.article9, self.schedule1, self.article10, self.confidentiality) = (
            article6, article9, schedule1, article10, confidentiality
        )
    }

    enum CodingKeys: String, CodingKey {
        case article6, article9, article10, confidentiality
        case schedule1 = "dpa18_sch1"
    }
}

public struct Consent: Codable, Hashable, Sendable {
    public var state: String?
    public var objection: Bool?
    public var decidedBy: String?
    public var restrictions: [String]?
    public var personAware: Bool?
    /// Why consent was not sought (needed with `not-sought-safeguarding`).
    public var reason: String?

    public init(
        state: String? = nil, objection: Bool? = nil, decidedBy: String? = nil, restrictions: [String]? = nil,
        personAware: Bool? = nil, reason: String? = nil
    ) {
        (self.state, self.objection, self.decidedBy, self.restrictions) = (state, objection, decidedBy, restrictions)
        (self.personAware, self.reason) = (personAware, reason)
    }

    enum CodingKeys: String, CodingKey {
        case state, objection, restrictions, reason
        case decidedBy = "decided_by", personAware = "person_aware"
    }

    public static let states = ["explicit", "implied-direct-care", "not-sought-safeguarding", "refused", "withdrawn"]
}

public struct Provenance: Codable, Hashable, Sendable {
    public var system: String?
    public var author: Author?
    public var createdAt: String?

    public init(system: String? = nil, author: Author? = nil, createdAt: String? = nil) {
        (self.system, self.author, self.createdAt) = (system, author, createdAt)
    }

    enum CodingKeys: String, CodingKey {
        case system, author
        case createdAt = "created_at"
    }

    public struct Author: Codable, Hashable, Sendable {
        public var name: String?
        public var role: String?
        public var professionalID: String?
        public init(name: String? = nil, role: String? = nil, professionalID: String? = nil) {
            (self.name, self.role, self.professionalID) = (name, role, professionalID)
        }
        enum CodingKeys: String, CodingKey {
            case name, role
            case professionalID = "professional_id"
        }
    }
}

public struct ClinicalIntent: Codable, Hashable, Sendable {
    public var purpose: String?
    public var action: String?
    public var priority: String?
    public var question: String?
    public var respondBy: String?
    public var immediateRisk: Bool?

    public init(
        purpose: String? = nil, action: String? = nil, priority: String? = nil, question: String? = nil,
        respondBy: String? = nil, immediateRisk: Bool? = nil
    ) {
        (self.purpose, self.action, self.priority, self.question, self.respondBy, self.immediateRisk) =
            (purpose, action, priority, question, respondBy, immediateRisk)
    }

    enum CodingKeys: String, CodingKey {
        case purpose, action, priority, question
        case respondBy = "respond_by", immediateRisk = "immediate_risk"
    }

    public static let actions = ["for-action", "for-information"]
    public static let priorities = ["routine", "urgent", "asap", "stat"]

    /// Fills each field this intent leaves empty from `defaults`; returns whether any was filled.
    mutating func fill(from defaults: ClinicalIntent) -> Bool {
        var filled = false
        func take<T>(_ mine: inout T?, _ theirs: T?) {
            if mine == nil, let theirs {
                mine = theirs
                filled = true
            }
        }
        take(&purpose, defaults.purpose)
        take(&action, defaults.action)
        take(&priority, defaults.priority)
        take(&question, defaults.question)
        take(&respondBy, defaults.respondBy)
        take(&immediateRisk, defaults.immediateRisk)
        return filled
    }
}

/// What the broker found for itself; never taken from the sender.
public struct CrossingDerived: Codable, Hashable, Sendable {
    public var senderMailbox: String?
    public var senderOrganisation: String?
    public var senderDomain: String?
    public var senderAuthority: String?
    public var senderPublicAuthority: Bool?
    /// Received time, route and sender mailbox are the message's own and are filled in when the
    /// record is shown rather than stored twice.
    public var receivedAt: String?
    public var payloadSHA256: String?
    public var route: RouteTaken?
    /// Whether the client certificate that sent it names a mailbox of the sending organisation
    /// (nil when the connection had no client certificate).
    public var certificateMatchesSender: Bool?
    public var fhir: FHIRMessageFacts?
    /// Set when the crossing happened off-system (by phone, fax, email or paper) and was recorded.
    public var offSystem: OffSystemFacts?
    /// The receiving organisation, from the directory at send time (one end of the boundary).
    public var receiverOrganisation: String?
    /// When the workflow's first not-accepted escalation stage falls due (the scorecard's
    /// Alert & Responsibility flow measures acceptance against it).
    public var acceptBy: String?

    public init(
        senderMailbox: String?, senderOrganisation: String?, senderDomain: String?, senderAuthority: String?,
        senderPublicAuthority: Bool?, receivedAt: String?, payloadSHA256: String?, route: RouteTaken?,
        certificateMatchesSender: Bool?, fhir: FHIRMessageFacts?
    ) {
        (self.senderMailbox, self.senderOrganisation, self.senderDomain, self.senderAuthority) = (
            senderMailbox, senderOrganisation, senderDomain, senderAuthority
        )
        (self.senderPublicAuthority, self.receivedAt, self.payloadSHA256, self.route) = (senderPublicAuthority, receivedAt, payloadSHA256, route)
        (self.certificateMatchesSender, self.fhir) = (certificateMatchesSender, fhir)
    }

    enum CodingKeys: String, CodingKey {
        case route, fhir
        case senderMailbox = "sender_mailbox", senderOrganisation = "sender_organisation", senderDomain = "sender_domain"
        case senderAuthority = "sender_authority", senderPublicAuthority = "sender_public_authority", receivedAt = "received_at"
        case payloadSHA256 = "payload_sha256", certificateMatchesSender = "certificate_matches_sender", offSystem = "off_system"
        case receiverOrganisation = "receiver_organisation", acceptBy = "accept_by"
    }
}

/// How a crossing that happened off-system was recorded (docs/CROSSINGS.md, "Crossings that happen off-system").
public struct OffSystemFacts: Codable, Hashable, Sendable {
    /// `phone`, `fax`, `email`, `paper`, `in-person` or `other`.
    public var channel: String
    public var occurredAt: String
    /// The workflow the crossing belongs to (the notice itself travels on `HANDOVER_OFFSYSTEM`).
    public var workflowID: String
    /// Who recorded it (the admin token's name).
    public var recordedBy: String
    /// A member of the public who referred and did not give their name.
    public var anonymous: Bool?

    public init(channel: String, occurredAt: String, workflowID: String, recordedBy: String, anonymous: Bool?) {
        (self.channel, self.occurredAt, self.workflowID, self.recordedBy, self.anonymous) = (channel, occurredAt, workflowID, recordedBy, anonymous)
    }

    enum CodingKeys: String, CodingKey {
        case channel, anonymous
        case occurredAt = "occurred_at", workflowID = "workflow_id", recordedBy = "recorded_by"
    }

    public static let channels = ["phone", "fax", "email", "paper", "in-person", "other"]
    public static let workflow = "HANDOVER_OFFSYSTEM"
}

/// A gap a `flagged` (or `recorded`) policy let through.
public struct CrossingFlag: Codable, Hashable, Sendable {
    public var flow: String
    public var field: String
    public var reason: String
    /// `flagged` gaps are shown to both sides; `recorded` ones are only counted.
    public var shown: Bool

    public init(flow: String, field: String, reason: String, shown: Bool) {
        (self.flow, self.field, self.reason, self.shown) = (flow, field, reason, shown)
    }
}

extension CrossingDeclaration {
    var presentParts: [(String, Bool)] {
        [
            ("subject", !subjects.isEmpty), ("lawful_basis", lawfulBasis != nil), ("consent", consent != nil),
            ("provenance", provenance != nil), ("intent", intent != nil),
        ]
    }
}

/// An immutable reference to a crossing record, so copying a message record copies one pointer.
final class CrossingBox: Hashable, Sendable {
    let value: CrossingRecord
    init(_ value: CrossingRecord) { self.value = value }
    static func == (a: CrossingBox, b: CrossingBox) -> Bool { a === b || a.value == b.value }
    func hash(into hasher: inout Hasher) { hasher.combine(value) }
}
