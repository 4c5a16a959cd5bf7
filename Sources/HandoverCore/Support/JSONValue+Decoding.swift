import Foundation

/// Reading JSON back into a `JSONValue`, for stored JSON text (timeline and audit details) that a
/// response shows as an object rather than as a string inside a string. Object keys come back sorted,
/// so the same stored text always reads the same way. Numbers are whole (Handover writes no others);
/// a fraction reads as its text.
extension JSONValue: Decodable {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .string(String(d))
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode([String: JSONValue].self).sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        }
    }
}

extension JSONValue {
    /// Stored JSON text as a value; text that is not JSON stays a string, so nothing is lost.
    public static func stored(_ text: String) -> JSONValue {
        (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .string(text)
    }
}
