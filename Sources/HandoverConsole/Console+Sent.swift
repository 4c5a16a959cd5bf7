import HandoverCore
import HandoverStore
import Hummingbird

/// What a practitioner's mailboxes sent: where each message is (status, responsibility, outcome,
/// the time left before an unread one expires), and the sender's own calls on it: **Withdraw** with
/// a reason, or **Amend** with replacement text (a linked message to the same recipient). Both go
/// through the same desk as the MESH API's `withdraw` and `amend`.
extension Console {
    func registerSent(on group: RouterGroup<ConsoleRequestContext>) {
        group.get("sent") { _, context in try await sentPage(context) }
        group.get("sent/:message") { request, context in try await sentMessage(request, context) }
        group.post("sent/:message/withdraw") { request, context in try await withdrawSent(request, context) }
        group.post("sent/:message/amend") { request, context in try await amendSent(request, context) }
    }

    func sentPage(_ context: ConsoleRequestContext) async throws -> Response {
        let (session, access) = try self.access(context, for: .mailbox)
        let now = clock()
        var sent: [MessageRecord] = []
        for mailbox in access.user.mailboxes {
            sent += try await store.searchMessages(MessageQuery(mailbox: mailbox, limit: 500)).filter { $0.sender == mailbox && $0.type == .data }
        }
        sent.sort { $0.createdAt > $1.createdAt }
        let rows: [[String: Any]] = sent.map { m in
            [
                "id": m.id.rawValue, "workflow": m.workflowID, "to": organisationName(m.recipient, access), "mailbox": m.recipient.rawValue,
                "age": ConsoleAge.words(from: m.createdAt, to: now), "status": m.status.rawValue, "responsibility": responsibilityWords(m),
                "outcome": m.responsibility?.outcomeCode ?? "none yet", "expiry": expiryWords(m, now: now),
            ]
        }
        return pages.page("sent", title: "Sent", ["messages": rows, "none": rows.isEmpty], section: .mailbox, access: access, session: session)
    }

    /// The message, if one of this practitioner's mailboxes sent it; otherwise not found, audited.
    func sentRecord(_ context: ConsoleRequestContext) async throws -> (ConsoleSession, ConsoleAccess, MessageRecord) {
        let (session, access) = try self.access(context, for: .mailbox)
        let id = String((context.parameters.get("message") ?? "").prefix(100))
        guard let message = try await store.message(MessageID(id)), message.type == .data, let sender = message.sender,
            access.user.mailboxes.contains(sender)
        else {
            try await audit(access.user, "console.message_refused", subject: "message \(id)")
            throw ConsoleRefusal.notFound
        }
        return (session, access, message)
    }

    func sentMessage(
        _ request: Request, _ context: ConsoleRequestContext, error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let (session, access, message) = try await sentRecord(context)
        let now = clock()
        let record = message.responsibility
        let values: [String: Any] = [
            "id": message.id.rawValue, "workflow": message.workflowID, "to": organisationName(message.recipient, access),
            "mailbox": message.recipient.rawValue, "sent": message.createdAt.isoUTC, "age": ConsoleAge.words(from: message.createdAt, to: now),
            "status": message.status.rawValue, "state": responsibilityWords(message), "decidedBy": record?.decidedBy?.name as Any,
            "declineReason": record?.declineReason as Any, "note": record?.note as Any, "outcome": record?.outcomeCode as Any,
            "outcomeDetail": record?.outcomeDetail as Any, "expiry": expiryWords(message, now: now),
            "redirects": (record?.redirects ?? []).map { hop in ["from": hop.from, "to": hop.to, "at": hop.at.isoUTC, "note": hop.note] },
            "hasRedirects": !(record?.redirects ?? []).isEmpty, "open": !(record?.state.closedBySender ?? false),
            "closedReason": record?.closedReason as Any, "replacedBy": record?.replacedBy as Any, "error": error as Any,
            "maxKiB": Self.maximumAmendmentTextBytes / 1024,
        ]
        return pages.page(
            "sent-message", title: "Sent message \(message.id.rawValue)", values, section: .mailbox, access: access, session: session,
            status: status)
    }

    func withdrawSent(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, access, message) = try await sentRecord(context)
        let form = try await ConsoleForm.read(request, expectedToken: session.csrfToken)
        do {
            _ = try await ResponsibilityDesk(store: store).withdraw(
                messageID: message.id, sender: try senderMailbox(message), by: practitioner(access), reason: form.text("reason"),
                index: access.directory, now: clock())
        } catch let refusal as ResponsibilityMachine.Refusal {
            return try await sentMessage(request, context, error: Self.sentence(refusal.message), status: .conflict)
        }
        try await audit(access.user, "message.withdrawn", subject: "message \(message.id.rawValue)")
        return .redirect(to: "/console/sent/\(message.id.rawValue)", type: .normal)
    }

    /// Corrected text typed into a page; larger replacements (files) go through the MESH `amend` call.
    static let maximumAmendmentTextBytes = 512 * 1024

    func amendSent(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, access, message) = try await sentRecord(context)
        // Form encoding can triple the text's size on the wire.
        let form = try await ConsoleForm.read(request, expectedToken: session.csrfToken, maximumBytes: 3 * Self.maximumAmendmentTextBytes + 4096)
        guard let text = form.text("text"), !text.isEmpty, text.utf8.count <= Self.maximumAmendmentTextBytes else {
            return try await sentMessage(
                request, context, error: "Write the corrected message, at most \(Self.maximumAmendmentTextBytes / 1024) KiB.", status: .badRequest)
        }
        let replacement = ResponsibilityDesk.Replacement(body: Array(text.utf8), contentType: "text/plain; charset=utf-8")
        let newID: MessageID
        do {
            (_, newID) = try await ResponsibilityDesk(store: store).amend(
                messageID: message.id, sender: try senderMailbox(message), with: replacement, by: practitioner(access),
                reason: form.text("reason"), now: clock())
        } catch let refusal as ResponsibilityMachine.Refusal {
            return try await sentMessage(request, context, error: Self.sentence(refusal.message), status: .conflict)
        }
        try await audit(access.user, "message.amended", subject: "message \(message.id.rawValue)")
        return .redirect(to: "/console/sent/\(newID.rawValue)", type: .normal)
    }

    private func senderMailbox(_ message: MessageRecord) throws -> MailboxID {
        guard let sender = message.sender else { throw ConsoleRefusal.notFound }
        return sender
    }

    /// The time left before an unread message expires, in words.
    func expiryWords(_ message: MessageRecord, now: Timestamp) -> String {
        if message.downloadedAt != nil || message.acknowledgedAt != nil { return "read, so it does not expire" }
        guard let expires = message.expiresAt else { return "does not expire" }
        return expires >= now ? "expires in " + ConsoleAge.words(from: now, to: expires) : "expired"
    }
}
