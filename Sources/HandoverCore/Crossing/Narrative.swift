/// A FHIR narrative (`text.div`, XHTML) as plain text for a person to read. It is never rendered as
/// HTML: tags are dropped (block tags become line breaks), scripts and styles with their content,
/// and character references decoded, so what is left is escaped like any other text on the page.
enum Narrative {
    static let blockTags: Set<String> = ["p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "td", "th"]
    static let hiddenTags: Set<String> = ["script", "style"]

    /// The characters of an XHTML fragment (a JSON narrative), tags dropped.
    static func characters(ofXHTML xhtml: String) -> String {
        var out = ""
        var rest = Substring(xhtml)
        var hidden: String?
        while let open = rest.firstIndex(of: "<") {
            if hidden == nil { out += decode(rest[..<open]) }
            guard let close = rest[open...].firstIndex(of: ">") else { return out }
            let tag = rest[rest.index(after: open)..<close]
            let closing = tag.hasPrefix("/")
            let name = tag.drop { $0 == "/" }.prefix { $0.isLetter || $0.isNumber }.lowercased()
            if let inside = hidden {
                if closing && name == inside { hidden = nil }
            } else if hiddenTags.contains(name) && !closing && !tag.hasSuffix("/") {
                hidden = name
            } else if blockTags.contains(name) {
                out += "\n"
            }
            rest = rest[rest.index(after: close)...]
        }
        if hidden == nil { out += decode(rest) }
        return out
    }

    /// Lines trimmed and their spaces collapsed, empty lines dropped (a paragraph is a line).
    static func tidy(_ text: String) -> String {
        text.split(separator: "\n").map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }.filter { !$0.isEmpty }
            .joined(separator: "\n")
    }

    /// XHTML's character references: the five named ones, `&nbsp;`, and numeric ones.
    static func decode(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var out = ""
        var rest = text
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            let after = rest[rest.index(after: amp)...]
            guard let semicolon = after.prefix(10).firstIndex(of: ";") else {
                out += "&"
                rest = after
                continue
            }
            let name = after[..<semicolon]
            if let character = character(named: name) {
                out.append(character)
            } else {
                out += "&" + name + ";"
            }
            rest = after[after.index(after: semicolon)...]
        }
        return out + rest
    }

    static func character(named name: Substring) -> Character? {
        switch name {
        case "lt": return "<"
        case "gt": return ">"
        case "amp": return "&"
        case "quot": return "\""
        case "apos": return "'"
        case "nbsp": return " "
        default:
            let number: UInt32? =
                name.hasPrefix("#x") || name.hasPrefix("#X")
                ? UInt32(name.dropFirst(2), radix: 16) : name.hasPrefix("#") ? UInt32(name.dropFirst()) : nil
            // Control characters other than whitespace are dropped rather than shown.
            guard let number, let scalar = Unicode.Scalar(number), number >= 0x20 || number == 0x0A || number == 0x09 else { return nil }
            return Character(scalar)
        }
    }

    /// A resource type in words: `MedicationStatement` → "Medication statement".
    static func words(ofTypeName type: String) -> String {
        var out = ""
        for character in type.prefix(60) {
            if character.isUppercase && !out.isEmpty { out += " " + character.lowercased() } else { out.append(character) }
        }
        return out
    }
}
