import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// A FHIR resource read from XML or JSON into one shape, so one reader serves both formats. XML
/// elements become object keys (repeats become arrays), `value` attributes become strings, and
/// `<resource><Composition>…</Composition></resource>` becomes `{"resourceType": "Composition", …}`,
/// as in FHIR's JSON. Nothing is validated beyond what the reader needs.
enum FHIRTree {
    /// Reads `bytes` as XML or JSON within the limits; a DTD or entity declaration is refused before
    /// any parser sees it, so no entity is ever expanded or fetched.
    static func parse(_ bytes: [UInt8], format: FHIRFormat, maximumDepth: Int) -> Result<JSONValue, CrossingProblem> {
        switch format {
        case .json: parseJSON(bytes, maximumDepth: maximumDepth)
        case .xml: parseXML(bytes, maximumDepth: maximumDepth)
        }
    }

    static func parseJSON(_ bytes: [UInt8], maximumDepth: Int) -> Result<JSONValue, CrossingProblem> {
        guard let tree = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes)) else {
            return .failure(problem("the JSON is not complete or not valid"))
        }
        guard depth(of: tree, limit: maximumDepth) <= maximumDepth else { return .failure(problem("nested more than \(maximumDepth) levels deep")) }
        return .success(tree)
    }

    static func depth(of value: JSONValue, limit: Int, at level: Int = 1) -> Int {
        guard level <= limit else { return level }
        switch value {
        case .object(let pairs): return pairs.map { depth(of: $0.1, limit: limit, at: level + 1) }.max() ?? level
        case .array(let items): return items.map { depth(of: $0, limit: limit, at: level + 1) }.max() ?? level
        default: return level
        }
    }

    static func parseXML(_ bytes: [UInt8], maximumDepth: Int) -> Result<JSONValue, CrossingProblem> {
        if contains(bytes, "<!doctype") || contains(bytes, "<!entity") {
            return .failure(problem("XML with a DTD or entity declaration is not accepted"))
        }
        #if canImport(FoundationXML) || canImport(Darwin)
        let parser = XMLParser(data: Data(bytes))
        parser.shouldResolveExternalEntities = false
        parser.shouldProcessNamespaces = false
        let builder = XMLTreeBuilder(maximumDepth: maximumDepth)
        parser.delegate = builder
        let parsed = parser.parse()
        if builder.tooDeep { return .failure(problem("nested more than \(maximumDepth) levels deep")) }
        guard parsed, let root = builder.root else { return .failure(problem("the XML is not complete or not well formed")) }
        return .success(root)
        #else
        return .failure(problem("XML is not supported on this platform"))
        #endif
    }

    static func problem(_ reason: String) -> CrossingProblem { CrossingProblem(kind: .fhir, field: "", reason: reason) }

    /// Case-insensitive search for an ASCII needle.
    static func contains(_ bytes: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard bytes.count >= n.count else { return false }
        var i = 0
        while i <= bytes.count - n.count {
            if bytes[i] == n[0] {
                var j = 1
                while j < n.count && (bytes[i + j] | 0x20) == n[j] { j += 1 }
                if j == n.count { return true }
            }
            i += 1
        }
        return false
    }
}

final class XMLTreeBuilder: NSObject, XMLParserDelegate {
    private struct Open {
        var name: String
        var attributes: [String: String]
        var children: [(String, JSONValue)] = []
    }
    private var stack: [Open] = []
    private let maximumDepth: Int
    private(set) var root: JSONValue?
    private(set) var tooDeep = false
    /// Inside a narrative (`<text><div xmlns="…xhtml">`): how deep, and its characters so far. The
    /// XHTML is kept as text only (block elements as line breaks, scripts and styles left out), so
    /// the narrative becomes one string value, `div`, as FHIR's JSON has it, but without markup.
    private var narrativeDepth = 0
    private var narrative = ""
    private var hiddenDepth = 0
    static let maximumNarrativeUTF8 = 256 * 1024

    init(maximumDepth: Int) { self.maximumDepth = maximumDepth }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        guard stack.count + narrativeDepth < maximumDepth else {
            tooDeep = true
            parser.abortParsing()
            return
        }
        if narrativeDepth > 0 {
            narrativeDepth += 1
            let name = elementName.lowercased()
            if hiddenDepth == 0 && Narrative.hiddenTags.contains(name) { hiddenDepth = narrativeDepth }
            if Narrative.blockTags.contains(name) { narrative += "\n" }
            return
        }
        if elementName == "div", stack.last?.name == "text" {
            (narrativeDepth, narrative, hiddenDepth) = (1, "", 0)
            return
        }
        stack.append(Open(name: elementName, attributes: attributes))
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        guard narrativeDepth > 0, hiddenDepth == 0, narrative.utf8.count < Self.maximumNarrativeUTF8 else { return }
        narrative += string
    }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        if narrativeDepth > 0 {
            if hiddenDepth == narrativeDepth { hiddenDepth = 0 }
            if Narrative.blockTags.contains(elementName.lowercased()) { narrative += "\n" }
            narrativeDepth -= 1
            if narrativeDepth == 0, !stack.isEmpty { stack[stack.count - 1].children.append(("div", .string(narrative))) }
            return
        }
        guard let open = stack.popLast() else { return }
        let value = Self.value(of: open)
        if stack.isEmpty {
            root = .object([("resourceType", .string(open.name))] + Self.merged(open.children) + Self.attributePairs(open))
        } else {
            stack[stack.count - 1].children.append((open.name, value))
        }
    }

    private static func attributePairs(_ open: Open) -> [(String, JSONValue)] {
        open.attributes.filter { $0.key == "url" || $0.key == "id" }.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }
    }

    private static func value(of open: Open) -> JSONValue {
        if open.children.isEmpty, let v = open.attributes["value"] { return .string(v) }
        // `<resource><Patient>…</Patient></resource>`: the one child names the resource type.
        if open.name == "resource" || open.name == "contained", open.children.count == 1,
            let first = open.children[0].0.unicodeScalars.first, ("A"..."Z").contains(first), case .object(let inner) = open.children[0].1
        {
            return .object([("resourceType", .string(open.children[0].0))] + inner)
        }
        var pairs = attributePairs(open) + merged(open.children)
        if let v = open.attributes["value"] { pairs.append(("value", .string(v))) }
        return .object(pairs)
    }

    /// Repeated child elements become one array, as FHIR JSON writes them.
    private static func merged(_ children: [(String, JSONValue)]) -> [(String, JSONValue)] {
        var order: [String] = []
        var grouped: [String: [JSONValue]] = [:]
        for (name, value) in children {
            if grouped[name] == nil { order.append(name) }
            grouped[name, default: []].append(value)
        }
        return order.map { name in
            let values = grouped[name] ?? []
            return (name, values.count == 1 ? values[0] : .array(values))
        }
    }
}

/// Reading helpers that treat "one value" and "a list of values" alike (XML does not say which).
extension JSONValue {
    subscript(key: String) -> JSONValue? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    func all(_ key: String) -> [JSONValue] {
        switch self[key] {
        case .array(let items)?: items
        case let value?: [value]
        case nil: []
        }
    }

    /// A primitive's text: `"x"` in JSON, `value="x"` in XML (also on an element that has extensions).
    var text: String? {
        switch self {
        case .string(let s): s
        case .bool(let b): b ? "true" : "false"
        case .int(let i): String(i)
        case .object: self["value"]?.text
        default: nil
        }
    }

    func text(_ key: String) -> String? { self[key]?.text }
}
