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
        // Each header looked up once and checked as bytes: the lookups, Character counts and
        // lowercased copies were 1.6 % of a send's CPU in a profile.
        let to = header("mex-to"), workflow = header("mex-workflowid"), chunkRange = header("mex-chunk-range")
        let subject = header("mex-subject"), localID = header("mex-localid"), partnerID = header("mex-partnerid")
        let fileName = header("mex-filename"), encrypted = header("mex-content-encrypted")
        let compressed = header("mex-content-compressed"), checksum = header("mex-content-checksum")
        let meshContentType = header("mex-content-type")
        let limits: [(String, String?, Int)] = [
            ("mex-to", to, 100), ("mex-workflowid", workflow, 300), ("mex-chunk-range", chunkRange, 20), ("mex-subject", subject, 500),
            ("mex-localid", localID, 300), ("mex-partnerid", partnerID, 500), ("mex-filename", fileName, 300),
            ("mex-content-encrypted", encrypted, 20), ("mex-content-compressed", compressed, 20),
            ("mex-content-checksum", checksum, 100), ("mex-content-type", meshContentType, 100),
        ]
        for (name, value, limit) in limits {
            guard let value else { continue }
            if hasControlCharacter(value) { return .failure(.malformedControlFile) }
            // A Character is at least one byte, so only a value longer in bytes can be too long.
            if value.utf8.count > limit, value.count > limit { return .failure(.badRequest("Header \(name) is longer than \(limit) characters")) }
        }
        for value in [to, workflow, checksum] {
            if let value, value.hasASCIIPrefixIgnoringCase("http://") || value.hasASCIIPrefixIgnoringCase("https://") {
                return .failure(.malformedControlFile)
            }
        }
        guard let toRaw = to else { return .failure(.missingHeader("mex-to")) }
        guard let workflowRaw = workflow else { return .failure(.missingHeader("mex-workflowid")) }
        let recipient = toRaw.trimmingWhitespace().uppercased()
        guard !recipient.isEmpty else { return .failure(.toMissing) }
        let workflowID = workflowRaw.trimmingWhitespace()
        guard !workflowID.isEmpty else { return .failure(.missingHeader("mex-workflowid")) }
        if let checksum, !checksum.utf8.allSatisfy(isChecksumByte) { return .failure(.invalidChecksum) }
        let range: ChunkRange
        if let chunkRange {
            guard let parsed = ChunkRange.parse(chunkRange), parsed.number == 1 else { return .failure(.invalidChunks) }
            range = parsed
        } else {
            range = ChunkRange(number: 1, total: 1)!
        }
        guard let encoding = ContentEncoding(header: header("content-encoding")) else { return .failure(.unsupportedEncoding) }
        return .success(
            SendHeaders(
                to: recipient, workflowID: WorkflowID(workflowID), workflowIDAsSent: workflowID, chunkRange: range,
                subject: nonEmpty(subject), localID: nonEmpty(localID), partnerID: nonEmpty(partnerID), fileName: nonEmpty(fileName),
                contentEncrypted: encrypted.flatMap(parseMeshBoolean), contentCompressed: compressed.flatMap(parseMeshBoolean),
                checksum: nonEmpty(checksum), contentType: nonEmpty(meshContentType) ?? nonEmpty(header("content-type")),
                contentEncoding: encoding))
    }

    /// C0 controls and DEL. In UTF-8 every byte of a longer sequence is 0x80 or above, so reading
    /// bytes finds exactly the control scalars.
    static func hasControlCharacter(_ value: String) -> Bool { value.utf8.contains { $0 < 0x20 || $0 == 0x7F } }

    /// A checksum holds ASCII letters and digits, space and `:-/` (a tab is refused before this, as a
    /// control character).
    static func isChecksumByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: "-"), UInt8(ascii: "/"): true
        default: false
        }
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
