import HandoverCore

/// A directory edit that touches a safeguarding workflow's routing, policy or mailboxes, saved to wait
/// for a second admin: applied only when an admin other than its proposer approves it, and only onto
/// the version it was made from (a proposal overtaken by another edit is stale and is proposed again).
public struct DirectoryProposal: Sendable, Hashable {
    public enum State: String, Sendable, CaseIterable { case pending, approved, rejected }

    public var id: Int64
    /// The version the proposer edited: the proposal applies onto it or not at all.
    public var baseVersion: Int64
    /// The proposed directory: read with one proposal (`directoryProposal`), nil in listings, which
    /// never read whole directories.
    public var document: DirectoryDocument?
    public var changes: [DirectoryChange]
    /// Why it needs a second admin (`SafeguardingChangeGate`), in words that name no secret.
    public var reasons: [String]
    public var proposedBy: String
    public var proposedAt: Timestamp
    public var state: State
    public var decidedBy: String?
    public var decidedAt: Timestamp?
    /// The directory version the approval made.
    public var appliedVersion: Int64?

    public init(
        id: Int64 = 0, baseVersion: Int64, document: DirectoryDocument?, changes: [DirectoryChange], reasons: [String], proposedBy: String,
        proposedAt: Timestamp, state: State = .pending, decidedBy: String? = nil, decidedAt: Timestamp? = nil, appliedVersion: Int64? = nil
    ) {
        (self.id, self.baseVersion, self.document, self.changes, self.reasons) = (id, baseVersion, document, changes, reasons)
        (self.proposedBy, self.proposedAt, self.state) = (proposedBy, proposedAt, state)
        (self.decidedBy, self.decidedAt, self.appliedVersion) = (decidedBy, decidedAt, appliedVersion)
    }

    /// Why a stored proposal in `state` (nil: no such row) cannot be rejected: only a pending one can.
    public static func rejectionRefusal(state: String?) -> ProposalRefusal? {
        guard let state else { return .notFound }
        return state == State.pending.rawValue ? nil : .decided(State(rawValue: state) ?? .rejected)
    }
}

/// Which proposal a directory save approves, and who approves it: the store marks the proposal
/// approved in the same transaction as the new version, or saves nothing.
public struct ProposalApproval: Sendable, Hashable {
    public var proposal: Int64
    public var approver: String
    public init(proposal: Int64, approver: String) { (self.proposal, self.approver) = (proposal, approver) }

    /// Why the stored proposal (its `state` and `proposed_by`, nil when there is no such row) cannot be
    /// approved by this approver: checked by every backend inside the saving transaction.
    public func refusal(state: String?, proposedBy: String?) -> ProposalRefusal? {
        guard let state, let proposedBy else { return .notFound }
        guard state == DirectoryProposal.State.pending.rawValue else { return .decided(DirectoryProposal.State(rawValue: state) ?? .approved) }
        return proposedBy == approver ? .sameAdmin : nil
    }
}

/// Why a proposal cannot be approved (or rejected) now.
public enum ProposalRefusal: Error, Hashable, Sendable {
    case notFound
    /// Already approved or rejected.
    case decided(DirectoryProposal.State)
    /// The proposer cannot be its second admin.
    case sameAdmin
    /// The directory moved on since the proposal was made.
    case stale(base: Int64, current: Int64?)
}

/// The proposals table: one definition, spelled for each backend (times are microseconds since the epoch).
public enum DirectoryProposalSchema {
    public static let sqlite = table(id: "INTEGER PRIMARY KEY", integer: "INTEGER")
    public static let postgres = table(id: "BIGSERIAL PRIMARY KEY", integer: "BIGINT")

    static func table(id: String, integer: String) -> String {
        """
        CREATE TABLE directory_proposals (
            id \(id),
            base_version \(integer) NOT NULL,
            document TEXT NOT NULL,
            changes TEXT NOT NULL,
            reasons TEXT NOT NULL,
            proposed_by TEXT NOT NULL,
            proposed_at \(integer) NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
            decided_by TEXT,
            decided_at \(integer),
            applied_version \(integer),
            CHECK ((state = 'pending') = (decided_by IS NULL))
        );
        CREATE INDEX directory_proposals_state ON directory_proposals (state, id);
        """
    }

    /// Every column but the document: what listings read.
    public static let listedColumns =
        "id, base_version, changes, reasons, proposed_by, proposed_at, state, decided_by, decided_at, applied_version"

    /// What the audit log says of a proposal, the same from every backend.
    public static func auditDetail(_ proposal: DirectoryProposal) -> String {
        JSONValue.compact([
            ("base_version", .int(proposal.baseVersion)), ("proposed_by", .string(proposal.proposedBy)),
            ("changes", .int(Int64(proposal.changes.count))), ("reasons", .array(proposal.reasons.map { .string($0) })),
        ]).serialized
    }
}
