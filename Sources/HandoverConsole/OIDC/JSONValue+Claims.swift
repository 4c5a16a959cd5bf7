import Foundation
import HandoverCore

extension JSONValue {
    /// JSON from a provider (discovery, JWKS, tokens, UserInfo).
    static func parse(_ bytes: [UInt8]) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: Data(bytes)) }

    var integer: Int64? { if case .int(let i) = self { i } else { nil } }
    var string: String? { if case .string(let s) = self { s } else { nil } }

    /// A claim that may be one string or a list of them (providers differ), as a list.
    var strings: [String] {
        switch self {
        case .string(let s): s.split(separator: " ").map(String.init)
        case .array(let items): items.compactMap(\.string)
        default: []
        }
    }

    subscript(_ key: String) -> JSONValue? {
        if case .object(let pairs) = self { return pairs.first { $0.0 == key }?.1 }
        return nil
    }
}
