import Foundation
import HandoverCore
import HandoverStore
import Testing

/// Proposals wait for a second admin: each store saves them, approves one only in the same
/// transaction as the version it makes (never by its proposer, never twice), and rejects them.
@Suite("Directory store: proposals for a second admin")
struct DirectoryProposalStoreTests {
    let t0 = CivilDateTime(year: 2026, month: 12, day: 1, hour: 9).timestamp

    func document(_ orgs: [String]) -> DirectoryDocument { DirectoryStoreTests().document(orgs) }

    @Test(arguments: StoreFactory.all)
    func aProposalIsApprovedOnceByAnotherAdminInTheSameTransactionAsItsVersion(factory: StoreFactory) async throws {
        let store = try await factory.make()
        _ = try await store.saveDirectory(document(["A"]), expectedVersion: nil, actor: "t", changes: [], now: t0)
        let change = DirectoryChange(kind: .added, entity: "organisation", id: "B", before: nil, after: "B")
        let id = try await store.saveDirectoryProposal(
            DirectoryProposal(
                baseVersion: 1, document: nil, changes: [change], reasons: ["workflow SG changed"], proposedBy: "admin:ann", proposedAt: t0),
            document: document(["A", "B"]), now: t0)
        let saved = try #require(try await store.directoryProposal(id))
        #expect(saved.state == .pending && saved.baseVersion == 1 && saved.reasons == ["workflow SG changed"] && saved.changes == [change])
        #expect(saved.document == document(["A", "B"]) && saved.decidedBy == nil && saved.appliedVersion == nil)

        // Its proposer cannot approve it: refused, and no version is saved.
        await #expect(throws: ProposalRefusal.sameAdmin) {
            _ = try await store.saveDirectory(
                document(["A", "B"]), expectedVersion: 1, actor: "admin:ann", changes: [change], now: t0,
                approving: ProposalApproval(proposal: id, approver: "admin:ann"))
        }
        #expect(try await store.currentDirectoryVersion() == 1)
        // A version conflict saves nothing and leaves the proposal pending.
        await #expect(throws: DirectoryVersionConflict(expected: 7, current: 1)) {
            _ = try await store.saveDirectory(
                document(["A", "B"]), expectedVersion: 7, actor: "admin:bob", changes: [change], now: t0,
                approving: ProposalApproval(proposal: id, approver: "admin:bob"))
        }
        #expect(try await store.directoryProposal(id)?.state == .pending)

        let version = try await store.saveDirectory(
            document(["A", "B"]), expectedVersion: 1, actor: "admin:bob", changes: [change], now: t0.adding(seconds: 60),
            approving: ProposalApproval(proposal: id, approver: "admin:bob"))
        let approved = try #require(try await store.directoryProposal(id))
        #expect(version == 2 && approved.state == .approved && approved.decidedBy == "admin:bob" && approved.appliedVersion == 2)
        #expect(approved.decidedAt == t0.adding(seconds: 60))
        // Never twice, and never rejected afterwards.
        await #expect(throws: ProposalRefusal.decided(.approved)) {
            _ = try await store.saveDirectory(
                document(["A", "B", "C"]), expectedVersion: 2, actor: "admin:cy", changes: [], now: t0,
                approving: ProposalApproval(proposal: id, approver: "admin:cy"))
        }
        await #expect(throws: ProposalRefusal.decided(.approved)) { try await store.rejectDirectoryProposal(id, actor: "admin:cy", now: t0) }
        await #expect(throws: ProposalRefusal.notFound) { try await store.rejectDirectoryProposal(999, actor: "admin:cy", now: t0) }
        await #expect(throws: ProposalRefusal.notFound) {
            _ = try await store.saveDirectory(
                document(["A"]), expectedVersion: 2, actor: "admin:cy", changes: [], now: t0,
                approving: ProposalApproval(proposal: 999, approver: "x"))
        }

        let audit = try await store.auditEntries(afterSequence: 0, limit: 100).map { "\($0.actor) \($0.action) \($0.subject)" }
        #expect(audit.contains("admin:ann directory.proposed proposal \(id)"))
        #expect(audit.contains("admin:bob directory.proposal_approved proposal \(id)"))
        #expect(try await store.verifyAuditChain() == .intact(entries: audit.count))
    }

    @Test(arguments: StoreFactory.all)
    func aRejectedProposalIsListedAfterThePendingOnes(factory: StoreFactory) async throws {
        let store = try await factory.make()
        _ = try await store.saveDirectory(document(["A"]), expectedVersion: nil, actor: "t", changes: [], now: t0)
        var ids: [Int64] = []
        for who in ["admin:ann", "admin:bob", "admin:cy"] {
            ids.append(
                try await store.saveDirectoryProposal(
                    DirectoryProposal(baseVersion: 1, document: nil, changes: [], reasons: [], proposedBy: who, proposedAt: t0),
                    document: document(["A", who]), now: t0))
        }
        try await store.rejectDirectoryProposal(ids[2], actor: "admin:cy", now: t0)
        let rejected = try #require(try await store.directoryProposal(ids[2]))
        #expect(rejected.state == .rejected && rejected.decidedBy == "admin:cy" && rejected.appliedVersion == nil)
        let listed = try await store.directoryProposals(limit: 10)
        #expect(listed.map(\.id) == [ids[1], ids[0], ids[2]])
        #expect(listed.allSatisfy { $0.document == nil } && rejected.document == document(["A", "admin:cy"]), "listings leave the documents out")
        #expect(try await store.directoryProposals(limit: 1).map(\.id) == [ids[1]])
        #expect(try await store.auditEntries(afterSequence: 0, limit: 100).contains { $0.action == "directory.proposal_rejected" })
    }
}
