import HTTPTypes
import HandoverCore
import HandoverStore
import Hummingbird
import Yams

/// A second admin's approval: an edit that touches a safeguarding workflow's routing, policy or
/// mailboxes is saved by Apply as a proposal, shown with why it needs approval, its changes, its
/// routing impact and the proposed directory; another admin approves it (applied onto the version
/// it was made from) or rejects it; its author may withdraw it.
extension Console {
    func registerDirectoryProposals(on group: RouterGroup<ConsoleRequestContext>) {
        group.get("directory/proposals/:proposal") { request, context in try await proposalPage(request, context) }
        group.post("directory/proposals/:proposal/approve") { request, context in try await decideProposal(request, context, approve: true) }
        group.post("directory/proposals/:proposal/reject") { request, context in try await decideProposal(request, context, approve: false) }
    }

    /// Apply on an edit that needs a second admin: saved as a proposal, then its page.
    func proposeForApproval(
        _ document: DirectoryDocument, _ form: ConsoleForm, _ access: ConsoleAccess
    ) async throws -> DirectoryManager.ProposalOutcome {
        guard let base = form["version"].flatMap(Int64.init) else { throw DirectoryVersionConflict(expected: nil, current: directory.version) }
        return try await manager.submitProposal(document, baseVersion: base, actor: actor(access.user))
    }

    func proposalPage(
        _ request: Request, _ context: ConsoleRequestContext, problems: [String] = [], status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let (session, access) = try self.access(context, for: .directory)
        guard let id = context.parameters.get("proposal").flatMap(Int64.init), let proposal = try await manager.proposal(id),
            let document = proposal.document
        else { throw ConsoleRefusal.notFound }
        let inForce = directory.version
        let pending = proposal.state == .pending
        let stale = pending && proposal.baseVersion != inForce
        let mine = proposal.proposedBy == actor(access.user)
        let impact = impactRows(try await manager.routingImpact(of: document, madeOn: proposal.baseVersion))
        let values: [String: Any] = [
            "id": id, "proposedBy": proposal.proposedBy, "proposedAt": proposal.proposedAt.isoUTC, "base": proposal.baseVersion,
            "inForce": inForce, "state": proposal.state.rawValue, "pending": pending, "stale": stale,
            "decidedBy": proposal.decidedBy as Any, "decidedAt": proposal.decidedAt?.isoUTC as Any, "appliedVersion": proposal.appliedVersion as Any,
            "justProposed": request.uri.queryParameters.get("proposed") != nil,
            "reasons": proposal.reasons.map { ["reason": $0] }, "changes": proposal.changes.map { ["text": $0.summary] },
            "impact": impact, "hasImpact": !impact.isEmpty,
            "yaml": try YAMLEncoder().encode(visibleDocument(document, access)),
            "mayApprove": access.mayEditDirectory && pending && !stale && !mine, "mayReject": access.mayEditDirectory && pending,
            "mine": mine, "hasProblems": !problems.isEmpty, "problems": problems.map { ["text": $0] },
        ]
        return pages.page(
            "directory-proposal", title: "Directory proposal \(id)", values, section: .directory, access: access, session: session, status: status)
    }

    func decideProposal(_ request: Request, _ context: ConsoleRequestContext, approve: Bool) async throws -> Response {
        let (session, access) = try adminAccess(context)
        _ = try await ConsoleForm.read(request, expectedToken: session.csrfToken)
        guard let id = context.parameters.get("proposal").flatMap(Int64.init) else { throw ConsoleRefusal.notFound }
        do {
            guard approve else {
                try await manager.reject(id, actor: actor(access.user))
                return .redirect(to: "/console/directory/proposals/\(id)", type: .normal)
            }
            switch try await manager.approve(id, actor: actor(access.user)) {
            case .applied(let version, _, _, _):
                return .redirect(to: "/console/directory?applied=\(version)", type: .normal)
            case .invalid(let list):
                return try await proposalPage(
                    request, context, problems: ["It cannot be applied now:"] + list.map(\.description), status: .unprocessableContent)
            case .dryRun, .needsConfirmation, .needsApproval:
                // Approval confirms the impact shown and is not gated again: none of these comes back.
                return try await proposalPage(request, context, problems: ["It was not applied."], status: .conflict)
            }
        } catch let refusal as ProposalRefusal {
            switch refusal {
            case .notFound: throw ConsoleRefusal.notFound
            case .decided(let state):
                return try await proposalPage(request, context, problems: ["It was already \(state.rawValue)."], status: .conflict)
            case .sameAdmin:
                return try await proposalPage(
                    request, context, problems: ["You proposed this change: another admin approves it."], status: .forbidden)
            case .stale(_, let current):
                return try await proposalPage(
                    request, context,
                    problems: [
                        "The directory changed after this was proposed (version \(current.map(String.init) ?? "none") is in force). "
                            + "Reject it and make the change again."
                    ], status: .conflict)
            }
        }
    }

    /// The pending proposals, for the directory page.
    func pendingProposals() async throws -> [[String: Any]] {
        try await manager.proposals(limit: 50).filter { $0.state == .pending }.map { p in
            ["proposalID": p.id, "by": p.proposedBy, "at": p.proposedAt.isoUTC, "count": p.changes.count, "onVersion": p.baseVersion]
        }
    }

    /// A directory as this person may read it: secrets always redacted, webhook addresses to admins only.
    func visibleDocument(_ stored: DirectoryDocument, _ access: ConsoleAccess) -> DirectoryDocument {
        var document = DirectorySecrets.redacted(stored)
        if !access.maySeeDirectorySecrets {
            document.webhooks = document.webhooks?.map {
                var h = $0
                h.url = "hidden"
                h.secret = nil
                return h
            }
        }
        return document
    }
}
