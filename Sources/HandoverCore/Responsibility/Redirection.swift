/// One redirect: the receiving mailbox sent the message on to the right service or council.
public struct Redirection: Hashable, Sendable, Codable {
    public var from: String
    public var to: String
    /// The address the person gave (a mailbox, `ORG:`, `AREA:` or `POSTCODE:`), as routed.
    public var address: String
    public var by: Person
    public var note: String
    public var at: Timestamp

    public init(from: MailboxID, to: MailboxID, address: String, by: Person, note: String, at: Timestamp) {
        (self.from, self.to, self.address, self.by, self.note, self.at) = (from.rawValue, to.rawValue, address, by, note, at)
    }

    public var json: JSONValue {
        .compact([
            ("from", .string(from)), ("to", .string(to)), ("address", .string(address)), ("by", personJSON(by)), ("note", .string(note)),
            ("at", .string(at.isoUTC)),
        ])
    }
}

extension ResponsibilityMachine {
    /// A message is redirected at most this many times: a referral passed round in a loop should
    /// reach a person, not a sixth inbox.
    public static let maximumRedirects = 5

    /// The receiver sends a message that reached the wrong team or council on to `route`, before
    /// anyone has accepted or declined it. The clock travels with it (delivery time, deadlines and
    /// alerts stay), as do its crossing record and timeline; the new recipient sees it as unread.
    /// The sender is told through `acknowledgement` (its `_ACK`, on workflows that make one).
    public static func redirect(
        _ message: MessageRecord, to decision: RouteDecision, address: String, by person: Person, note: String?, now: Timestamp,
        acknowledgement: (MessageRecord, ResponsibilityRecord) -> (MessageRecord, [UInt8])?
    ) -> Result<MessageTransition, Refusal> {
        let record = message.responsibility ?? ResponsibilityRecord()
        guard !person.name.trimmingWhitespace().isEmpty else { return .failure(.personRequired) }
        guard let note = note?.trimmingWhitespace(), !note.isEmpty else { return .failure(.noteRequired) }
        guard message.isInItsRecipientsHands else { return .failure(.notDelivered) }
        if record.state.closedBySender { return .failure(.closedBySender(record.state)) }
        guard record.state == .pending else { return .failure(.alreadyDecided(record.state)) }
        guard decision.recipient != message.recipient else {
            return .failure(.redirectRefused("the address leads back to this mailbox; name the service or council it should reach"))
        }
        guard (record.redirects?.count ?? 0) < maximumRedirects else {
            return .failure(.redirectRefused("this message was redirected \(maximumRedirects) times, the most allowed; phone the sender"))
        }
        let hop = Redirection(from: message.recipient, to: decision.recipient, address: address, by: person, note: note, at: now)
        var r = record
        r.redirects = (record.redirects ?? []) + [hop]
        var m = message
        m.responsibility = r
        m.recipient = decision.recipient
        m.route = decision.route
        // Unread for the new recipient; the deadlines still run from the first delivery.
        m.downloadedAt = nil
        m.acknowledgedAt = nil
        m.status = .accepted
        m.statusEvent = .transferred(at: now)
        var effects: [MessageEffect] = []
        if message.status == .accepted { effects.append(.leaveInboxOf(message.recipient)) }
        effects.append(.enterInbox)
        effects.append(.readdressed)
        effects.append(.event("redirected", detail: hop.json.serialized))
        if let (ack, body) = acknowledgement(m, r) {
            effects.append(.deliverMessage(ack, body: body, announcedAs: "business_ack_sent", detail: EventDetails.businessAckSent(ack.id)))
        }
        return .success(MessageTransition(m, effects))
    }
}

extension MessageRecord {
    /// Delivered and not expired: in the recipient's inbox, or read and acknowledged there. Only such
    /// a message can be redirected by its recipient or withdrawn or amended by its sender.
    public var isInItsRecipientsHands: Bool { status == .accepted || status == .acknowledged }
}
