/// The pure parts of an SMTP conversation (RFC 5321): reading replies from bytes as they arrive,
/// and preparing a message for DATA. The network side is `SMTPRelay` in HandoverServer.
public struct SMTPReply: Hashable, Sendable, CustomStringConvertible {
    public var code: Int
    public var lines: [String]
    public init(code: Int, lines: [String]) { (self.code, self.lines) = (code, lines) }

    public var isPositive: Bool { (200..<400).contains(code) }
    /// 5xx: the relay refuses for good (unknown recipient, policy); 4xx may succeed later.
    public var isPermanentFailure: Bool { code >= 500 }
    public var description: String { "\(code) " + (lines.first ?? "") }
    /// EHLO keywords (`STARTTLS`, `AUTH PLAIN LOGIN`), upper-cased, from the lines after the greeting.
    public var extensions: [String] { lines.dropFirst().map { $0.uppercased() } }
}

public struct SMTPReplyParser: Sendable {
    public struct Malformed: Error, CustomStringConvertible {
        public var description: String
    }

    /// A reply line is at most 512 bytes (RFC 5321 4.5.3.1.5); a little slack for relays that ignore
    /// it, and a bound on lines a reply, so a hostile relay cannot make the broker buffer without end.
    static let maxLineBytes = 2048
    static let maxLines = 100

    private var buffer: [UInt8] = []
    private var pending: [String] = []
    private var pendingCode: Int?

    public init() {}

    /// Nothing received and not yet read: checked after STARTTLS, where anything a relay (or someone
    /// in the path) sent before the TLS handshake must not be taken as the encrypted session's reply.
    public var isEmpty: Bool { buffer.isEmpty && pending.isEmpty }

    /// Adds bytes; returns the replies completed by them, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [SMTPReply] {
        buffer.append(contentsOf: bytes)
        var replies: [SMTPReply] = []
        while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
            var line = Array(buffer[..<newline])
            buffer.removeSubrange(...newline)
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if let reply = try take(line) { replies.append(reply) }
        }
        if buffer.count > Self.maxLineBytes { throw Malformed(description: "a reply line longer than \(Self.maxLineBytes) bytes") }
        return replies
    }

    mutating func take(_ line: [UInt8]) throws -> SMTPReply? {
        guard line.count >= 3, line.count <= Self.maxLineBytes, let code = Int(String(decoding: line.prefix(3), as: UTF8.self)),
            (200..<600).contains(code)
        else {
            throw Malformed(description: "not an SMTP reply line")
        }
        if let pendingCode, pendingCode != code { throw Malformed(description: "reply lines with different codes") }
        let separator = line.count > 3 ? line[3] : UInt8(ascii: " ")
        pending.append(String(decoding: line.dropFirst(4), as: UTF8.self))
        if pending.count > Self.maxLines { throw Malformed(description: "a reply of more than \(Self.maxLines) lines") }
        if separator == UInt8(ascii: "-") {
            pendingCode = code
            return nil
        }
        defer {
            pending = []
            pendingCode = nil
        }
        return SMTPReply(code: code, lines: pending)
    }
}

public enum SMTPMessage {
    /// The DATA section: CRLF line ends, a leading dot doubled on every line (RFC 5321 4.5.2), and the
    /// terminating `.` line.
    public static func dataSection(_ message: String) -> String {
        let lines = message.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false)
        var out = lines.map { $0.hasPrefix(".") ? "." + $0 : String($0) }.joined(separator: "\r\n")
        if !out.hasSuffix("\r\n") { out += "\r\n" }
        return out + ".\r\n"
    }
}
