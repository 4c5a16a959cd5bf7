import HandoverCore

/// Propose and approve: an admin's edit that touches a safeguarding workflow's routing, policy or
/// mailboxes is saved as a proposal, and applied only when a different admin approves it, onto the
/// very version it was made from.
extension DirectoryManager {
    public enum ProposalOutcome: Sendable {
        case invalid([DirectoryProblem])
        case proposed(DirectoryProposal)
    }

    /// At most this many proposals wait at once: each holds a whole directory.
    public static let maximumPendingProposals = 50

    /// Validates `document`, an edit of version `baseVersion`, and saves it for another admin to
    /// approve. Throws `DirectoryVersionConflict` when `baseVersion` is no longer current.
    public func submitProposal(_ document: DirectoryDocument, baseVersion: Int64, actor: String) async throws -> ProposalOutcome {
        let waiting = try await store.directoryProposals(limit: Self.maximumPendingProposals).filter { $0.state == .pending }.count
        guard waiting < Self.maximumPendingProposals else {
            return .invalid([
                DirectoryProblem(
                    file: "directory", entry: "directory", field: "",
                    message: "\(waiting) proposals are already waiting for a second admin: approve or reject some first")
            ])
        }
        switch try await propose(document, expectedVersion: baseVersion, actor: actor, dryRun: true) {
        case .invalid(let problems): return .invalid(problems)
        case .dryRun(let changes, _, _, let reasons):
            guard !changes.isEmpty else {
                return .invalid([DirectoryProblem(file: "directory", entry: "directory", field: "", message: "the proposal changes nothing")])
            }
            var proposal = DirectoryProposal(
                baseVersion: baseVersion, document: document, changes: changes, reasons: reasons, proposedBy: actor, proposedAt: clock())
            proposal.id = try await store.saveDirectoryProposal(proposal, document: document, now: proposal.proposedAt)
            return .proposed(proposal)
        case .applied, .needsConfirmation, .needsApproval:
            // A dry run neither applies nor stops for confirmation or approval.
            throw ProposalRefusal.notFound
        }
    }

    /// Applies proposal `id` as the next version, `actor` being its second admin: confirming its
    /// routing impact, which the proposal page shows. Throws `ProposalRefusal` when it is not
    /// pending, `actor` proposed it, or the directory has changed since it was made.
    public func approve(_ id: Int64, actor: String) async throws -> Outcome {
        guard let proposal = try await store.directoryProposal(id), let document = proposal.document else { throw ProposalRefusal.notFound }
        let approval = ProposalApproval(proposal: id, approver: actor)
        if let refusal = approval.refusal(state: proposal.state.rawValue, proposedBy: proposal.proposedBy) { throw refusal }
        do {
            return try await propose(
                document, expectedVersion: proposal.baseVersion, actor: "\(actor), approving proposal \(id) by \(proposal.proposedBy)",
                dryRun: false, confirmImpact: true, approval: .approving(approval))
        } catch let conflict as DirectoryVersionConflict {
            throw ProposalRefusal.stale(base: proposal.baseVersion, current: conflict.current)
        }
    }

    /// Rejects proposal `id` (its proposer withdrawing it, or another admin declining it).
    public func reject(_ id: Int64, actor: String) async throws {
        try await store.rejectDirectoryProposal(id, actor: actor, now: clock())
    }

    /// The proposals, pending first, each newest first.
    public func proposals(limit: Int = 100) async throws -> [DirectoryProposal] { try await store.directoryProposals(limit: limit) }

    public func proposal(_ id: Int64) async throws -> DirectoryProposal? { try await store.directoryProposal(id) }

    /// Which addresses the proposed directory would route differently from the version it was made on.
    public func routingImpact(of document: DirectoryDocument, madeOn version: Int64) async throws -> RoutingImpact {
        guard let base = try await store.directoryVersion(version) else { return RoutingImpact(changes: [], complete: true) }
        return RoutingImpact.between(
            DirectoryBuilder.build([(source: "directory", document: base.document)]).0,
            DirectoryBuilder.build([(source: "directory", document: document)]).0)
    }
}
