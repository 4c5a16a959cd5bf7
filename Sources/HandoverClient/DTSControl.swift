import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// The MESH client's control file (`DTSControl` XML) beside each data file in the agent's folders:
/// where a message goes and, once sent or received, its id and status. Handover's crossing record
/// rides in an optional `HandoverCrossing` element (JSON).
public struct DTSControl: Equatable, Sendable {
    public var messageType = "Data"
    public var workflowID = ""
    public var from = ""
    public var to = ""
    public var subject: String?
    public var localID: String?
    public var messageID: String?
    public var compress = false
    public var allowChunking = true
    public var crossingJSON: String?
    public var status: StatusRecord?

    public struct StatusRecord: Equatable, Sendable {
        public var dateTime: String
        public var event: String
        public var status: String
        public var statusCode: String
        public var description: String
    }

    public init() {}

    static let maximumBytes = 64 * 1024

    /// Reads a control file. DTDs and entities are refused before parsing (no external entity can be
    /// read, nothing can expand); the reason says what is wrong, never a payload.
    public static func parse(_ data: Data) throws -> DTSControl {
        guard data.count <= maximumBytes else { throw ClientError("the control file is larger than 64 KiB") }
        let text = String(decoding: data, as: UTF8.self)
        guard !text.contains("<!DOCTYPE"), !text.contains("<!ENTITY") else { throw ClientError("the control file declares a DTD or entities") }
        let reader = Reader()
        let parser = XMLParser(data: data)
        parser.delegate = reader
        parser.shouldResolveExternalEntities = false
        guard parser.parse(), reader.root == "DTSControl" else {
            throw ClientError(reader.root.map { "the control file's root is \($0), not DTSControl" } ?? "the control file is not XML")
        }
        func value(_ name: String) -> String? {
            reader.fields[name].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        var control = DTSControl()
        guard let to = value("To_DTS") else { throw ClientError("the control file has no To_DTS") }
        guard let workflow = value("WorkflowId") else { throw ClientError("the control file has no WorkflowId") }
        (control.to, control.workflowID) = (to, workflow)
        control.from = value("From_DTS") ?? ""
        control.messageType = value("MessageType") ?? "Data"
        (control.subject, control.localID, control.messageID) = (value("Subject"), value("LocalId"), value("DTSId"))
        control.compress = ["Y", "YES", "TRUE"].contains(value("Compress")?.uppercased() ?? "")
        control.allowChunking = !["N", "NO", "FALSE"].contains(value("AllowChunking")?.uppercased() ?? "")
        control.crossingJSON = value("HandoverCrossing")
        if let event = reader.status["Event"] {
            control.status = StatusRecord(
                dateTime: reader.status["DateTime"] ?? "", event: event, status: reader.status["Status"] ?? "",
                statusCode: reader.status["StatusCode"] ?? "", description: reader.status["Description"] ?? "")
        }
        return control
    }

    /// The control file as the MESH client writes it.
    public var xml: String {
        func element(_ name: String, _ value: String?) -> String { "  <\(name)>\(escape(value ?? ""))</\(name)>\n" }
        var text = "<DTSControl>\n" + element("Version", "1.0") + element("AddressType", "DTS") + element("MessageType", messageType)
        text += element("WorkflowId", workflowID) + element("From_DTS", from) + element("To_DTS", to) + element("Subject", subject)
        text += element("LocalId", localID) + element("DTSId", messageID) + element("Compress", compress ? "Y" : "N")
        text += element("AllowChunking", allowChunking ? "Y" : "N") + element("Encrypted", "N")
        if let crossingJSON { text += element("HandoverCrossing", crossingJSON) }
        if let status {
            text +=
                "  <StatusRecord>\n  " + element("DateTime", status.dateTime) + "  " + element("Event", status.event) + "  "
                + element("Status", status.status) + "  " + element("StatusCode", status.statusCode) + "  "
                + element("Description", status.description) + "  </StatusRecord>\n"
        }
        return text + "</DTSControl>\n"
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    private final class Reader: NSObject, XMLParserDelegate {
        var root: String?
        var fields: [String: String] = [:]
        /// The fields of the StatusRecord element.
        var status: [String: String] = [:]
        private var path: [String] = []
        private var text = ""

        func parser(
            _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]
        ) {
            if root == nil { root = name }
            path.append(name)
            text = ""
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            // Only the root's own children: a StatusRecord's fields do not overwrite the message's.
            let value = String(text.trimmingCharacters(in: .whitespacesAndNewlines).prefix(4096))
            if path.count == 2 && fields[name] == nil { fields[name] = value }
            if path.count == 3 && path[1] == "StatusRecord" { status[name] = value }
            path.removeLast()
            text = ""
        }
    }
}
