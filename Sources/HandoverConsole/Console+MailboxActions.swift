import HandoverCore
import HandoverStore
import Hummingbird

/// A practitioner acting on a message their mailbox received: read it, then accept or decline
/// responsibility (by their own name, never a typed one) and later record what happened. The
/// decisions go through the same desk as the MESH API's, so the sender gets the same `_ACK`.
extension Console {
    func registerMailboxActions(on group: RouterGroup<ConsoleRequestContext>) {
        group.get("mailbox/:message") { request, context in try await mailboxMessage(request, context) }
        group.get("mailbox/:message/payload") { _, context in try await payload(context, section: .mailbox) }
        group.post("mailbox/:message/accept") { request, context in try await decide(request, context, .accept) }
        group.post("mailbox/:message/decline") { request, context in try await decide(request, context, .decline) }
        group.post("mailbox/:message/outcome") { request, context in try await recordOutcome(request, context) }
        group.post("mailbox/:message/redirect") { request, context in try await redirect(request, context) }
    }

    /// The message, if one of this practitioner's mailboxes received it; otherwise not found, audited.
    func receivedMessage(_ context: ConsoleRequestContext) async throws -> (ConsoleSession, ConsoleAccess, MessageRecord) {
        let (session, access) = try self.access(context, for: .mailbox)
        let id = String((context.parameters.get("message") ?? "").prefix(100))
        guard let message = try await store.message(MessageID(id)), message.type == .data, access.user.mailboxes.contains(message.recipient) else {
            try await audit(access.user, "console.message_refused", subject: "message \(id)")
            throw ConsoleRefusal.notFound
        }
        return (session, access, message)
    }

    func mailboxMessage(
        _ request: Request, _ context: ConsoleRequestContext, error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws
        -> Response
    {
        let (session, access, message) = try await receivedMessage(context)
        try await audit(access.user, "console.message_viewed", subject: "message \(message.id.rawValue)")
        let workflow = access.directory.workflows[WorkflowID(message.workflowID)]
        let state = responsibilityWords(message)
        let vocabulary = access.directory.directory.vocabulary
        func options(_ codes: [String]) -> [[String: Any]] { codes.map { ["value": $0] } }
        let record = message.responsibility
        var values: [String: Any] = [
            "id": message.id.rawValue, "workflow": message.workflowID, "from": organisationName(message.sender, access),
            "mailbox": message.recipient.rawValue, "received": message.createdAt.isoUTC,
            "age": ConsoleAge.words(from: message.createdAt, to: clock()),
            "safeguarding": workflow?.safeguarding ?? false, "state": state, "downloaded": message.downloadedAt != nil,
            "hasPayload": message.totalChunks > 0, "size": message.fileSize, "error": error as Any,
            "mayDecide": state == "pending", "mayRecordOutcome": state == "accepted",
            "basisRequired": workflow?.crossing.receiverBasisRequired ?? false,
            "article6": options(vocabulary.article6), "article9": options(vocabulary.article9), "schedule1": options(vocabulary.schedule1),
            "reasons": options(ResponsibilityMachine.declineReasons), "outcomes": options(ResponsibilityMachine.outcomeCodes),
            "decidedBy": record?.decidedBy?.name as Any, "decidedAt": record?.decidedAt?.isoUTC as Any, "outcome": record?.outcomeCode as Any,
            "declineReason": record?.declineReason as Any,
            "redirects": (record?.redirects ?? []).map { hop in
                ["from": hop.from, "to": hop.to, "by": hop.by.name, "at": hop.at.isoUTC, "note": hop.note]
            },
            // The recipient sees the whole record, the subject included (it is theirs to read).
            "record": ConsoleRecordRows.rows(message.crossingJSON(for: .recipient)),
            "hasRedirects": !(record?.redirects ?? []).isEmpty, "closedBySender": record?.state.closedBySender ?? false,
            "closedReason": record?.closedReason as Any,
            "replacedBy": record?.replacedBy as Any,
        ]
        switch try await payloadSummary(of: message) {
        case .none: break
        case .summary(let summary):
            try await audit(access.user, "console.payload_summarised", subject: "message \(message.id.rawValue)")
            values["summary"] = Self.summaryValues(summary)
        case .unreadable(let reason):
            values["summaryProblem"] = "The message looks like a FHIR document but could not be summarised: \(reason). Download it to read it."
        }
        return pages.page(
            "mailbox-message", title: "Message \(message.id.rawValue)", values, section: .mailbox, access: access, session: session, status: status)
    }

    /// The signed-in practitioner, as decisions record them.
    func practitioner(_ access: ConsoleAccess) -> Person { Person(name: access.user.name, role: "practitioner") }

    func decide(_ request: Request, _ context: ConsoleRequestContext, _ decision: ResponsibilityMachine.Decision) async throws -> Response {
        let (session, access, message) = try await receivedMessage(context)
        let form = try await ConsoleForm.read(request, expectedToken: session.csrfToken)
        var basis: LawfulBasis?
        if decision == .accept, let article6 = form.text("article6") {
            basis = LawfulBasis(article6: article6, article9: form.text("article9"), schedule1: form.text("schedule1"))
        }
        if let basis, let problem = ResponsibilityDesk.basisProblem(basis, mailbox: message.recipient, index: access.directory) {
            return try await mailboxMessage(request, context, error: problem.description, status: .badRequest)
        }
        do {
            _ = try await ResponsibilityDesk(store: store).decide(
                .init(decision, by: practitioner(access), note: form.text("note"), declineReason: form.text("reason"), receiverBasis: basis),
                messageID: message.id, recipient: message.recipient, index: access.directory, now: clock())
        } catch let refusal as ResponsibilityMachine.Refusal {
            return try await mailboxMessage(request, context, error: Self.sentence(refusal.message), status: .conflict)
        }
        try await audit(access.user, "responsibility.\(decision == .accept ? "accepted" : "declined")", subject: "message \(message.id.rawValue)")
        return .redirect(to: "/console/mailbox/\(message.id.rawValue)", type: .normal)
    }

    func recordOutcome(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, access, message) = try await receivedMessage(context)
        let form = try await ConsoleForm.read(request, expectedToken: session.csrfToken)
        do {
            _ = try await ResponsibilityDesk(store: store).recordOutcome(
                messageID: message.id, recipient: message.recipient, code: form.text("code") ?? "", detail: form.text("detail"),
                by: practitioner(access),
                index: access.directory, now: clock())
        } catch let refusal as ResponsibilityMachine.Refusal {
            return try await mailboxMessage(request, context, error: Self.sentence(refusal.message), status: .conflict)
        }
        try await audit(access.user, "responsibility.outcome", subject: "message \(message.id.rawValue)")
        return .redirect(to: "/console/mailbox/\(message.id.rawValue)", type: .normal)
    }

    /// Sends the message on to the service or council it should have reached; it leaves this
    /// practitioner's mailbox, so they return to the list, which says where it went.
    func redirect(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, access, message) = try await receivedMessage(context)
        let form = try await ConsoleForm.read(request, expectedToken: session.csrfToken)
        do {
            _ = try await ResponsibilityDesk(store: store).redirect(
                messageID: message.id, recipient: message.recipient, to: String((form.text("to") ?? "").prefix(200)), by: practitioner(access),
                note: form.text("note"), index: access.directory, now: clock())
        } catch let refusal as ResponsibilityMachine.Refusal {
            return try await mailboxMessage(request, context, error: Self.sentence(refusal.message), status: .conflict)
        } catch let refusal as MeshError {
            return try await mailboxMessage(request, context, error: Self.sentence(refusal.message), status: .badRequest)
        }
        try await audit(access.user, "responsibility.redirected", subject: "message \(message.id.rawValue)")
        return .redirect(to: "/console/mailbox?redirected=\(message.id.rawValue)", type: .normal)
    }

    /// The state machine's words as a sentence for a page.
    static func sentence(_ text: String) -> String { text.prefix(1).uppercased() + text.dropFirst() + "." }
}
