import Foundation

/// What a sender declares about a crossing in the `Mex-Handover-Crossing` header: JSON, UTF-8,
/// base64url without padding, at most 4 KiB encoded.
public struct CrossingDeclaration: Hashable, Sendable {
    public var subjects: [CrossingSubject] = []
    public var lawfulBasis: LawfulBasis?
    public var consent: Consent?
    public var provenance: Provenance?
    public var intent: ClinicalIntent?

    public init(
        subjects: [CrossingSubject] = [], lawfulBasis: LawfulBasis? = nil, consent: Consent? = nil,
        provenance: Provenance? = nil, intent: ClinicalIntent? = nil
    ) {
        (self.subjects, self.lawfulBasis, self.consent, self.provenance, self.intent) = (subjects, lawfulBasis, consent, provenance, intent)
    }

    public static let headerName = "mex-handover-crossing"
    public static let maximumEncodedBytes = 4096

    /// The header's value decoded and checked for shape (not yet for meaning: see `CrossingRules`).
    /// Problems name the field and never repeat the value sent.
    public static func parse(header text: String) -> Result<CrossingDeclaration, CrossingProblem> {
        guard text.utf8.count <= maximumEncodedBytes else {
            return .failure(.malformed("", "the header is longer than \(maximumEncodedBytes) bytes"))
        }
        guard let bytes = base64URLDecode(text.trimmingWhitespace()) else {
            return .failure(.malformed("", "the header must be base64url without padding"))
        }
        return parse(json: Data(bytes))
    }

    /// The declaration from its JSON (the header's content, or the `crossing` of an off-system record).
    public static func parse(json data: Data) -> Result<CrossingDeclaration, CrossingProblem> {
        guard data.count <= 16 * 1024, let tree = try? JSONDecoder().decode(JSONValue.self, from: data), case .object = tree else {
            return .failure(.malformed("", "the header must hold a JSON object"))
        }
        if let unknown = unknownKey(in: tree, shape: shape, path: "") {
            return .failure(.malformed(unknown, "unknown field"))
        }
        do {
            let wire = try JSONDecoder().decode(Wire.self, from: data)
            if wire.subject != nil && wire.subjects != nil { return .failure(.malformed("subjects", "give subject or subjects, not both")) }
            let subjects = wire.subjects ?? wire.subject.map { [$0] } ?? []
            guard subjects.count <= 10 else { return .failure(.malformed("subjects", "at most 10 subjects")) }
            return .success(
                CrossingDeclaration(
                    subjects: subjects, lawfulBasis: wire.lawful_basis, consent: wire.consent,
                    provenance: wire.provenance, intent: wire.intent))
        } catch {
            return .failure(.malformed(fieldPath(of: error), "wrong type"))
        }
    }

    /// As Handover's own client sends it.
    public var headerValue: String {
        let wire = Wire(
            subject: subjects.count == 1 ? subjects[0] : nil, subjects: subjects.count > 1 ? subjects : nil,
            lawful_basis: lawfulBasis, consent: consent, provenance: provenance, intent: intent)
        let data = (try? JSONEncoder().encode(wire)) ?? Data("{}".utf8)
        return base64URLEncode(Array(data))
    }

    struct Wire: Codable {
        var subject: CrossingSubject?
        var subjects: [CrossingSubject]?
        var lawful_basis: LawfulBasis?
        var consent: Consent?
        var provenance: Provenance?
        var intent: ClinicalIntent?
    }

    indirect enum Shape: Sendable { case object([String: Shape]), list(Shape), value }

    static let subjectShape = Shape.object([
        "nhs_number": .value, "nhs_number_status": .value, "nhs_number_absent_reason": .value, "restricted": .value,
        "local_ids": .list(.object(["system": .value, "value": .value])),
    ])
    static let shape = Shape.object([
        "subject": subjectShape, "subjects": .list(subjectShape),
        "lawful_basis": .object(["article6": .value, "article9": .value, "dpa18_sch1": .value, "article10": .value, "confidentiality": .value]),
        "consent": .object([
            "state": .value, "objection": .value, "decided_by": .value, "restrictions": .value, "person_aware": .value,
            "reason": .value,
        ]),
        "provenance": .object([
            "system": .value, "created_at": .value,
            "author": .object(["name": .value, "role": .value, "professional_id": .value]),
        ]),
        "intent": .object([
            "purpose": .value, "action": .value, "priority": .value, "question": .value, "respond_by": .value,
            "immediate_risk": .value,
        ]),
    ])

    /// The first key the shape does not define, as a dotted path (the key itself is the sender's
    /// text, so it is cut short; values are never echoed).
    static func unknownKey(in value: JSONValue, shape: Shape, path: String) -> String? {
        switch (shape, value) {
        case (.object(let keys), .object(let pairs)):
            for (key, inner) in pairs {
                let field = path.isEmpty ? key : path + "." + key
                guard let innerShape = keys[key] else { return path.isEmpty ? String(key.prefix(40)) : path + "." + String(key.prefix(40)) }
                if let found = unknownKey(in: inner, shape: innerShape, path: field) { return found }
            }
        case (.list(let inner), .array(let items)):
            for (i, item) in items.enumerated() {
                if let found = unknownKey(in: item, shape: inner, path: "\(path)[\(i)]") { return found }
            }
        default: break
        }
        return nil
    }

    static func fieldPath(of error: any Error) -> String {
        let path: [any CodingKey]
        switch error {
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c), DecodingError.dataCorrupted(let c): path = c.codingPath
        case DecodingError.keyNotFound(let key, let c): path = c.codingPath + [key]
        default: path = []
        }
        return path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }
}
