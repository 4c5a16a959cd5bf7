import HandoverCore
import HandoverStore
import Hummingbird

/// Propose and approve (`/admin/directory/proposals`): an edit that touches a safeguarding workflow's
/// routing, policy or mailboxes is refused by `PUT /admin/directory` and the entry routes
/// (`approval-required`); its author proposes the whole directory instead, and another admin approves
/// it, which applies it onto the version it was made from, or rejects it.
extension AdminEndpoints {
    func listProposals(_ request: Request, _ context: Context) async throws -> Response {
        let current = manager.holder.snapshot.version
        let list = try await manager.proposals(limit: try listLimit(request, default: 100, maximum: 500))
        return .json(.object([("proposals", .array(list.map { ProposalView.json($0, currentVersion: current) }))]))
    }

    func getProposal(_ request: Request, _ context: Context) async throws -> Response {
        let (proposal, document) = try await storedProposal(context)
        var body = ProposalView.json(proposal, currentVersion: manager.holder.snapshot.version)
        if case .object(var fields) = body {
            let impact = try await manager.routingImpact(of: document, madeOn: proposal.baseVersion)
            fields.append(("routing_impact", RoutingImpactView.json(impact)))
            body = .object(fields)
        }
        return .json(body)
    }

    /// The proposed directory, secrets redacted, as JSON or YAML by Accept.
    func proposalDocument(_ request: Request, _ context: Context) async throws -> Response {
        try encoded(DirectorySecrets.redacted(try await storedProposal(context).document), request: request)
    }

    func submitProposal(_ request: Request, _ context: Context) async throws -> Response {
        let who = try context.adminCaller()
        let document = try await directoryBody(request)
        guard let base = try ifMatchVersion(request, required: true) else { throw AdminProblem.badRequest("If-Match is required") }
        let outcome: DirectoryManager.ProposalOutcome
        do {
            outcome = try await manager.submitProposal(document, baseVersion: base, actor: actor(who))
        } catch let conflict as DirectoryVersionConflict {
            throw AdminProblem.stale(conflict)
        }
        switch outcome {
        case .invalid(let problems): throw AdminProblem.invalid(problems)
        case .proposed(let proposal):
            context.logger.notice(
                "directory change proposed", metadata: ["handover.proposal": "\(proposal.id)", "handover.actor": "\(who.name)"])
            return .json(ProposalView.json(proposal, currentVersion: base), status: .created)
        }
    }

    func approveProposal(_ request: Request, _ context: Context) async throws -> Response {
        let who = try context.adminCaller()
        let id = try proposalID(context)
        let outcome: DirectoryManager.Outcome
        do {
            outcome = try await manager.approve(id, actor: actor(who))
        } catch let refusal as ProposalRefusal {
            throw Self.problem(refusal, id: id)
        }
        context.logger.notice("directory proposal approved", metadata: ["handover.proposal": "\(id)", "handover.actor": "\(who.name)"])
        return try await outcomeResponse(outcome, request: request)
    }

    func rejectProposal(_ request: Request, _ context: Context) async throws -> Response {
        let who = try context.adminCaller()
        let id = try proposalID(context)
        do {
            try await manager.reject(id, actor: actor(who))
        } catch let refusal as ProposalRefusal {
            throw Self.problem(refusal, id: id)
        }
        guard let proposal = try await manager.proposal(id) else { throw AdminProblem.notFound("proposal \(id)") }
        return .json(ProposalView.json(proposal, currentVersion: manager.holder.snapshot.version))
    }

    func proposalID(_ context: Context) throws -> Int64 {
        guard let id = context.parameters.get("proposal").flatMap(Int64.init) else { throw AdminProblem.notFound("that proposal") }
        return id
    }

    /// The proposal and its directory.
    func storedProposal(_ context: Context) async throws -> (proposal: DirectoryProposal, document: DirectoryDocument) {
        let id = try proposalID(context)
        guard let proposal = try await manager.proposal(id), let document = proposal.document else { throw AdminProblem.notFound("proposal \(id)") }
        return (proposal, document)
    }

    static func problem(_ refusal: ProposalRefusal, id: Int64) -> AdminProblem {
        switch refusal {
        case .notFound: return AdminProblem.notFound("proposal \(id)")
        case .decided(let state): return AdminProblem(code: .proposalDecided, detail: "proposal \(id) was already \(state.rawValue)")
        case .sameAdmin:
            return AdminProblem(code: .sameAdmin, detail: "proposal \(id) is yours; another admin approves it (you may reject it to withdraw it)")
        case .stale(let base, let current):
            return AdminProblem(
                code: .staleVersion,
                detail:
                    "proposal \(id) was made on version \(base) but the current version is \(current.map(String.init) ?? "none"); "
                    + "reject it and propose the change again on the current version",
                extra: [("current_version", current.map { .int($0) } ?? .null)])
        }
    }
}

/// A proposal as JSON: what it changes and why it needs a second admin, never the document's secrets.
enum ProposalView {
    static func json(_ p: DirectoryProposal, currentVersion: Int64) -> JSONValue {
        .compact([
            ("id", .int(p.id)), ("state", .string(p.state.rawValue)), ("base_version", .int(p.baseVersion)),
            ("stale", .bool(p.state == .pending && p.baseVersion != currentVersion)), ("proposed_by", .string(p.proposedBy)),
            ("proposed_at", .string(p.proposedAt.isoUTC)), ("decided_by", p.decidedBy.map { .string($0) }),
            ("decided_at", p.decidedAt.map { .string($0.isoUTC) }), ("applied_version", p.appliedVersion.map { .int($0) }),
            ("reasons", .array(p.reasons.map { .string($0) })), ("changes", DirectoryChangesView.json(p.changes)),
        ])
    }
}

/// Directory changes as JSON: kind, entity and id of each.
enum DirectoryChangesView {
    static func json(_ list: [DirectoryChange]) -> JSONValue {
        .array(list.map { .compact([("kind", .string($0.kind.rawValue)), ("entity", .string($0.entity)), ("id", .string($0.id))]) })
    }
}
