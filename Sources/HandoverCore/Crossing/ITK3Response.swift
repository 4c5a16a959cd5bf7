/// ITK3 response Bundles (`ITK008M`) for Transfer of Care workflows with `acks: fhir-itk3`: an
/// infrastructure response on delivery when the original asked (`InfAckRequested`), a business
/// response on the receiver's decision when it asked (`BusAckRequested`). In the original's format
/// and FHIR version; `SenderReference` echoed; `MessageHeader.response` names the original
/// `MessageHeader.id`; an OperationOutcome carries the ITK response code. A business response is
/// never `fatal-error`: declining, or not knowing the person, is an answer, not a broken message.
/// Nothing identifies the patient.
public enum ITK3Response {
    public static let eventSystem = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2"
    public static let responseCodeSystem = "https://fhir.nhs.uk/STU3/CodeSystem/ITK-ResponseCodes-1"
    public static let handlingExtension = "https://fhir.nhs.uk/STU3/StructureDefinition/Extension-ITK-MessageHandling-2"

    /// The ITK response codes a receiver chooses from for its business response.
    public static let businessCodes: [String: String] = [
        "30001": "Patient known here", "30002": "Patient not known here", "30003": "Patient no longer at this setting",
        "30004": "Patient known here and recently deceased",
    ]
    public static let infrastructureSuccess = ("20013", "Success")

    public struct Response: Sendable {
        public var code: String
        public var display: String
        public var bundleID: String
        public var headerID: String
        public var outcomeID: String
        public var timestamp: Timestamp
        /// The responding mailbox, as the MESH endpoint of `MessageHeader.source`.
        public var sourceEndpoint: String

        public init(
            code: String, display: String, bundleID: String, headerID: String, outcomeID: String, timestamp: Timestamp, sourceEndpoint: String
        ) {
            (self.code, self.display, self.bundleID, self.headerID, self.outcomeID) = (code, display, bundleID, headerID, outcomeID)
            (self.timestamp, self.sourceEndpoint) = (timestamp, sourceEndpoint)
        }
    }

    /// The response Bundle's bytes and content type, answering `original`.
    public static func bundle(answering original: FHIRMessageFacts, _ r: Response) -> (body: [UInt8], contentType: String) {
        let information = r.code == infrastructureSuccess.0 || r.code == "30001"
        let tree: JSONValue = .object([
            ("resourceType", "Bundle"), ("id", .string(r.bundleID)), ("type", "message"),
            (
                "entry",
                .array([
                    .object([("fullUrl", .string("urn:uuid:" + r.headerID)), ("resource", header(original, r))]),
                    .object([
                        ("fullUrl", .string("urn:uuid:" + r.outcomeID)),
                        (
                            "resource",
                            .object([
                                ("resourceType", "OperationOutcome"), ("id", .string(r.outcomeID)),
                                (
                                    "issue",
                                    .array([
                                        .object([
                                            ("severity", .string(information ? "information" : "warning")), ("code", "informational"),
                                            (
                                                "details",
                                                .object([
                                                    (
                                                        "coding",
                                                        .array([
                                                            .object([
                                                                ("system", .string(responseCodeSystem)), ("code", .string(r.code)),
                                                                ("display", .string(r.display)),
                                                            ])
                                                        ])
                                                    )
                                                ])
                                            ),
                                        ])
                                    ])
                                ),
                            ])
                        ),
                    ]),
                ])
            ),
        ])
        switch original.format {
        case .json: return (Array(tree.serialized.utf8), "application/fhir+json")
        case .xml: return (Array(FHIRXMLWriter.document(tree).utf8), "application/fhir+xml")
        }
    }

    static func header(_ original: FHIRMessageFacts, _ r: Response) -> JSONValue {
        let r4 = original.version == "R4"
        var handling: [JSONValue] = [
            .object([("url", "BusAckRequested"), ("valueBoolean", false)]),
            .object([("url", "InfAckRequested"), ("valueBoolean", false)]),
            .object([
                ("url", "RecipientType"),
                (
                    "valueCoding",
                    .object([
                        ("system", "https://fhir.nhs.uk/STU3/CodeSystem/ITK-RecipientType-1"), ("code", "FI"), ("display", "For Information"),
                    ])
                ),
            ]),
            .object([
                ("url", "MessageDefinition"),
                (
                    "valueReference",
                    .object([
                        ("reference", "https://fhir.nhs.uk/STU3/MessageDefinition/ITK-Response-MessageDefinition-1")
                    ])
                ),
            ]),
        ]
        if let reference = original.senderReference { handling.append(.object([("url", "SenderReference"), ("valueString", .string(reference))])) }
        handling.append(.object([("url", "LocalExtension"), ("valueString", "None")]))
        let event: JSONValue = .object([("system", .string(eventSystem)), ("code", "ITK008M"), ("display", "ITK Response")])
        let focus: JSONValue = .object([("reference", .string("urn:uuid:" + r.outcomeID))])
        return .object([
            ("resourceType", "MessageHeader"), ("id", .string(r.headerID)),
            ("extension", .array([.object([("url", .string(handlingExtension)), ("extension", .array(handling))])])),
            (r4 ? "eventCoding" : "event", event),
            ("timestamp", .string(r.timestamp.isoUTC)),
            ("source", .object([("endpoint", .string(r.sourceEndpoint))])),
            ("response", .object([("identifier", .string(original.messageID ?? "UNREADABLE-IN-ORIGINAL-MESSAGE")), ("code", "ok")])),
            ("focus", r4 ? .array([focus]) : focus),
        ])
    }
}

/// Writes the JSON form of a FHIR resource as FHIR XML: primitives become `value` attributes, `url`
/// becomes an attribute, arrays repeat their element, and a resource inside `resource` becomes an
/// element named by its `resourceType`. Enough for the resources Handover writes itself.
enum FHIRXMLWriter {
    static func document(_ resource: JSONValue) -> String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        writeResource(resource, namespace: true, into: &out)
        return out
    }

    static func writeResource(_ resource: JSONValue, namespace: Bool, into out: inout String) {
        guard case .object(let pairs) = resource, let type = resource.text("resourceType") else { return }
        out += "<" + type + (namespace ? " xmlns=\"http://hl7.org/fhir\"" : "") + ">"
        for (key, value) in pairs where key != "resourceType" { write(key, value, into: &out) }
        out += "</" + type + ">"
    }

    static func write(_ name: String, _ value: JSONValue, into out: inout String) {
        switch value {
        case .array(let items): for item in items { write(name, item, into: &out) }
        case .object(let pairs):
            if name == "resource" {
                out += "<resource>"
                writeResource(value, namespace: false, into: &out)
                out += "</resource>"
                return
            }
            let url = pairs.first { $0.0 == "url" }?.1.text
            out += "<" + name + (url.map { " url=\"" + escaped($0) + "\"" } ?? "") + ">"
            for (key, inner) in pairs where key != "url" { write(key, inner, into: &out) }
            out += "</" + name + ">"
        default:
            out += "<" + name + " value=\"" + escaped(value.text ?? "") + "\"/>"
        }
    }

    static func escaped(_ text: String) -> String {
        var out = ""
        for c in text {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(c)
            }
        }
        return out
    }
}

extension ITK3Response {
    /// The response as a DATA message from the original's recipient back to its sender on
    /// `<WORKFLOW>_ACK`, linked to the original; nil when there is no sender or no FHIR facts.
    public static func message(
        answering original: MessageRecord, _ response: Response, id: MessageID, directoryVersion: Int64
    )
        -> (MessageRecord, [UInt8])?
    {
        guard let sender = original.sender, let facts = original.crossing?.derived?.fhir else { return nil }
        let (body, contentType) = bundle(answering: facts, response)
        let ack = MessageRecord(
            id: id, sender: original.recipient, recipient: sender, workflowID: original.workflowID + "_ACK",
            subject: "ITK response \(response.code): \(original.subject ?? original.workflowID)", localID: original.localID,
            contentType: contentType, totalChunks: 1, status: .uploading, linkedMessageID: original.id, createdAt: response.timestamp,
            route: RouteTaken(addressedBy: .system, address: sender.rawValue, directoryVersion: directoryVersion))
        return (ack, body)
    }
}
