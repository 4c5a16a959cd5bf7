/// The API version a request asked for through `Accept` (reference §2).
public enum MeshAPIVersion: Int, Sendable, Comparable {
    case v1 = 1
    case v2 = 2

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }

    /// v1 when there is no `vnd.mesh` media type; v2 (or later, treated as v2) for
    /// `application/vnd.mesh.vN+json`; nil (400) for a malformed `vnd.mesh` type. Unlike the sandbox we
    /// also accept comma-separated lists (§14 item 11) by looking at each media range.
    public static func negotiate(accept: String?) -> MeshAPIVersion? {
        // What mesh-client and most integrations send, decided without lowercasing or splitting.
        if accept == "application/vnd.mesh.v2+json" { return .v2 }
        guard let accept, accept.lowercased().contains("vnd.mesh") else { return .v1 }
        for range in accept.split(separator: ",") {
            let mediaType = range.split(separator: ";").first.map { $0.trimmingWhitespace().lowercased() } ?? ""
            guard mediaType.contains("vnd.mesh") else { continue }
            let prefix = "application/vnd.mesh.v", suffix = "+json"
            guard mediaType.hasPrefix(prefix), mediaType.hasSuffix(suffix) else { return nil }
            let digits = mediaType.dropFirst(prefix.count).dropLast(suffix.count)
            guard !digits.isEmpty, digits.count <= 3, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(digits) else { return nil }
            return n >= 2 ? .v2 : .v1
        }
        return .v1
    }
}
