import Foundation
import HandoverCore
import HandoverStore
import Hummingbird

extension AdminEndpoints {
    struct OffSystemBody: Decodable {
        var channel: String
        var occurred_at: String
        var from_organisation: String?
        var anonymous: Bool?
        /// Addressed as a message is: a mailbox, an organisation code, `AREA:` or `POSTCODE:`.
        var to: String
        var workflow: String
        /// A short summary with no clinical detail (at most 500 characters).
        var summary: String?
        var crossing: JSONValue?
    }

    /// `POST /admin/crossings` (operator or admin): a crossing that happened by phone, fax, email or
    /// on paper, recorded so it lives under the same responsibility and escalation as a message. It
    /// is routed through the directory and delivered to the receiving mailbox as a `HANDOVER_OFFSYSTEM`
    /// notice carrying the workflow's responsibility and escalation policy.
    func recordOffSystemCrossing(_ request: Request, _ context: Context) async throws -> Response {
        let who = try context.adminCaller()
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        let body: OffSystemBody
        do {
            body = try JSONDecoder().decode(OffSystemBody.self, from: Data(buffer.readableBytesView))
        } catch {
            throw AdminProblem.badRequest(
                "the body must be JSON with channel, occurred_at, to, workflow and (unless anonymous) from_organisation: "
                    + describeDecodingError(error))
        }
        let index = manager.holder.snapshot
        guard OffSystemFacts.channels.contains(body.channel) else {
            throw AdminProblem.badRequest("channel must be one of " + OffSystemFacts.channels.joined(separator: ", "))
        }
        guard let occurred = Timestamp.parseDateTime(body.occurred_at), occurred <= clock().adding(seconds: 300) else {
            throw AdminProblem.badRequest("occurred_at must be an ISO 8601 date and time, not in the future")
        }
        guard (body.summary ?? "").count <= 500 else { throw AdminProblem.badRequest("summary is at most 500 characters (no clinical detail)") }
        var from: Organisation?
        if let code = body.from_organisation {
            guard let organisation = index.organisations[ODSCode(code)] else {
                throw AdminProblem.badRequest("from_organisation names no organisation in the directory")
            }
            from = organisation
        } else if body.anonymous != true {
            throw AdminProblem.badRequest("from_organisation is required unless the referrer is a member of the public (anonymous: true)")
        }
        let workflowID = WorkflowID(body.workflow)
        guard let workflow = index.workflows[workflowID] else { throw AdminProblem.badRequest("workflow is not in the directory") }
        // Routed as a message is, but from no mailbox: whoever phoned is not held to the workflow's senders.
        let decision: RouteDecision
        switch index.resolve(
            to: body.to.trimmingCharacters(in: .whitespaces).uppercased(), workflowID: workflowID,
            sender: MailboxID(OffSystemFacts.workflow), allowUnknownWorkflows: false)
        {
        case .success(let routed): decision = routed
        case .failure(let refusal): throw AdminProblem(code: .unroutable, detail: refusal.explained)
        }
        let declared: CrossingDeclaration?
        if let crossing = body.crossing {
            switch CrossingDeclaration.parse(json: Data(crossing.serialized.utf8)) {
            case .success(let d): declared = d
            case .failure(let problem): throw AdminProblem.badRequest(problem.description)
            }
        } else {
            declared = nil
        }
        let now = clock()
        let crossing = OffSystemCrossing(
            channel: body.channel, occurredAt: occurred, from: from, anonymous: body.anonymous, workflow: workflow,
            decision: decision, summary: body.summary, recordedBy: who.name, declared: declared)
        let message: MessageRecord
        switch crossing.message(id: MessageIDGenerator.shared.next(now: now), index: index, now: now) {
        case .success(let built): message = built
        case .failure(let problem): throw AdminProblem.badRequest(problem.description)
        }
        let stored = try await store.createMessage(message, firstChunk: .inline(crossing.notice, now: now), now: now)
        try await store.appendAudit(
            AuditRecord(
                actor: actor(who), action: "crossing.offsystem_recorded", subject: "message \(stored.id.rawValue)",
                detail: JSONValue.compact([
                    ("channel", .string(body.channel)), ("workflow_id", .string(workflow.id.rawValue)),
                    ("recipient", .string(stored.recipient.rawValue)), ("route", decision.route.json),
                ]).serialized), now: now)
        return .json(
            .compact([
                ("message_id", .string(stored.id.rawValue)), ("recipient", .string(stored.recipient.rawValue)),
                ("workflow_id", .string(OffSystemFacts.workflow)), ("crossing", stored.crossingJSON(for: .bothEnds)),
            ]),
            status: .created)
    }
}
