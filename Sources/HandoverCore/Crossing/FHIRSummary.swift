/// What a FHIR document says, in a shape a person can read on the recipient's message page: the
/// document's title, type, date and authors, the person it is about, the stay it closes, and each
/// section's title, text and entries named by what they are. A section's narrative is kept as plain
/// text (its XHTML is never rendered); every field is bounded; nothing here is HTML.
public struct FHIRSummary: Hashable, Sendable {
    public struct Person: Hashable, Sendable {
        public var name: String?
        public var nhsNumber: String?
        public var birthDate: String?
    }

    /// The hospital stay or contact the document closes (its Encounter).
    public struct Stay: Hashable, Sendable {
        public var start: String?
        public var end: String?
        public var kind: String?
        public var dischargedTo: String?
    }

    public struct Section: Hashable, Sendable {
        public var title: String
        public var text: String?
        public var entries: [String]
    }

    public struct ResourceCount: Hashable, Sendable {
        public var type: String
        public var count: Int
        /// "1 patient", "2 medication statements".
        public var words: String { "\(count) " + Narrative.words(ofTypeName: type).lowercased() + (count == 1 ? "" : "s") }
    }

    /// The message event in words and code, e.g. "ITK Mental Health eDischarge (ITK008D)".
    public var event: String?
    public var title: String?
    public var documentType: String?
    public var date: String?
    public var status: String?
    public var authors: [String] = []
    public var patient: Person?
    public var stay: Stay?
    public var sections: [Section] = []
    /// How many of each kind of resource the bundle holds, most first.
    public var resources: [ResourceCount] = []
    /// Something was left out to keep the summary bounded.
    public var truncated = false
}

/// Summarises a FHIR Bundle (a Transfer of Care message or a document) for the person who received
/// it, within the reader's limits (`FHIRMessageReader.maximumBytes`, `maximumDepth`).
public enum FHIRSummaryReader {
    public static let maximumSections = 50
    public static let maximumEntriesPerSection = 50
    public static let maximumTextCharacters = 4000
    static let maximumFieldCharacters = 300

    public static func summarise(_ bytes: [UInt8], format: FHIRFormat) -> Result<FHIRSummary, CrossingProblem> {
        guard bytes.count <= FHIRMessageReader.maximumBytes else {
            return .failure(FHIRTree.problem("larger than \(FHIRMessageReader.maximumBytes >> 20) MiB"))
        }
        let bundle: JSONValue
        switch FHIRTree.parse(bytes, format: format, maximumDepth: FHIRMessageReader.maximumDepth) {
        case .success(let tree): bundle = tree
        case .failure(let problem): return .failure(problem)
        }
        guard bundle.text("resourceType") == "Bundle" else { return .failure(FHIRTree.problem("the payload is not a FHIR Bundle")) }
        var summary = FHIRSummary()
        var documentEntries = bundle.all("entry")
        if bundle.text("type") == "message",
            let header = documentEntries.compactMap({ $0["resource"] }).first(where: { $0.text("resourceType") == "MessageHeader" })
        {
            let event = header["eventCoding"] ?? header["event"]
            summary.event = [event?.text("display"), event?.text("code").map { "(\($0))" }].compactMap { $0 }.joined(separator: " ")
            if summary.event?.isEmpty == true { summary.event = nil }
            if let focus = header.all("focus").first?.text("reference"), let document = FHIRMessageReader.resolve(focus, in: documentEntries),
                document.text("resourceType") == "Bundle"
            {
                documentEntries = document.all("entry")
            }
        }
        summary.resources = counts(of: bundle.all("entry"))
        let resources = documentEntries.compactMap { $0["resource"] }
        if let composition = resources.first(where: { $0.text("resourceType") == "Composition" }) {
            summary.title = clip(composition.text("title"))
            summary.documentType = clip(composition["type"].flatMap(concept))
            summary.date = clip(composition.text("date"))
            summary.status = clip(composition.text("status"))
            summary.authors = composition.all("author").prefix(10).compactMap { author in
                clip(author.text("display") ?? author.text("reference").flatMap { FHIRMessageReader.resolve($0, in: documentEntries) }.flatMap(name))
            }
            let subject = composition["subject"]?.text("reference").flatMap { FHIRMessageReader.resolve($0, in: documentEntries) }
            summary.patient = person(subject ?? only("Patient", in: resources))
            let encounter = composition["encounter"]?.text("reference").flatMap { FHIRMessageReader.resolve($0, in: documentEntries) }
            summary.stay = stay(encounter ?? only("Encounter", in: resources))
            summary.sections = sections(of: composition, entries: documentEntries, format: format, truncated: &summary.truncated)
        } else {
            summary.patient = person(only("Patient", in: resources))
            summary.stay = stay(only("Encounter", in: resources))
        }
        return .success(summary)
    }

    /// The one resource of a type, when there is exactly one (several leave the question open).
    static func only(_ type: String, in resources: [JSONValue]) -> JSONValue? {
        let matching = resources.filter { $0.text("resourceType") == type }
        return matching.count == 1 ? matching[0] : nil
    }

    static func counts(of entries: [JSONValue]) -> [FHIRSummary.ResourceCount] {
        var counts: [String: Int] = [:]
        func count(_ entries: [JSONValue], level: Int) {
            for resource in entries.compactMap({ $0["resource"] }) {
                guard let type = resource.text("resourceType") else { continue }
                if type == "Bundle" && level < 3 {
                    count(resource.all("entry"), level: level + 1)
                } else {
                    counts[String(type.prefix(60)), default: 0] += 1
                }
            }
        }
        count(entries, level: 0)
        return counts.map { FHIRSummary.ResourceCount(type: $0.key, count: $0.value) }
            .sorted { $0.count != $1.count ? $0.count > $1.count : $0.type < $1.type }.prefix(30).map { $0 }
    }

    static func person(_ patient: JSONValue?) -> FHIRSummary.Person? {
        guard let patient, patient.text("resourceType") == "Patient" else { return nil }
        let number = patient.all("identifier").first { $0.text("system") == FHIRMessageReader.nhsNumberSystem }?.text("value")
        let found = FHIRSummary.Person(name: clip(name(patient)), nhsNumber: clip(number), birthDate: clip(patient.text("birthDate")))
        return found == FHIRSummary.Person() ? nil : found
    }

    /// A person's name as written: its `text`, else given names then family name.
    static func name(_ resource: JSONValue) -> String? {
        guard let name = resource.all("name").first else { return nil }
        if let text = name.text("text") { return text }
        let parts = name.all("given").compactMap(\.text) + [name.text("family")].compactMap { $0 }
        return parts.isEmpty ? nil : parts.joined(separator: " ")
    }

    static func stay(_ encounter: JSONValue?) -> FHIRSummary.Stay? {
        guard let encounter, encounter.text("resourceType") == "Encounter" else { return nil }
        let kind = encounter["class"].flatMap { $0.text("display") ?? $0.text("code") }
        let found = FHIRSummary.Stay(
            start: clip(encounter["period"]?.text("start")), end: clip(encounter["period"]?.text("end")), kind: clip(kind),
            dischargedTo: clip(encounter["hospitalization"]?["dischargeDisposition"].flatMap(concept)))
        return found == FHIRSummary.Stay() ? nil : found
    }

    static func sections(of composition: JSONValue, entries: [JSONValue], format: FHIRFormat, truncated: inout Bool) -> [FHIRSummary.Section] {
        var out: [FHIRSummary.Section] = []
        func walk(_ section: JSONValue, path: [String], level: Int) {
            guard out.count < maximumSections else {
                truncated = true
                return
            }
            let title = clip(section.text("title") ?? section["code"].flatMap(concept)) ?? "Untitled section"
            var text: String?
            if case .string(let div)? = section["text"]?["div"] {
                // XML narrative arrives as text already (the tree builder keeps only its characters).
                let plain = Narrative.tidy(format == .json ? Narrative.characters(ofXHTML: div) : div)
                if plain.count > maximumTextCharacters { truncated = true }
                text = plain.isEmpty ? nil : String(plain.prefix(maximumTextCharacters))
            }
            let references = section.all("entry")
            if references.count > maximumEntriesPerSection { truncated = true }
            let labels = references.prefix(maximumEntriesPerSection).map { reference in
                reference.text("reference").flatMap { FHIRMessageReader.resolve($0, in: entries) }.map(label)
                    ?? clip(reference.text("display")) ?? "An entry not included in the message"
            }
            out.append(FHIRSummary.Section(title: (path + [title]).joined(separator: " › "), text: text, entries: labels))
            guard level < 4 else { return }
            for child in section.all("section") { walk(child, path: path + [title], level: level + 1) }
        }
        for section in composition.all("section") { walk(section, path: [], level: 0) }
        return out
    }

    /// An entry named by what it is and, for the kinds a care plan turns on, what it says:
    /// "Allergy intolerance: Penicillin", "Medication statement: Sertraline 50mg tablets".
    static func label(_ resource: JSONValue) -> String {
        let type = resource.text("resourceType") ?? "Resource"
        let words = Narrative.words(ofTypeName: type)
        let detail: String? =
            switch type {
            case "MedicationStatement", "MedicationRequest", "MedicationAdministration":
                resource["medicationCodeableConcept"].flatMap(concept) ?? resource["medicationReference"]?.text("display")
            case "Observation":
                [resource["code"].flatMap(concept), observationValue(resource)].compactMap { $0 }.joined(separator: ": ")
            case "CarePlan": resource.text("title") ?? resource.text("description")
            case "Goal": resource["description"].flatMap(concept)
            case "ReferralRequest", "ServiceRequest": resource["code"].flatMap(concept) ?? resource.all("type").first.flatMap(concept)
            case "Practitioner", "RelatedPerson", "Patient": name(resource)
            case "Organization", "Location", "HealthcareService": resource.text("name")
            default: resource["code"].flatMap(concept)
            }
        guard let detail = clip(detail), !detail.isEmpty else { return words }
        return words + ": " + detail
    }

    static func observationValue(_ resource: JSONValue) -> String? {
        if let quantity = resource["valueQuantity"], let value = quantity.text("value") {
            return [value, quantity.text("unit")].compactMap { $0 }.joined(separator: " ")
        }
        return resource.text("valueString") ?? resource["valueCodeableConcept"].flatMap(concept)
    }

    /// A CodeableConcept in words: its text, else its first coding's display, else that code.
    static func concept(_ value: JSONValue) -> String? {
        value.text("text") ?? value.all("coding").first.flatMap { $0.text("display") ?? $0.text("code") }
    }

    /// One line, whitespace collapsed, at most `maximumFieldCharacters`.
    static func clip(_ text: String?) -> String? {
        guard let text else { return nil }
        let line = text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        return line.isEmpty ? nil : String(line.prefix(maximumFieldCharacters))
    }
}
