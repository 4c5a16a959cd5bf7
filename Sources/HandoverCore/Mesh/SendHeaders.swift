/// The metadata of a send, parsed and validated from the `mex-*` headers (reference §4.2).
/// Validation order follows the sandbox so clients see the same error for the same mistake.
public struct SendHeaders: Hashable, Sendable {
    public var to: String
    public var workflowID: WorkflowID
    public var workflowIDAsSent: String
    public var chunkRange: ChunkRange
    public var subject: String?
    public var localID: String?
    public var partnerID: String?
    public var fileName: String?
    public var contentEncrypted: Bool?
    public var contentCompressed: Bool?
    public var checksum: String?
    public var contentType: String?
    public var contentEncoding: ContentEncoding

    /// `header` looks a request header up by lowercase name.
    public static func parse(_ header: (String) -> String?) -> Result<SendHeaders, MeshError> {
        let limits: [(String, Int)] = [
            ("mex-to", 100), ("mex-workflowid", 300), ("mex-chunk-range", 20), ("mex-subject", 500),
            ("mex-localid", 300), ("mex-partnerid", 500), ("mex-filename", 300), ("mex-content-encrypted", 20),
            ("mex-content-compressed", 20), ("mex-content-checksum", 100), ("mex-content-type", 100),
        ]
        for (name, limit) in limits {
            guard let value = header(name) else { continue }
            if value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) { return .failure(.malformedControlFile) }
            if value.count > limit { return .failure(.badRequest("Header \(name) is longer than \(limit) characters")) }
        }
        for name in ["mex-to", "mex-workflowid", "mex-content-checksum"] {
            if let v = header(name)?.lowercased(), v.hasPrefix("http://") || v.hasPrefix("https://") { return .failure(.malformedControlFile) }
        }
        guard let toRaw = header("mex-to") else { return .failure(.missingHeader("mex-to")) }
        guard let workflowRaw = header("mex-workflowid") else { return .failure(.missingHeader("mex-workflowid")) }
        let to = toRaw.trimmingWhitespace().uppercased()
        guard !to.isEmpty else { return .failure(.toMissing) }
        let workflow = workflowRaw.trimmingWhitespace()
        guard !workflow.isEmpty else { return .failure(.missingHeader("mex-workflowid")) }
        if let checksum = header("mex-content-checksum"),
            !checksum.unicodeScalars.allSatisfy({
                ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || " \t:-/".unicodeScalars.contains($0)
            })
        {
            return .failure(.invalidChecksum)
        }
        let range: ChunkRange
        if let rangeText = header("mex-chunk-range") {
            guard let parsed = ChunkRange.parse(rangeText), parsed.number == 1 else { return .failure(.invalidChunks) }
            range = parsed
        } else {
            range = ChunkRange(number: 1, total: 1)!
        }
        guard let encoding = ContentEncoding(header: header("content-encoding")) else { return .failure(.unsupportedEncoding) }
        let contentType = nonEmpty(header("mex-content-type")) ?? nonEmpty(header("content-type"))
        return .success(
            SendHeaders(
                to: to, workflowID: WorkflowID(workflow), workflowIDAsSent: workflow, chunkRange: range,
                subject: nonEmpty(header("mex-subject")), localID: nonEmpty(header("mex-localid")),
                partnerID: nonEmpty(header("mex-partnerid")), fileName: nonEmpty(header("mex-filename")),
                contentEncrypted: header("mex-content-encrypted").flatMap(parseMeshBoolean),
                contentCompressed: header("mex-content-compressed").flatMap(parseMeshBoolean),
                checksum: nonEmpty(header("mex-content-checksum")), contentType: contentType, contentEncoding: encoding))
    }
}

/// Transport encoding of a stored chunk: only gzip or none is allowed (422 otherwise).
public enum ContentEncoding: String, Hashable, Sendable, Codable {
    case identity = ""
    case gzip

    public init?(header: String?) {
        switch header?.trimmingWhitespace().lowercased() {
        case nil, "", "identity": self = .identity
        case "gzip": self = .gzip
        default: return nil
        }
    }
}

/// MESH booleans are lenient: `y/yes/t/true/on/1` and `n/no/f/false/off/0`.
public func parseMeshBoolean(_ text: String) -> Bool? {
    switch text.trimmingWhitespace().lowercased() {
    case "y", "yes", "t", "true", "on", "1": true
    case "n", "no", "f", "false", "off", "0": false
    default: nil
    }
}

func nonEmpty(_ s: String?) -> String? {
    guard let s, !s.isEmpty else { return nil }
    return s
}
