/// The rich inbox and outbox of NHS's sandbox (`GET /messageexchange/{MB}/inbox/rich`, `/outbox/rich`):
/// every message of a mailbox's side in any status since a start time, with its metadata, a page at
/// a time, newest first on both sides, as the sandbox serves them (its own tests say so).
public struct RichListingQuery: Hashable, Sendable {
    public enum Side: String, Hashable, Sendable {
        case inbox, outbox
    }

    public let side: Side
    public let mailbox: MailboxID
    /// Only messages created after this.
    public let since: Timestamp
    /// The last message of the previous page.
    public let after: RichListingPosition?
    public let limit: Int

    public init(side: Side, mailbox: MailboxID, since: Timestamp, after: RichListingPosition?, limit: Int) {
        (self.side, self.mailbox, self.since, self.after, self.limit) = (side, mailbox, since, after, limit)
    }

    /// `max_results` as the sandbox takes it: 1 to 2,000 on the inbox; 10 to 5,000 on the outbox, which
    /// then serves at most 100. Default 100. Nil for a value out of range or not a number.
    public static func limit(_ raw: String?, side: Side) -> Int? {
        guard let raw else { return 100 }
        guard raw.count <= 6, raw.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(raw) else { return nil }
        switch side {
        case .inbox: return (1...2000).contains(n) ? n : nil
        case .outbox: return (10...5000).contains(n) ? min(n, 100) : nil
        }
    }

    /// The sandbox's default start: thirty days before now.
    public static func defaultSince(now: Timestamp) -> Timestamp { now.adding(seconds: -30 * 86_400) }
}

/// Where a page ended: the last message's creation time and id (ids break ties). Sent to the client
/// as an opaque `continue_from` bound to the mailbox and side it was made for.
public struct RichListingPosition: Hashable, Sendable {
    public let createdAt: Timestamp
    public let messageID: MessageID

    public init(createdAt: Timestamp, messageID: MessageID) { (self.createdAt, self.messageID) = (createdAt, messageID) }

    private static let prefix = "handover-rich-v1"

    public func token(side: RichListingQuery.Side, mailbox: MailboxID) -> String {
        let plain = [Self.prefix, side.rawValue, mailbox.rawValue, String(createdAt.microsecondsSinceEpoch), messageID.rawValue]
        return base64URLEncode(Array(plain.joined(separator: ":").utf8))
    }

    /// Nil for anything this broker did not make for this mailbox and side.
    public static func parse(_ token: String, side: RichListingQuery.Side, mailbox: MailboxID) -> RichListingPosition? {
        guard token.count <= 1000, let bytes = base64URLDecode(token), let plain = String(validating: bytes, as: UTF8.self) else { return nil }
        let parts = plain.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, parts[0] == prefix, parts[1] == side.rawValue, parts[2] == mailbox.rawValue,
            parts[3].count <= 19, parts[3].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let micros = Int64(parts[3]),
            !parts[4].isEmpty, parts[4].count <= 100
        else { return nil }
        return RichListingPosition(createdAt: Timestamp(microsecondsSinceEpoch: micros), messageID: MessageID(parts[4]))
    }
}
