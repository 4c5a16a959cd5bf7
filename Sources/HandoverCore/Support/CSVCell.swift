/// A CSV cell (RFC 4180), quoted when it holds a comma, quote or line break. A cell starting with
/// `=`, `+`, `-` or `@` is prefixed with `'`, so a spreadsheet shows it rather than running it as a
/// formula (directory names are admin-edited text).
public func csvCell(_ text: String) -> String {
    var cell = text
    if let first = cell.first, "=+-@".contains(first) { cell = "'" + cell }
    guard cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return cell }
    return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
