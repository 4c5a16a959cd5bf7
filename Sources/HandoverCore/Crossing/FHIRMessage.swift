/// A FHIR payload's format, from its content type or its first bytes.
public enum FHIRFormat: String, Codable, Hashable, Sendable { case xml, json }

/// What the broker reads from a Transfer of Care (ITK3) message Bundle: the event, the ITK handling
/// keys and the identity of the person it is about. Never a clinical detail.
public struct FHIRMessageFacts: Codable, Hashable, Sendable {
    public var format: FHIRFormat
    /// `STU3` (`MessageHeader.event`) or `R4` (`MessageHeader.eventCoding`).
    public var version: String
    public var eventSystem: String?
    public var eventCode: String?
    public var messageID: String?
    /// ITK's `RecipientType`: `FA` for action, `FI` for information.
    public var recipientType: String?
    public var priority: String?
    public var infAckRequested: Bool?
    public var busAckRequested: Bool?
    public var senderReference: String?
    /// Another message already carried this `MessageHeader.id` (ITK's 20007).
    public var duplicate: Bool?

    public init(format: FHIRFormat, version: String, eventSystem: String? = nil, eventCode: String? = nil, messageID: String? = nil) {
        (self.format, self.version, self.eventSystem, self.eventCode, self.messageID) = (format, version, eventSystem, eventCode, messageID)
    }

    enum CodingKeys: String, CodingKey {
        case format, version, priority, duplicate
        case eventSystem = "event_system", eventCode = "event_code", messageID = "message_id", recipientType = "recipient_type"
        case infAckRequested = "inf_ack_requested", busAckRequested = "bus_ack_requested", senderReference = "sender_reference"
    }
}

/// The facts and the record parts a payload supplies.
public struct FHIRReading: Hashable, Sendable {
    public var facts: FHIRMessageFacts
    /// The one person the focus document is about (empty when none, or when several appear).
    public var subjects: [CrossingSubject]
    public var intent: ClinicalIntent?
    public var provenance: Provenance?
}

/// Reads Transfer of Care payloads (§3 of docs/CROSSINGS.md) with hard limits: at most 20 MiB,
/// nesting at most 64 deep, no DTD or external entity.
public enum FHIRMessageReader {
    public static let maximumBytes = 20 << 20
    public static let maximumDepth = 64
    public static let nhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number"

    /// Whether a payload is to be read as FHIR, and in which format: its content type says so, or its
    /// first bytes look like a FHIR Bundle.
    public static func format(contentType: String?, prefix: some Collection<UInt8>) -> FHIRFormat? {
        // Searched as bytes (Foundation's `contains` on every send showed in a profile); case-insensitive.
        if let type = contentType.map({ Array($0.lowercased().utf8) }), FHIRTree.contains(type, "fhir") {
            if FHIRTree.contains(type, "json") { return .json }
            if FHIRTree.contains(type, "xml") { return .xml }
        }
        // Looked at without copying first: most payloads are not FHIR and stop here.
        guard
            let first = prefix.prefix(2048).first(where: {
                !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 || $0 == 0xEF || $0 == 0xBB || $0 == 0xBF)
            }),
            first == UInt8(ascii: "{") || first == UInt8(ascii: "<")
        else { return nil }
        let head = Array(prefix.prefix(2048))
        if first == UInt8(ascii: "{"), FHIRTree.contains(head, "\"resourcetype\""), FHIRTree.contains(head, "\"bundle\"") { return .json }
        if first == UInt8(ascii: "<"), FHIRTree.contains(head, "<bundle"), FHIRTree.contains(head, "hl7.org/fhir") { return .xml }
        return nil
    }

    /// The payload's facts; nil when it is FHIR but not a message Bundle (passed through untouched).
    public static func read(_ bytes: [UInt8], format: FHIRFormat) -> Result<FHIRReading?, CrossingProblem> {
        guard bytes.count <= maximumBytes else { return .failure(FHIRTree.problem("larger than \(maximumBytes >> 20) MiB")) }
        let bundle: JSONValue
        switch FHIRTree.parse(bytes, format: format, maximumDepth: maximumDepth) {
        case .success(let tree): bundle = tree
        case .failure(let problem): return .failure(problem)
        }
        guard bundle.text("resourceType") == "Bundle" else { return .failure(FHIRTree.problem("the payload is not a FHIR Bundle")) }
        guard bundle.text("type") == "message" else { return .success(nil) }
        let entries = bundle.all("entry")
        guard let header = entries.compactMap({ $0["resource"] }).first(where: { $0.text("resourceType") == "MessageHeader" }) else {
            return .failure(FHIRTree.problem("a message Bundle without a MessageHeader"))
        }
        let event = header["eventCoding"] ?? header["event"]
        var facts = FHIRMessageFacts(
            format: format, version: header["eventCoding"] != nil ? "R4" : "STU3",
            eventSystem: event?.text("system"), eventCode: event?.text("code"), messageID: header.text("id"))
        let handling = header.all("extension").first { ($0.text("url") ?? "").hasSuffix("Extension-ITK-MessageHandling-2") }
        for key in handling?.all("extension") ?? [] {
            switch key.text("url") {
            case "InfAckRequested": facts.infAckRequested = key.text("valueBoolean") == "true"
            case "BusAckRequested": facts.busAckRequested = key.text("valueBoolean") == "true"
            case "RecipientType": facts.recipientType = key["valueCoding"]?.text("code")
            case "Priority": facts.priority = key["valueCoding"]?.text("code")
            case "SenderReference": facts.senderReference = key.text("valueString")
            default: break
            }
        }
        let focus = header.all("focus").first?.text("reference")
        let document = focus.flatMap { resolve($0, in: entries) }
        let (subjects, provenance) = document.map(subjectAndProvenance) ?? ([], nil)
        var intent = ClinicalIntent()
        switch facts.recipientType {
        case "FA": intent.action = "for-action"
        case "FI": intent.action = "for-information"
        default: break
        }
        if let code = facts.eventCode { intent.purpose = code }
        if let priority = facts.priority?.lowercased(), ClinicalIntent.priorities.contains(priority) { intent.priority = priority }
        var systemProvenance = provenance ?? Provenance()
        systemProvenance.system = header["source"]?.text("software") ?? header["source"]?.text("name")
        let hasProvenance = systemProvenance != Provenance()
        return .success(
            FHIRReading(
                facts: facts, subjects: subjects, intent: intent == ClinicalIntent() ? nil : intent,
                provenance: hasProvenance ? systemProvenance : nil))
    }

    /// The entry a reference points at: by `fullUrl`, or by `Type/id`.
    static func resolve(_ reference: String, in entries: [JSONValue]) -> JSONValue? {
        for entry in entries {
            guard let resource = entry["resource"] else { continue }
            if entry.text("fullUrl") == reference { return resource }
            if let type = resource.text("resourceType"), let id = resource.text("id"),
                reference == type + "/" + id || reference.hasSuffix("/" + type + "/" + id)
            {
                return resource
            }
        }
        return nil
    }

    /// The focus document's subject and authorship: `Composition.subject`, resolved to its Patient.
    static func subjectAndProvenance(_ focus: JSONValue) -> ([CrossingSubject], Provenance?) {
        let entries = focus.text("resourceType") == "Bundle" ? focus.all("entry") : [JSONValue.object([("resource", focus)])]
        guard let composition = entries.compactMap({ $0["resource"] }).first(where: { $0.text("resourceType") == "Composition" }) else {
            return ([], nil)
        }
        var provenance = Provenance()
        provenance.createdAt = composition.text("date").flatMap { Timestamp.parseDateTime($0) != nil ? $0 : nil }
        if let author = composition.all("author").first, let name = author.text("display") { provenance.author = Provenance.Author(name: name) }
        let patients = entries.compactMap { $0["resource"] }.filter { $0.text("resourceType") == "Patient" }
        // Where several people appear, who the document is about is not derived.
        guard patients.count <= 1, let reference = composition["subject"]?.text("reference"), let patient = resolve(reference, in: entries),
            patient.text("resourceType") == "Patient"
        else { return ([], provenance) }
        guard let identifier = patient.all("identifier").first(where: { $0.text("system") == nhsNumberSystem }),
            let number = identifier.text("value")
        else { return ([], provenance) }
        let status = identifier.all("extension").first { ($0.text("url") ?? "").contains("NHSNumberVerificationStatus") }
            .flatMap { $0["valueCodeableConcept"]?.all("coding").first?.text("code") }
        return ([CrossingSubject(nhsNumber: number, nhsNumberStatus: status)], provenance)
    }
}
