/// A short, readable reason a directory document (file or request body) could not be decoded, with
/// the path of the offending field. Used by the directory loader and the admin API alike.
public func describeDecodingError(_ error: any Error) -> String {
    func at(_ c: DecodingError.Context) -> String {
        c.codingPath.isEmpty ? "" : " at " + c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    switch error {
    case DecodingError.keyNotFound(let key, let c): return "missing '\(key.stringValue)'" + at(c)
    case DecodingError.typeMismatch(_, let c): return "wrong type" + at(c)
    case DecodingError.valueNotFound(_, let c): return "missing value" + at(c)
    case DecodingError.dataCorrupted(let c):
        // A YAML or JSON syntax error: its own description says where (line and column).
        let detail = c.underlyingError.map { ": " + String(String(describing: $0).prefix(240)) } ?? ""
        return "not valid JSON or YAML" + at(c) + detail
    // YAML syntax errors carry the line and column, which is what an admin needs.
    default: return String(String(describing: error).prefix(200))
    }
}
