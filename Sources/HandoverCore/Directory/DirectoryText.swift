/// Limits on directory text checked before any parser sees it. YAML and JSON parsers build nested
/// values recursively, so a body of ten thousand `[` (or `- - - …`) could exhaust the stack; a real
/// directory nests five levels deep.
public enum DirectoryText {
    public static let maximumNesting = 32

    /// Throws a problem naming the line when brackets or block-sequence dashes nest too deeply, or
    /// a line is indented further than any real directory needs.
    public static func checkNesting(_ text: String) throws {
        var depth = 0
        var line = 1
        var atLineStart = true
        var dashes = 0
        var indent = 0
        var inQuote: UInt8? = nil
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\n") {
                // Quotes end at a line break here (a multi-line quoted string only counts more brackets),
                // so a stray apostrophe in a plain scalar cannot hide the brackets after it.
                (line, atLineStart, dashes, indent, inQuote) = (line + 1, true, 0, 0, nil)
                continue
            }
            if let quote = inQuote {
                if byte == quote { inQuote = nil }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                inQuote = byte
                atLineStart = false
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                atLineStart = false
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth = max(0, depth - 1)
                atLineStart = false
            case UInt8(ascii: " ") where atLineStart: indent += 1
            case UInt8(ascii: "-") where atLineStart: dashes += 1
            default: atLineStart = false
            }
            if depth > maximumNesting || dashes > maximumNesting || indent > 4 * maximumNesting {
                throw DirectoryProblem(
                    file: "", entry: "file", field: "line \(line)",
                    message: "nests deeper than \(maximumNesting) levels; a directory needs far fewer")
            }
        }
    }
}
