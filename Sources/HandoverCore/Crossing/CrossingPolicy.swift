/// How strongly a workflow asks for one part of the crossing record (`crossing:` in the directory).
public enum CrossingStrength: String, Hashable, Sendable, CaseIterable {
    /// Refused before the 202, naming the field.
    case required
    /// Delivered, with the gap shown to both sides and counted.
    case flagged
    /// Delivered and counted only (the default).
    case recorded
    /// Not looked at.
    case off
}

/// A workflow's crossing policy.
public struct CrossingPolicy: Hashable, Sendable {
    public var identity: CrossingStrength
    public var lawfulBasis: CrossingStrength
    public var intent: CrossingStrength
    public var provenance: CrossingStrength
    /// Accepting responsibility must carry the receiver's own lawful basis.
    public var receiverBasisRequired: Bool
    public var testNHSNumbersAllowed: Bool
    /// Intent only: a defaulted lawful basis or identity would be governance nobody performed.
    public var defaultIntent: ClinicalIntent?

    public init(
        identity: CrossingStrength = .recorded, lawfulBasis: CrossingStrength = .recorded, intent: CrossingStrength = .recorded,
        provenance: CrossingStrength = .recorded, receiverBasisRequired: Bool = false, testNHSNumbersAllowed: Bool = false,
        defaultIntent: ClinicalIntent? = nil
    ) {
        (self.identity, self.lawfulBasis, self.intent, self.provenance) = (identity, lawfulBasis, intent, provenance)
        (self.receiverBasisRequired, self.testNHSNumbersAllowed, self.defaultIntent) = (receiverBasisRequired, testNHSNumbersAllowed, defaultIntent)
    }

    public static let standard = CrossingPolicy()

    /// The sender-facing parts, by flow name, as the record, metrics and errors name them.
    public var strengths: [(flow: String, strength: CrossingStrength)] {
        [("identity", identity), ("lawful_basis", lawfulBasis), ("intent", intent), ("provenance", provenance)]
    }
}

/// A refusal of a crossing record: which field and why, never the value sent.
public struct CrossingProblem: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// The header could not be read (400).
        case malformed
        /// A value that is not allowed: a bad NHS number, an unknown code, consent that contradicts itself (400).
        case invalid
        /// The declared NHS number disagrees with the payload's (400).
        case mismatch
        /// The workflow requires a part the crossing does not carry (417).
        case required
        /// A payload that says it is FHIR but cannot be read safely (400).
        case fhir
    }

    public var kind: Kind
    public var field: String
    public var reason: String

    public init(kind: Kind, field: String, reason: String) { (self.kind, self.field, self.reason) = (kind, field, reason) }

    static func malformed(_ field: String, _ reason: String) -> CrossingProblem { CrossingProblem(kind: .malformed, field: field, reason: reason) }
    static func invalid(_ field: String, _ reason: String) -> CrossingProblem { CrossingProblem(kind: .invalid, field: field, reason: reason) }

    /// Handover's own stable code for this refusal.
    public var code: HandoverErrorCode {
        switch kind {
        case .malformed: .crossingMalformed
        case .invalid: .crossingInvalid
        case .mismatch: .crossingMismatch
        case .required: .crossingRequired
        case .fhir: .fhirUnreadable
        }
    }

    public var status: Int { code.status ?? 400 }

    /// For metrics: the flow the field belongs to.
    public var flow: String {
        let head = field.split(separator: ".").first.map(String.init) ?? ""
        switch head {
        case "subject", "subjects",
            _ where head.hasPrefix("subjects["):
            return "identity"
        case "lawful_basis", "consent": return "lawful_basis"
        case "provenance": return "provenance"
        case "intent": return "intent"
        default: return kind == .fhir ? "payload" : "header"
        }
    }

    public var description: String {
        let prefix = kind == .fhir ? "FHIR payload" : "crossing record"
        return field.isEmpty ? "\(prefix): \(reason)" : "\(prefix) field \(field): \(reason)"
    }
}
