/// The v2 inbox `continue_from`: an opaque, stable position in one mailbox's inbox. It encodes the
/// mailbox and the delivery sequence of the last id returned, so it survives restarts, and anything
/// that does not decode to this mailbox is refused with 400 (never a 500).
public struct InboxCursor: Hashable, Sendable {
    public let mailbox: MailboxID
    public let afterSequence: Int64

    public init(mailbox: MailboxID, afterSequence: Int64) {
        self.mailbox = mailbox
        self.afterSequence = afterSequence
    }

    private static let prefix = "handover-inbox-v1:"

    public var encoded: String {
        base64URLEncode(Array((InboxCursor.prefix + mailbox.rawValue + ":" + String(afterSequence)).utf8))
    }

    public static func decode(_ text: String, mailbox: MailboxID) -> InboxCursor? {
        guard text.count <= 1000, let bytes = base64URLDecode(text), let plain = String(validating: bytes, as: UTF8.self),
            plain.hasPrefix(prefix)
        else { return nil }
        let parts = plain.dropFirst(prefix.count).split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, MailboxID(String(parts[0])) == mailbox, parts[0] == mailbox.rawValue,
            let seq = Int64(parts[1]), seq >= 0
        else { return nil }
        return InboxCursor(mailbox: mailbox, afterSequence: seq)
    }
}

private let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

public func base64URLEncode(_ bytes: [UInt8]) -> String {
    var out: [UInt8] = []
    out.reserveCapacity((bytes.count + 2) / 3 * 4)
    var i = 0
    while i < bytes.count {
        let b0 = bytes[i], b1 = i + 1 < bytes.count ? bytes[i + 1] : 0, b2 = i + 2 < bytes.count ? bytes[i + 2] : 0
        out.append(alphabet[Int(b0 >> 2)])
        out.append(alphabet[Int((b0 & 3) << 4 | b1 >> 4)])
        if i + 1 < bytes.count { out.append(alphabet[Int((b1 & 15) << 2 | b2 >> 6)]) }
        if i + 2 < bytes.count { out.append(alphabet[Int(b2 & 63)]) }
        i += 3
    }
    return String(decoding: out, as: UTF8.self)
}

public func base64URLDecode(_ text: String) -> [UInt8]? {
    var values: [UInt8] = []
    for c in text.utf8 {
        guard let v = alphabet.firstIndex(of: c) else { return nil }
        values.append(UInt8(v))
    }
    guard values.count % 4 != 1 else { return nil }
    var out: [UInt8] = []
    var i = 0
    while i < values.count {
        let v0 = values[i], v1 = values[i + 1]
        out.append(v0 << 2 | v1 >> 4)
        if i + 2 < values.count { out.append((v1 & 15) << 4 | values[i + 2] >> 2) }
        if i + 3 < values.count { out.append((values[i + 2] & 3) << 6 | values[i + 3]) }
        i += 4
    }
    return out
}
