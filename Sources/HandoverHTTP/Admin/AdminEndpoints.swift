import Foundation
import HTTPTypes
import HandoverCore
import HandoverStore
import Hummingbird
import Yams

/// The admin API (contract §5) under `/admin`: bearer tokens with roles, the routing directory with
/// versions, message metadata and the audit log. Every edit makes a new directory version.
public struct AdminEndpoints<Context: HandoverContext>: Sendable {
    let manager: DirectoryManager
    let store: any BrokerStore
    let clock: @Sendable () -> Timestamp
    let revocations: ClientRevocations
    /// Under mutual TLS, the client-certificate names (CN or DNS SAN) that may use the admin API at
    /// all; nil when the listener does not bind certificates. A mailbox's certificate from the same CA
    /// is not enough: a stolen admin token alone must not open the admin API.
    let adminCertificateNames: Set<String>?

    public init(
        manager: DirectoryManager, store: any BrokerStore, clock: @escaping @Sendable () -> Timestamp,
        revocations: ClientRevocations = ClientRevocations(nil), adminCertificateNames: Set<String>? = nil
    ) {
        (self.manager, self.store, self.clock, self.revocations, self.adminCertificateNames) = (
            manager, store, clock, revocations, adminCertificateNames
        )
    }

    /// Every admin route is in one of three groups by the least role it needs; the group's middleware
    /// authenticates the token (and the admin certificate under mutual TLS) before the handler runs.
    public func register(on router: Router<Context>) {
        let viewer = group(router, least: .viewer)
        let operators = group(router, least: .operator)
        let admin = group(router, least: .admin)
        viewer.get("directory") { request, context in try await getDirectory(request, context) }
        admin.put("directory") { request, context in try await putDirectory(request, context) }
        viewer.get("directory/history") { request, context in try await history(request, context) }
        viewer.get("directory/versions/:version") { request, context in try await version(request, context) }
        viewer.get("directory/proposals") { request, context in try await listProposals(request, context) }
        viewer.get("directory/proposals/:proposal") { request, context in try await getProposal(request, context) }
        viewer.get("directory/proposals/:proposal/document") { request, context in try await proposalDocument(request, context) }
        admin.post("directory/proposals") { request, context in try await submitProposal(request, context) }
        admin.post("directory/proposals/:proposal/approve") { request, context in try await approveProposal(request, context) }
        admin.post("directory/proposals/:proposal/reject") { request, context in try await rejectProposal(request, context) }
        // Under `:kind` rather than `mailboxes`, so the router's `:kind/:id` routes still match mailboxes.
        admin.post(":kind/:id/password") { request, context in try await rotatePassword(request, context) }
        viewer.get("messages") { request, context in try await messages(request, context) }
        viewer.get("route") { request, context in try await explainRoute(request, context) }
        viewer.get("audit") { request, context in try await audit(request, context) }
        viewer.get("audit/verify") { request, context in try await verifyAudit(request, context) }
        viewer.get("alerts") { request, context in try await listAlerts(request, context) }
        viewer.get("alerts/:alert") { request, context in try await getAlert(request, context) }
        operators.post("alerts/:alert/acknowledge") { request, context in try await acknowledgeAlert(request, context) }
        operators.post("crossings") { request, context in try await recordOffSystemCrossing(request, context) }
        viewer.get("boundaries") { request, context in try await boundaries(request, context) }
        viewer.get("boundaries.csv") { request, context in try await boundariesCSV(request, context) }
        viewer.get("boundaries/:from/:to/:workflow/crossings") { request, context in try await boundaryCrossings(request, context) }
        viewer.get(":kind/:id") { request, context in try await getEntity(request, context) }
        admin.put(":kind/:id") { request, context in try await putEntity(request, context) }
        admin.delete(":kind/:id") { request, context in try await deleteEntity(request, context) }
    }

    private func group(_ router: Router<Context>, least: AdminRole) -> RouterGroup<Context> {
        router.group("/admin")
            .add(middleware: AdminErrorTranslation())
            .add(
                middleware: AdminAuthentication(
                    store: store, clock: clock, revocations: revocations,
                    certificateNames: adminCertificateNames, least: least))
    }

    func actor(_ p: AdminPrincipal) -> String { "admin:\(p.name)" }

    // MARK: - Whole directory

    func getDirectory(_ request: Request, _ context: Context) async throws -> Response {
        guard let current = try await store.currentDirectory() else { throw AdminProblem.notFound("a directory") }
        return try documentResponse(current.document, version: current.version, request: request)
    }

    func putDirectory(_ request: Request, _ context: Context) async throws -> Response {
        let who = try context.adminCaller()
        let dryRun = request.uri.queryParameters.get("dry_run") == "true"
        let document = try await directoryBody(request)
        let expected = try ifMatchVersion(request, required: !dryRun)
        return try await outcomeResponse(
            try await propose(document, expected: expected, actor: actor(who), dryRun: dryRun, request: request), request: request)
    }

    /// A whole directory document, JSON or YAML by Content-Type, with no key the directory does not know.
    func directoryBody(_ request: Request) async throws -> DirectoryDocument {
        let body = try await request.body.collect(upTo: 10 << 20)
        let data = Data(body.readableBytesView)
        let document: DirectoryDocument
        do {
            try DirectoryText.checkNesting(String(decoding: data, as: UTF8.self))
            document = try BodyFormat(request).decode(DirectoryDocument.self, from: data)
        } catch let problem as DirectoryProblem {
            throw AdminProblem.invalid([problem])
        } catch {
            throw AdminProblem.badRequest("the body is not a directory document: \(describeDecodingError(error))")
        }
        let unknownKeys = DirectoryKeyCheck.problems(in: try BodyFormat(request).decode(KeyTree.self, from: data), source: "directory")
        guard unknownKeys.isEmpty else { throw AdminProblem.invalid(unknownKeys) }
        return document
    }

    func history(_ request: Request, _ context: Context) async throws -> Response {
        let versions = try await store.directoryHistory(limit: 200)
        return .json(
            .object([
                (
                    "versions",
                    .array(
                        versions.map { v in
                            .object([
                                ("version", .int(v.version)), ("created_at", .string(v.createdAt.isoUTC)), ("actor", .string(v.actor)),
                                ("changes", .array(v.changes.map { .string($0.summary) })),
                            ])
                        })
                )
            ]))
    }

    func version(_ request: Request, _ context: Context) async throws -> Response {
        guard let n = context.parameters.get("version").flatMap(Int64.init), let stored = try await store.directoryVersion(n) else {
            throw AdminProblem.notFound("that directory version")
        }
        return try documentResponse(stored.document, version: stored.version, request: request)
    }

    // MARK: - Entities

    func kind(_ context: Context) throws -> (DirectoryEntityKind, String) {
        guard let name = context.parameters.get("kind"), let kind = DirectoryEntityKind.all[name] else {
            throw AdminProblem.notFound(
                "that kind of directory entry (use organisations, mailboxes, areas, services, workflows, escalation-policies, calendars, webhooks "
                    + "or lawful-basis-codes)"
            )
        }
        guard let id = context.parameters.get("id"), !id.isEmpty else { throw AdminProblem.notFound("that entry") }
        return (kind, id)
    }

    func getEntity(_ request: Request, _ context: Context) async throws -> Response {
        let (kind, id) = try kind(context)
        guard let current = try await store.currentDirectory(), let entry = kind.entry(in: DirectorySecrets.redacted(current.document), id: id) else {
            throw AdminProblem.notFound("\(kind.entryName) \(id)")
        }
        var response = try encoded(entry, request: request)
        response.headers[.eTag] = "\"\(current.version)\""
        return response
    }

    func putEntity(_ request: Request, _ context: Context) async throws -> Response {
        let who = try context.adminCaller()
        let (kind, id) = try kind(context)
        let body = try await request.body.collect(upTo: 1 << 20)
        let current = try await store.currentDirectory()
        var document = current?.document ?? DirectoryDocument()
        let data = Data(body.readableBytesView)
        do {
            try DirectoryText.checkNesting(String(decoding: data, as: UTF8.self))
            _ = try kind.upsert(in: &document, id: id, body: data, decoder: BodyFormat(request))
            let unknownKeys = DirectoryKeyCheck.problems(
                inEntry: try BodyFormat(request).decode(KeyTree.self, from: data),
                section: kind.sectionName, source: "directory")
            guard unknownKeys.isEmpty else { throw AdminProblem.invalid(unknownKeys) }
        } catch let problem as DirectoryProblem {
            throw AdminProblem.invalid([problem])
        } catch let problem as AdminProblem {
            throw problem
        } catch let mismatch as EntityIDMismatch {
            throw AdminProblem.badRequest("the body's id \(mismatch.body) differs from the path's \(mismatch.path)")
        } catch {
            throw AdminProblem.badRequest("the body is not a \(kind.entryName): \(describeDecodingError(error))")
        }
        let expected = try ifMatchVersion(request, required: false) ?? current?.version
        return try await outcomeResponse(
            try await propose(
                document, expected: expected, actor: actor(who), dryRun: false, request: request,
                current: current), request: request)
    }

    func deleteEntity(_ request: Request, _ context: Context) async throws -> Response {
        let who = try context.adminCaller()
        let (kind, id) = try kind(context)
        guard let current = try await store.currentDirectory() else { throw AdminProblem.notFound("\(kind.entryName) \(id)") }
        var document = current.document
        guard kind.delete(in: &document, id: id) else { throw AdminProblem.notFound("\(kind.entryName) \(id)") }
        let expected = try ifMatchVersion(request, required: false) ?? current.version
        let outcome = try await propose(document, expected: expected, actor: actor(who), dryRun: false, request: request, current: current)
        if case .invalid(let problems) = outcome {
            // What breaks when the entry goes is what refers to it.
            let referrers = Array(Set(problems.map(\.entry))).sorted()
            throw AdminProblem(
                code: .entryReferenced,
                detail: "\(kind.entryName) \(id) is referenced by: \(referrers.joined(separator: ", "))",
                extra: [("referenced_by", .array(referrers.map { .string($0) }))])
        }
        return try await outcomeResponse(outcome, request: request)
    }

    // MARK: - Passwords, messages, audit

    func rotatePassword(_ request: Request, _ context: Context) async throws -> Response {
        let who = try context.adminCaller()
        guard context.parameters.get("kind") == "mailboxes" else { throw AdminProblem.notFound("that endpoint") }
        let id = MailboxID(context.parameters.get("id") ?? "")
        guard let password = try await manager.rotatePassword(id, actor: actor(who)) else { throw AdminProblem.notFound("mailbox \(id)") }
        context.logger.notice("mailbox password rotated", metadata: ["handover.mailbox": "\(id)", "handover.actor": "\(who.name)"])
        var response = Response.json(
            .object([
                ("mailbox", .string(id.rawValue)), ("password", .string(password)),
                ("note", "shown once; the previous password no longer works"),
            ]))
        response.headers[.cacheControl] = "no-store"
        return response
    }

    func messages(_ request: Request, _ context: Context) async throws -> Response {
        let q = request.uri.queryParameters
        var query = MessageQuery(
            mailbox: q.get("mailbox").map(MailboxID.init), workflowID: q.get("workflow"), limit: try listLimit(request, default: 100, maximum: 1000))
        if let status = q.get("status") {
            guard let parsed = MessageStatus(rawValue: status) else {
                throw AdminProblem.badRequest("status is one of \(MessageStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            query.status = parsed
        }
        if let since = q.get("since") {
            guard let t = Timestamp.parseISO(since) else { throw AdminProblem.badRequest("since is an ISO-8601 time such as 2026-11-25T09:00:00Z") }
            query.since = t
        }
        let found = try await store.searchMessages(query)
        return .json(.object([("messages", .array(found.map(MessageMetadataView.json)))]))
    }

    /// `GET /admin/route?from=MAILBOX&to=ADDRESS&workflow=ID`: where a message would go, in the
    /// directory in force, with every rule consulted, or the precise reason it would be refused.
    func explainRoute(_ request: Request, _ context: Context) async throws -> Response {
        let q = request.uri.queryParameters
        guard let from = q.get("from"), let to = q.get("to"), let workflow = q.get("workflow"), !to.isEmpty, !workflow.isEmpty else {
            throw AdminProblem.badRequest("give from (the sending mailbox), to (as Mex-To) and workflow")
        }
        return .json(
            RouteExplanationView.json(
                manager.holder.snapshot.explain(to: to, workflowID: WorkflowID(workflow), sender: MailboxID(from)),
                version: manager.holder.snapshot.version))
    }

    func audit(_ request: Request, _ context: Context) async throws -> Response {
        let after = request.uri.queryParameters.get("since").flatMap(Int64.init) ?? 0
        let entries = try await store.auditEntries(afterSequence: after, limit: try listLimit(request, default: 1000, maximum: 1000))
        return .json(
            .object([
                (
                    "entries",
                    .array(
                        entries.map { e in
                            .object([
                                ("sequence", .int(e.sequence)), ("at", .string(e.at.isoUTC)), ("actor", .string(e.actor)),
                                ("action", .string(e.action)),
                                ("subject", .string(e.subject)), ("detail", .string(e.detail)), ("hash", .string(e.hash)),
                            ])
                        })
                )
            ]))
    }

    func verifyAudit(_ request: Request, _ context: Context) async throws -> Response {
        switch try await store.verifyAuditChain() {
        case .intact(let n): return .json(.object([("intact", true), ("entries", .int(Int64(n)))]))
        case .broken(let seq, let reason):
            return .json(.object([("intact", false), ("first_bad_sequence", .int(seq)), ("reason", .string(reason))]))
        }
    }

    // MARK: - Helpers

    /// `?limit=`: a whole number, clamped to 1...maximum (a negative limit is unbounded in SQLite).
    func listLimit(_ request: Request, default value: Int, maximum: Int) throws -> Int {
        guard let raw = request.uri.queryParameters.get("limit") else { return value }
        guard let n = Int(raw) else { throw AdminProblem.badRequest("limit is a whole number from 1 to \(maximum)") }
        return min(max(n, 1), maximum)
    }

    /// `current`: the version the edit was made on, when the handler has already read it.
    func propose(
        _ document: DirectoryDocument, expected: Int64?, actor: String, dryRun: Bool, request: Request,
        current: StoredDirectoryVersion? = nil
    ) async throws -> DirectoryManager.Outcome {
        do {
            return try await manager.propose(
                document, expectedVersion: expected, actor: actor, dryRun: dryRun,
                confirmImpact: request.uri.queryParameters.get("confirm_impact") == "true", current: current)
        } catch let conflict as DirectoryVersionConflict {
            throw AdminProblem.stale(conflict)
        }
    }

    func outcomeResponse(_ outcome: DirectoryManager.Outcome, request: Request) async throws -> Response {
        func changes(_ list: [DirectoryChange]) -> JSONValue { DirectoryChangesView.json(list) }
        func warnings(_ list: [DirectoryValidator.Problem]) -> JSONValue {
            .array(list.map { .object([("entry", .string($0.entry)), ("field", .string($0.field)), ("message", .string($0.message))]) })
        }
        switch outcome {
        case .invalid(let problems): throw AdminProblem.invalid(problems)
        case .needsConfirmation(let impact):
            throw AdminProblem(
                code: .routingImpact,
                detail: "\(impact.changes.count) address(es) route differently; review routing_impact and send again with ?confirm_impact=true",
                extra: [("routing_impact", RoutingImpactView.json(impact))])
        case .needsApproval(let reasons, let list, let impact):
            throw AdminProblem(
                code: .approvalRequired,
                detail:
                    "the edit touches a safeguarding workflow (see reasons); POST the whole directory to /admin/directory/proposals, "
                    + "with the same If-Match, for another admin to approve",
                extra: [
                    ("reasons", .array(reasons.map { .string($0) })), ("changes", changes(list)), ("routing_impact", RoutingImpactView.json(impact)),
                ])
        case .dryRun(let list, let impact, let found, let reasons):
            return .json(
                .object([
                    ("dry_run", true), ("valid", true), ("changes", changes(list)), ("warnings", warnings(found)),
                    ("routing_impact", RoutingImpactView.json(impact)), ("needs_confirmation", .bool(impact.needsConfirmation)),
                    ("needs_approval", .bool(!reasons.isEmpty)), ("approval_reasons", .array(reasons.map { .string($0) })),
                ]))
        case .applied(let version, let list, let impact, let found):
            var response = Response.json(
                .object([
                    ("version", .int(version)), ("changes", changes(list)), ("warnings", warnings(found)),
                    ("routing_impact", RoutingImpactView.json(impact)),
                ]))
            response.headers[.eTag] = "\"\(version)\""
            return response
        }
    }

    func ifMatchVersion(_ request: Request, required: Bool) throws -> Int64? {
        guard let raw = request.header("if-match") else {
            if required {
                throw AdminProblem(
                    code: .ifMatchRequired,
                    detail: "send If-Match with the ETag of the directory you edited (GET /admin/directory)")
            }
            return nil
        }
        let trimmed = raw.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "W/", with: "").trimmingCharacters(
            in: CharacterSet(charactersIn: "\""))
        guard let version = Int64(trimmed) else { throw AdminProblem.badRequest("If-Match must be a directory ETag such as \"3\"") }
        return version
    }

    func documentResponse(_ document: DirectoryDocument, version: Int64, request: Request) throws -> Response {
        var response = try encoded(DirectorySecrets.redacted(document), request: request)
        response.headers[.eTag] = "\"\(version)\""
        return response
    }

    func encoded(_ value: any Encodable, request: Request) throws -> Response {
        let wantsYAML = request.header("accept")?.lowercased().contains("yaml") == true
        var headers = HTTPFields()
        let text: String
        if wantsYAML {
            text = try YAMLEncoder().encode(value)
            headers[.contentType] = "application/yaml"
        } else {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            text = String(decoding: try encoder.encode(value), as: UTF8.self)
            headers[.contentType] = "application/json"
        }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

/// JSON or YAML by the request's Content-Type.
struct BodyFormat: EntryDecoder {
    let yaml: Bool
    init(_ request: Request) { yaml = request.header("content-type")?.lowercased().contains("yaml") == true }
    func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        yaml ? try YAMLDecoder().decode(type, from: data) : try JSONDecoder().decode(type, from: data)
    }
}

/// Message metadata for admins: never the payload.
enum MessageMetadataView {
    static func json(_ m: MessageRecord) -> JSONValue {
        .compact([
            ("message_id", .string(m.id.rawValue)), ("type", .string(m.type.rawValue)), ("sender", m.sender.map { .string($0.rawValue) }),
            ("recipient", .string(m.recipient.rawValue)), ("workflow_id", .string(m.workflowID)), ("status", .string(m.status.rawValue)),
            ("local_id", m.localID.map { .string($0) }), ("chunks", .int(Int64(m.totalChunks))), ("size", .int(m.fileSize)),
            ("created_at", .string(m.createdAt.isoUTC)), ("delivered_at", m.deliveredAt.map { .string($0.isoUTC) }),
            ("acknowledged_at", m.acknowledgedAt.map { .string($0.isoUTC) }), ("route", m.route?.json),
        ])
    }
}

/// A route explanation as JSON, for the admin API and `handover routes explain`.
public enum RouteExplanationView {
    public static func json(_ explanation: RouteExplanation, version: Int64) -> JSONValue {
        switch explanation.outcome {
        case .success(let decision):
            return .compact([
                ("routable", true), ("mailbox", .string(decision.recipient.rawValue)), ("service", decision.route.service.map { .string($0) }),
                ("addressed_by", .string(decision.route.addressedBy.rawValue)), ("directory_version", .int(version)),
                ("steps", .array(explanation.steps.map { .string($0) })),
            ])
        case .failure(let error):
            return .object([
                ("routable", false), ("status", .int(Int64(error.statusCode))), ("code", .string(error.code)), ("reason", .string(error.explained)),
                ("directory_version", .int(version)), ("steps", .array(explanation.steps.map { .string($0) })),
            ])
        }
    }
}

/// A routing impact as JSON: one object per address and workflow whose destination changes.
enum RoutingImpactView {
    static func json(_ impact: RoutingImpact) -> JSONValue {
        .array(
            impact.changes.map { c in
                .object([
                    ("effect", .string(c.effect.rawValue)), ("workflow", .string(c.workflow)), ("address", .string(c.address)),
                    ("before", .string(c.before)), ("after", .string(c.after)),
                ])
            })
    }
}
