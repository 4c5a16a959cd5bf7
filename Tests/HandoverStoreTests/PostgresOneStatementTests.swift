import Foundation
import HandoverCore
import HandoverStore
import HandoverTestSupport
import NIOCore
import Testing

@testable import HandoverPostgres

/// A first download and an acknowledgement of a message with no escalation policy are one statement
/// each on PostgreSQL (`MarkPlainDownloadSQL`, `AcknowledgementSQL`). Each is checked against the
/// general path (`apply`) on a twin message: the same row, events, audit entries and facts.
@Suite(
    "PostgreSQL: a download and an acknowledgement in one statement", .enabled(if: PostgresTestServer.url != nil, "\(PostgresTestServer.skipReason)"))
struct PostgresOneStatementTests {
    let t0 = CivilDateTime(year: 2026, month: 11, day: 25, hour: 9).timestamp
    var later: Timestamp { t0.adding(seconds: 90) }

    /// What the store holds about a message, its id left out, so twins compare equal.
    struct Written: Equatable {
        let message: MessageRecord
        let events: [MessageEvent]
        let audit: [String]
        let facts: String?
    }

    func store() async throws -> PostgresStore {
        try await PostgresStore.connect(
            url: try await PostgresTestServer.newDatabase(), maximumConnections: 4, callTimeout: StoreFactory.testCallTimeout)
    }

    /// Two messages alike but for their ids, delivered to BOB: the first goes the one-statement way.
    func twins(_ store: PostgresStore, _ name: String, crossing: Bool, policy: String? = nil) async throws -> (MessageID, MessageID) {
        var message = ScorecardStoreTests().crossing(1)
        if !crossing { message.crossing = nil }
        message.escalationPolicy = policy
        var ids: [MessageID] = []
        for suffix in ["1", "2"] {
            message.id = MessageID(name + suffix)
            let body = StagedChunk(
                uploadID: ChunkStager.newUploadID(now: t0), size: 2, segmentCount: 1, sha256: "", inlineSegment: ByteBuffer(string: "hi"))
            _ = try await store.createMessage(message, firstChunk: body, now: t0)
            ids.append(message.id)
        }
        return (ids[0], ids[1])
    }

    func written(_ store: PostgresStore, _ id: MessageID) async throws -> Written {
        var message = try #require(try await store.message(id))
        (message.id, message.inboxSequence) = (MessageID("TWIN"), nil)
        try await store.sealAudit()
        let audit = try await store.read { tx in
            try await tx.rows("SELECT action, detail FROM audit_log WHERE subject = $1 ORDER BY seq", ["message \(id.rawValue)"]).map {
                "\(try $0("action", as: String.self)) \(try $0("detail", as: String.self))"
            }
        }
        let facts = try await store.read { tx in
            try await tx.row("SELECT (to_jsonb(f) - 'message_id')::text AS v FROM crossing_facts f WHERE message_id = $1", [id.rawValue])
                .map { try $0("v", as: String.self) }
        }
        return Written(message: message, events: try await store.events(messageID: id), audit: audit, facts: facts)
    }

    @Test func anAcknowledgementInOneStatementWritesWhatApplyWrites() async throws {
        let store = try await store()
        for crossing in [true, false] {
            let (fast, general) = try await twins(store, crossing ? "C" : "P", crossing: crossing)
            let oneStatement = try await store.write { [later] tx in
                let current = try #require(try await PostgresStore.fetchMessage(fast, lock: true, tx))
                let transition = try #require(MessageLifecycle.acknowledged(current, now: later))
                return try await PostgresStore.writeAcknowledgement(transition, was: current, now: later, tx)
            }
            #expect(oneStatement)
            _ = try await store.write { [later] tx in
                let current = try #require(try await PostgresStore.fetchMessage(general, lock: true, tx))
                return try await PostgresStore.apply(try #require(MessageLifecycle.acknowledged(current, now: later)), row: .update, now: later, tx)
            }
            let (a, b) = (try await written(store, fast), try await written(store, general))
            #expect(a == b, "crossing: \(crossing)")
            #expect(a.message.status == .acknowledged && a.message.acknowledgedAt == later)
            #expect(a.events.map(\.kind) == ["delivered", "acknowledged"] && a.audit.count == 2)
            #expect((a.facts != nil) == crossing)
        }
        #expect(try await store.countInbox(mailbox: MailboxID("BOB")) == 0, "each left the inbox once")
        // Under an escalation policy an acknowledgement may resolve alerts: left to `apply`.
        let (policy, _) = try await twins(store, "E", crossing: true, policy: "safeguarding")
        let left = try await store.write { [later] tx in
            let current = try #require(try await PostgresStore.fetchMessage(policy, lock: true, tx))
            let transition = try #require(MessageLifecycle.acknowledged(current, now: later))
            return try await PostgresStore.writeAcknowledgement(transition, was: current, now: later, tx)
        }
        #expect(!left)
        #expect(try await store.message(policy)?.status == .accepted, "nothing written")
    }

    @Test func aFirstDownloadInOneStatementWritesWhatTheTransactionWrites() async throws {
        let store = try await store()
        let (fast, general) = try await twins(store, "D", crossing: true)
        try await store.markDownloaded(messageID: fast, now: later)
        try await store.write { [later] tx in
            let message = try #require(try await tx.row(MarkDownloadedSQL.self, [later, general.rawValue]).map(MessageRecord.init(row:)))
            try await PostgresStore.apply(MessageLifecycle.downloaded(message, now: later), row: .written, now: later, tx)
        }
        let first = try await written(store, fast)
        #expect(first == (try await written(store, general)))
        #expect(first.message.downloadedAt == later && first.events.map(\.kind) == ["delivered", "downloaded"])
        // A second download changes nothing.
        try await store.markDownloaded(messageID: fast, now: later.adding(seconds: 5))
        #expect(try await written(store, fast) == first)
        // Under an escalation policy the statement leaves the message to the transaction, which marks it.
        let (policy, _) = try await twins(store, "E", crossing: true, policy: "safeguarding")
        let marked = try await store.writeStatement { [later] tx in
            try await tx.row(MarkPlainDownloadSQL.self, [later, policy.rawValue, "downloaded", "{}", "broker", "message.downloaded", "x"]) != nil
        }
        #expect(!marked)
        try await store.markDownloaded(messageID: policy, now: later)
        let underPolicy = try await written(store, policy)
        #expect(underPolicy.message.downloadedAt == later && underPolicy.events.map(\.kind) == ["delivered", "downloaded"])
    }
}

@Suite("Writes combined into one statement")
struct CombinedWritesTests {
    @Test func placeholdersAreNumberedOnFromPartToPart() {
        #expect(renumbered("a = $1 AND b = $2::text OR c = $10", after: 3) == ("a = $4 AND b = $5::text OR c = $13", 10))
        #expect(renumbered("price $ and $x stay", after: 5) == ("price $ and $x stay", 0))
        #expect(
            combinedWrites(["UPDATE t SET a = $1 WHERE id = $2", "INSERT INTO u VALUES ($1)", "DELETE FROM v WHERE id = $1"])
                == "WITH w0 AS (UPDATE t SET a = $1 WHERE id = $2), w1 AS (INSERT INTO u VALUES ($3)), w2 AS (DELETE FROM v WHERE id = $4) SELECT 1")
    }

    @Test func theAcknowledgementTakesEachPartsArgumentsInTurn() {
        let parameters = [UpdateMessageSQL.sql, LeaveInboxSQL.sql, InsertEventSQL.sql, QueueAuditSQL.sql].map { renumbered($0, after: 0).parameters }
        #expect(parameters == [16, 1, 4, 5])
        #expect(renumbered(UpsertFactsSQL.sql, after: 0).parameters == ScorecardSQL.columns.split(separator: ",").count)
        #expect(renumbered(AcknowledgementWithFactsSQL.sql, after: 0).parameters == 26 + 16)
    }
}
