import Foundation
import HandoverCore
import HandoverStore
import Hummingbird
import NIOCore

/// A practitioner sends a message from one of their mailboxes: a workflow that mailbox may send, an
/// address (mailbox, organisation code, `AREA:` or `POSTCODE:`) with a preview of where the
/// directory will send it, the crossing's parts as a form (the author is the signed-in person), and
/// typed text as the payload. It is checked by the same crossing rules as a MESH send and stored the
/// same way; files go through `handover client send` or the folder agent.
extension Console {
    /// Typed text; a page is not the place for large payloads.
    static let maximumSendTextBytes = 512 * 1024

    func registerSend(on group: RouterGroup<ConsoleRequestContext>) {
        group.get("send") { request, context in try await sendPage(request, context) }
        group.get("send/route") { request, context in try await routePreview(request, context) }
        group.post("send") { request, context in try await sendMessage(request, context) }
    }

    /// The workflows a mailbox may send, by id.
    func sendableWorkflows(_ mailbox: MailboxID, _ index: DirectoryIndex) -> [Workflow] {
        guard let box = index.mailboxes[mailbox] else { return [] }
        return index.workflows.values.filter { index.maySend(box, workflow: $0) }.sorted { $0.id.rawValue < $1.id.rawValue }
    }

    /// Where the directory would send it, in words, or why it would not.
    func routeWords(from: MailboxID, workflow: String, to: String, _ access: ConsoleAccess) -> String {
        guard access.user.mailboxes.contains(from) else { return "Choose one of your mailboxes." }
        guard !to.isEmpty, !workflow.isEmpty else { return "Choose a workflow and give an address to see where it goes." }
        switch access.directory.resolve(to: to, workflowID: WorkflowID(workflow), sender: from, allowUnknownWorkflows: false) {
        case .success(let decision):
            let mailbox = access.directory.mailboxes[decision.recipient]
            let service = decision.route.service.map { "the service \($0), " } ?? ""
            return "It will go to \(service)\(mailbox?.name ?? decision.recipient.rawValue) (\(decision.recipient.rawValue)) at "
                + organisationName(decision.recipient, access) + "."
        case .failure(let refusal): return "It cannot be sent there: " + refusal.message + "."
        }
    }

    func routePreview(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (_, access) = try self.access(context, for: .mailbox)
        let q = request.uri.queryParameters
        let words = routeWords(
            from: MailboxID(String((q.get("from") ?? "").prefix(100))), workflow: String((q.get("workflow") ?? "").prefix(100)),
            to: String((q.get("to") ?? "").prefix(200)), access)
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: words)))
    }

    func sendPage(
        _ request: Request, _ context: ConsoleRequestContext, form: ConsoleForm? = nil, error: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let (session, access) = try self.access(context, for: .mailbox)
        let q = request.uri.queryParameters
        func value(_ name: String) -> String { form?.text(name) ?? q.get(name).map { String($0.prefix(200)) } ?? "" }
        let from = value("from").isEmpty ? (access.user.mailboxes.first?.rawValue ?? "") : value("from")
        let workflows = sendableWorkflows(MailboxID(from), access.directory)
        let chosen = value("workflow")
        let preview = routeWords(from: MailboxID(from), workflow: chosen, to: value("to"), access)
        let vocabulary = access.directory.directory.vocabulary
        func options(_ codes: [String], selected: String) -> [[String: Any]] { codes.map { ["value": $0, "selected": $0 == selected] } }
        let values: [String: Any] = [
            "mailboxes": access.user.mailboxes.map { ["value": $0.rawValue, "selected": $0.rawValue == from] },
            "workflows": workflows.map { ["value": $0.id.rawValue, "selected": $0.id.rawValue == chosen] },
            "noWorkflows": workflows.isEmpty, "from": from, "workflow": chosen, "to": value("to"), "preview": preview,
            "localID": value("local_id"),
            "safeguarding": workflows.contains { $0.safeguarding == true },
            "article6": options(vocabulary.article6, selected: value("article6")),
            "article9": options(vocabulary.article9, selected: value("article9")),
            "consent": options(Consent.states, selected: value("consent")),
            "actions": options(ClinicalIntent.actions, selected: value("action")),
            "nhsNumber": value("nhs_number"), "question": value("question"), "text": form?.text("text") ?? "",
            "author": access.user.name, "maxKiB": Self.maximumSendTextBytes / 1024, "error": error as Any,
        ]
        return pages.page("send", title: "Send a message", values, section: .mailbox, access: access, session: session, status: status)
    }

    func sendMessage(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, access) = try self.access(context, for: .mailbox)
        let form = try await ConsoleForm.read(request, expectedToken: session.csrfToken, maximumBytes: 3 * Self.maximumSendTextBytes + 16 * 1024)
        func refuse(_ why: String) async throws -> Response { try await sendPage(request, context, form: form, error: why, status: .badRequest) }
        let from = MailboxID(form.text("from") ?? "")
        guard access.user.mailboxes.contains(from) else { return try await refuse("Choose one of your mailboxes.") }
        let workflowID = form.text("workflow") ?? ""
        guard let text = form.text("text"), !text.isEmpty, text.utf8.count <= Self.maximumSendTextBytes else {
            return try await refuse("Write the message, at most \(Self.maximumSendTextBytes / 1024) KiB.")
        }
        let index = access.directory
        let decision: RouteDecision
        switch index.resolve(to: form.text("to") ?? "", workflowID: WorkflowID(workflowID), sender: from, allowUnknownWorkflows: false) {
        case .success(let routed): decision = routed
        case .failure(let refusal): return try await refuse("It cannot be sent there: " + refusal.message + ".")
        }
        let declared: CrossingDeclaration
        switch CrossingDeclaration.parse(json: Data(declaration(form, author: access.user.name).serialized.utf8)) {
        case .success(let parsed): declared = parsed
        case .failure(let problem): return try await refuse(Self.sentence(problem.description))
        }
        let workflow = decision.workflow
        let rules = CrossingRules.Context.forSend(workflow: workflow, sender: from, index: index)
        var crossing: CrossingRecord
        switch CrossingRules.record(declared: declared, payload: nil, context: rules) {
        case .success(let built): crossing = built
        case .failure(let problem): return try await refuse(Self.sentence(problem.description))
        }
        let now = clock()
        let body = Array(text.utf8)
        let digest = sha256Hex(body)
        crossing.deriveAtSend(
            sender: from, recipient: decision.recipient, workflow: workflow, index: index, payloadSHA256: digest,
            certificateMatchesSender: nil, fhir: nil, now: now)
        crossing.flags.removeAll { !$0.shown }
        let id = MessageIDGenerator.shared.next(now: now)
        let record = MessageRecord(
            id: id, sender: from, recipient: decision.recipient, workflowID: workflowID, localID: form.text("local_id"),
            contentType: "text/plain; charset=utf-8", totalChunks: 1, status: .uploading, createdAt: now,
            expirySeconds: index.expirySeconds(workflow: workflow, deliveredAt: now, defaultSeconds: ExpiryPolicy().defaultExpirySeconds),
            route: decision.route,
            escalationPolicy: workflow?.escalation, responsibilityRequired: workflow?.responsibility == .required, crossing: crossing)
        let staged = StagedChunk(
            uploadID: ChunkStager.newUploadID(now: now), size: Int64(body.count), segmentCount: 1, sha256: digest,
            inlineSegment: ByteBuffer(bytes: body))
        _ = try await store.createMessage(record, firstChunk: staged, now: now)
        // Its deadlines (a safeguarding referral's not-accepted alert) are planned now, not at the scheduler's next tick.
        wakeEscalation()
        try await audit(access.user, "console.message_sent", subject: "message \(id.rawValue)")
        return .redirect(to: "/console/sent/\(id.rawValue)", type: .normal)
    }

    /// The form's crossing fields in the `Mex-Handover-Crossing` shape, so the same parser checks them;
    /// the author is the signed-in person.
    private func declaration(_ form: ConsoleForm, author: String) -> JSONValue {
        func text(_ name: String) -> JSONValue? { form.text(name).map { .string(String($0.prefix(2000))) } }
        let basis = JSONValue.compact([("article6", text("article6")), ("article9", text("article9"))])
        let intent = JSONValue.compact([
            ("action", text("action")), ("question", text("question")), ("immediate_risk", form.text("immediate_risk") == "yes" ? .bool(true) : nil),
        ])
        return .compact([
            ("subject", form.text("nhs_number").map { .object([("nhs_number", .string(String($0.prefix(20))))]) }),
            ("lawful_basis", form.text("article6") == nil ? nil : basis), ("consent", text("consent").map { .object([("state", $0)]) }),
            ("provenance", .object([("system", "Handover console"), ("author", .object([("name", .string(author))]))])), ("intent", intent),
        ])
    }
}
