import Foundation
import HandoverCore
import HandoverStore
import HandoverTestSupport
import NIOCore
import Testing

@testable import HandoverPostgres

/// A first download and an acknowledgement of a message with no escalation policy are one statement
/// each on PostgreSQL (`MarkPlainDownloadSQL`, `AcknowledgeSQL`). Each is checked against the general
/// path (`apply`) on a twin message: the same row, events, audit entries and facts.
@Suite(
    "PostgreSQL: a download and an acknowledgement in one statement", .enabled(if: PostgresTestServer.url != nil, "\(PostgresTestServer.skipReason)"))
struct PostgresOneStatementTests {
    let t0 = CivilDateTime(year: 2026, month: 11, day: 25, hour: 9).timestamp
    var later: Timestamp { t0.adding(seconds: 90) }

    /// What the store holds about a message, its id left out, so twins compare equal.
    struct Written: Equatable {
        let message: MessageRecord
        /// The whole stored row (derived columns such as `crossing_closed_at` too), less its id and positions.
        let row: String
        let events: [MessageEvent]
        let audit: [String]
        let facts: String?
    }

    func store() async throws -> PostgresStore {
        try await PostgresStore.connect(
            url: try await PostgresTestServer.newMigratedDatabase(), maximumConnections: 4, callTimeout: StoreFactory.testCallTimeout)
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

    /// `AcknowledgeSQL`'s arguments for a message as it was `read`.
    func quickArguments(read: MessageRecord, now: Timestamp) throws -> [any SQLArgumentConvertible] {
        let after = try #require(MessageLifecycle.acknowledged(read, now: now)).message
        return after.updateArguments + [read.recipient.rawValue] + read.mutableValues + [now]
            + PostgresStore.eventArguments(read.id, ("acknowledged", "{}"))
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
        let row = try await store.read { tx in
            try await tx.row(
                "SELECT (to_jsonb(m) - 'message_id' - 'seq' - 'inbox_seq')::text AS v FROM messages m WHERE message_id = $1", [id.rawValue]
            )
            .map { try $0("v", as: String.self) }
        }
        let facts = try await store.read { tx in
            try await tx.row("SELECT (to_jsonb(f) - 'message_id')::text AS v FROM crossing_facts f WHERE message_id = $1", [id.rawValue])
                .map { try $0("v", as: String.self) }
        }
        return Written(message: message, row: try #require(row), events: try await store.events(messageID: id), audit: audit, facts: facts)
    }

    @Test func anAcknowledgementInOneStatementWritesWhatApplyWrites() async throws {
        let store = try await store()
        for crossing in [true, false] {
            let (quick, general) = try await twins(store, crossing ? "C" : "P", crossing: crossing)
            let answered = try await store.writeStatement { [later] tx in
                try await PostgresStore.acknowledgeQuickly(quick, recipient: MailboxID("BOB"), now: later, tx)
            }
            guard case .done(let acknowledged) = answered else {
                Issue.record("the one statement was not used (crossing: \(crossing))")
                continue
            }
            #expect(acknowledged?.status == .acknowledged && acknowledged?.acknowledgedAt == later)
            _ = try await store.write { [later] tx in
                let current = try #require(try await PostgresStore.fetchMessage(general, lock: true, tx))
                return try await PostgresStore.apply(try #require(MessageLifecycle.acknowledged(current, now: later)), row: .update, now: later, tx)
            }
            let (a, b) = (try await written(store, quick), try await written(store, general))
            #expect(a == b, "crossing: \(crossing)")
            #expect(
                a.message
                    == acknowledged.map {
                        var m = $0
                        (m.id, m.inboxSequence) = (MessageID("TWIN"), nil)
                        return m
                    })
            #expect(a.events.map(\.kind) == ["delivered", "acknowledged"] && a.audit.count == 2)
            #expect((a.facts != nil) == crossing)
            // Again: already acknowledged, so answered as it is, and nothing more written.
            let again = try await store.writeStatement { [later] tx in
                try await PostgresStore.acknowledgeQuickly(quick, recipient: MailboxID("BOB"), now: later.adding(seconds: 9), tx)
            }
            guard case .done(let unchanged) = again else {
                Issue.record("a second acknowledgement went the general way")
                continue
            }
            #expect(unchanged?.acknowledgedAt == later)
            #expect(try await written(store, quick) == a)
        }
        #expect(try await store.countInbox(mailbox: MailboxID("BOB")) == 0, "each left the inbox once")
    }

    /// The values as read are encoded again for the comparison, so a responsibility record must come
    /// out as the text it was stored as (`StoredJSON`); ten messages, as its keys' order used to vary.
    @Test func aMessageWithAResponsibilityRecordIsAcknowledgedInOneStatement() async throws {
        let store = try await store()
        var record = ResponsibilityRecord()
        (record.state, record.decidedAt, record.note) = (.declined, t0.adding(seconds: 30), "Not ours")
        (record.decidedBy, record.declineReason) = (Person(name: "Sam Duty", role: "Social worker", team: "Adults"), "wrong-service")
        for i in 0..<10 {
            var message = ScorecardStoreTests().crossing(1)
            (message.id, message.responsibility, message.crossing) = (MessageID("RESP\(i)"), record, nil)
            let body = StagedChunk(
                uploadID: ChunkStager.newUploadID(now: t0), size: 2, segmentCount: 1, sha256: "", inlineSegment: ByteBuffer(string: "hi"))
            _ = try await store.createMessage(message, firstChunk: body, now: t0)
            let id = message.id
            let answered = try await store.writeStatement { [later] tx in
                try await PostgresStore.acknowledgeQuickly(id, recipient: MailboxID("BOB"), now: later, tx)
            }
            #expect(!answered.isGeneral, "message \(i) went the general way")
            #expect(try await store.message(id)?.responsibility == record)
        }
    }

    @Test func concurrentAcknowledgementsOfOneMessageCountOnce() async throws {
        let store = try await store()
        let (message, other) = try await twins(store, "A", crossing: true)
        let answers = try await withThrowingTaskGroup(of: MessageRecord?.self) { group in
            for i in Int64(0)..<12 {
                group.addTask { [later] in try await store.acknowledge(messageID: message, recipient: MailboxID("BOB"), now: later.adding(seconds: i))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.count == 12 && answers.allSatisfy { $0?.status == .acknowledged })
        let stored = try await written(store, message)
        #expect(Set(answers.map { $0?.acknowledgedAt }) == [stored.message.acknowledgedAt], "every answer is the one acknowledgement")
        #expect(stored.events.map(\.kind) == ["delivered", "acknowledged"] && stored.audit.count == 2)
        #expect(try await store.countInbox(mailbox: MailboxID("BOB")) == 1, "only \(other) is left")
    }

    @Test func whatTheStatementCannotCarryGoesTheGeneralWay() async throws {
        let store = try await store()
        // Under an escalation policy an acknowledgement may resolve alerts.
        let (policy, _) = try await twins(store, "E", crossing: true, policy: "safeguarding")
        let underPolicy = try await store.writeStatement { [later] tx in
            try await PostgresStore.acknowledgeQuickly(policy, recipient: MailboxID("BOB"), now: later, tx)
        }
        #expect(underPolicy.isGeneral)
        #expect(try await store.message(policy)?.status == .accepted, "nothing written")
        #expect(try await store.acknowledge(messageID: policy, recipient: MailboxID("BOB"), now: later)?.status == .acknowledged)
        // Changed since it was read (here: downloaded): the statement changes nothing, so the download's
        // mark is not lost, and the acknowledgement goes the general way.
        let (raced, _) = try await twins(store, "R", crossing: false)
        let stale = try #require(try await store.message(raced))
        let downloadedAt = t0.adding(seconds: 5)
        try await store.markDownloaded(messageID: raced, now: downloadedAt)
        let arguments = try quickArguments(read: stale, now: later)
        #expect(try await store.writeStatement { tx in try await tx.row(AcknowledgeSQL.self, arguments) } == nil)
        #expect(try await store.message(raced)?.status == .accepted)
        let acknowledged = try await store.acknowledge(messageID: raced, recipient: MailboxID("BOB"), now: later)
        #expect(acknowledged?.status == .acknowledged && acknowledged?.downloadedAt == downloadedAt)
        #expect(try await store.message(raced)?.downloadedAt == downloadedAt)
        // Acknowledged since it was read: nothing either.
        #expect(try await store.writeStatement { tx in try await tx.row(AcknowledgeSQL.self, arguments) } == nil)
        #expect(try await written(store, raced).events.map(\.kind) == ["delivered", "downloaded", "acknowledged"])
        // Another mailbox's message, and none at all.
        await #expect(throws: MeshError.forbidden) {
            _ = try await store.acknowledge(messageID: raced, recipient: MailboxID("CAROL"), now: later)
        }
        #expect(try await store.acknowledge(messageID: MessageID("NONE"), recipient: MailboxID("BOB"), now: later) == nil)
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
            try await tx.row(MarkPlainDownloadSQL.self, [later, policy.rawValue] + PostgresStore.eventArguments(policy, ("downloaded", "{}"))) != nil
        }
        #expect(!marked)
        try await store.markDownloaded(messageID: policy, now: later)
        let underPolicy = try await written(store, policy)
        #expect(underPolicy.message.downloadedAt == later && underPolicy.events.map(\.kind) == ["delivered", "downloaded"])
    }
}

extension PostgresStore.QuickAcknowledgement {
    var isGeneral: Bool {
        if case .general = self { return true }
        return false
    }
}
