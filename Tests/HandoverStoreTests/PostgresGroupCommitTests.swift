import Foundation
import HandoverCore
import HandoverStore
import HandoverTestSupport
import NIOCore
import Testing

@testable import HandoverPostgres

/// PostgreSQL's group commit on the client side (`ClientGroupCommit`): concurrent plain deliveries
/// and token spends share statements, and each is written as it would be alone.
@Suite("PostgreSQL: concurrent writes share statements", .enabled(if: PostgresTestServer.url != nil, "\(PostgresTestServer.skipReason)"))
struct PostgresGroupCommitTests {
    let t0 = CivilDateTime(year: 2026, month: 11, day: 25, hour: 9).timestamp
    let recipients = ["BOB", "CAROL", "DAVE", "ERIN"]

    func store() async throws -> PostgresStore {
        try await PostgresStore.connect(
            url: try await PostgresTestServer.newMigratedDatabase(), maximumConnections: 8, callTimeout: StoreFactory.testCallTimeout)
    }

    /// Every other message is a crossing X26 → X27, so carries scorecard facts; the rest do not. Every
    /// third has its optional fields filled, so a batch mixes present and absent values in each column.
    func message(_ i: Int) -> MessageRecord {
        var m = ScorecardStoreTests().crossing(i % 12)
        m.id = MessageID("B\(i)")
        m.recipient = MailboxID(recipients[i % recipients.count])
        if i % 2 == 1 { m.crossing = nil }
        if i % 3 == 0 {
            (m.subject, m.localID, m.partnerID, m.fileName) = ("Discharge \(i)", "L\(i)", "P-\(i)", "summary-\(i).xml")
            (m.checksum, m.contentType, m.contentCompressed, m.contentEncrypted) = ("md5-\(i)", "application/xml", true, false)
            (m.linkedMessageID, m.escalationPolicy) = (MessageID("B\(i + 1)"), "safeguarding")
        }
        return m
    }

    func body(_ i: Int) -> StagedChunk {
        StagedChunk(
            uploadID: ChunkStager.newUploadID(now: t0), size: 4, segmentCount: 1, sha256: "",
            inlineSegment: ByteBuffer(bytes: withUnsafeBytes(of: UInt32(i).bigEndian, Array.init)))
    }

    @Test func concurrentDeliveriesShareStatementsAndEachInboxKeepsItsOrder() async throws {
        let store = try await store()
        defer { store.cancel() }
        let count = 240
        let created = try await withThrowingTaskGroup(of: (Int, MessageRecord).self) { group in
            for i in 0..<count {
                group.addTask { (i, try await store.createMessage(message(i), firstChunk: body(i), now: t0)) }
            }
            return try await group.reduce(into: [Int: MessageRecord]()) { $0[$1.0] = $1.1 }
        }
        let positions = created.mapValues(\.inboxSequence)
        let (statements, delivered) = (store.deliveries.statements, store.deliveries.written)
        #expect(delivered == count)
        #expect(statements < count / 4, "\(count) concurrent deliveries took \(statements) statements")

        // Every position distinct, each inbox listing its messages in position order, every body back.
        #expect(Set(positions.values.compactMap { $0 }).count == count)
        for (r, recipient) in recipients.enumerated() {
            let mine = (0..<count).filter { $0 % recipients.count == r }
            #expect(try await store.countInbox(mailbox: MailboxID(recipient)) == mine.count)
            let page = try await store.listInbox(mailbox: MailboxID(recipient), afterSequence: nil, filter: nil, limit: 500)
            #expect(page.entries.map(\.sequence) == mine.compactMap { positions[$0] ?? nil }.sorted())
            #expect(Set(page.entries.map(\.id.rawValue)) == Set(mine.map { "B\($0)" }))
        }
        for i in [0, 1, 117, 239] {
            let chunk = try #require(try await store.chunk(messageID: MessageID("B\(i)"), number: 1))
            let bytes = try #require(try await store.segment(uploadID: chunk.uploadID, index: 0))
            #expect(bytes == body(i).inlineSegment)
            #expect(try await store.events(messageID: MessageID("B\(i)")).map(\.kind) == ["delivered"])
        }
        // Every message reads back as the one written, field by field, present and absent values alike.
        for i in 0..<count {
            let stored = try #require(try await store.message(MessageID("B\(i)")))
            #expect(stored.status == .accepted && stored == created[i], "B\(i) reads back as written")
        }
        // The companions of every message: its event, its audit entry, and the crossings' facts.
        #expect(try await store.rowCount(table: "message_events") == count)
        #expect(try await store.rowCount(table: "crossing_facts") == count / 2)
        try await store.sealAudit()
        let audit = try await store.auditEntries(afterSequence: 0, limit: 1000).filter { $0.action == "message.delivered" }
        #expect(Set(audit.map(\.subject)) == Set((0..<count).map { "message B\($0)" }))
        // The day sums, added once per statement by the insert trigger, count every crossing once.
        let daySum = try await store.read { tx in try await tx.row("SELECT sum(n)::BIGINT AS n, sum(provenance)::BIGINT AS p FROM crossing_days") }
        #expect(try daySum?("n", as: Int64.self) == Int64(count / 2))
        #expect(try daySum?("p", as: Int64.self) == Int64(count / 2))
        let tallies = try await store.boundaryTallies(since: t0.adding(seconds: -3 * 86_400), until: t0.adding(seconds: 3 * 86_400), now: t0)
        #expect(tallies.map(\.crossings) == [count / 2])
    }

    /// A batch the server refuses is written by none of it; each of its deliveries is then written
    /// alone, so only the bad one fails.
    @Test func aRefusedBatchFailsOnlyItsBadDelivery() async throws {
        let store = try await store()
        defer { store.cancel() }
        func plain(_ m: MessageRecord, _ i: Int) -> PlainDelivery {
            let delivered = MessageLifecycle.created(m, firstChunkSize: 4, now: t0).message
            return PlainDelivery(record: delivered, chunk: body(i), inline: body(i).inlineSegment!, now: t0)
        }
        var twin = message(3)
        twin.recipient = MailboxID("ERIN")
        let alone = await PostgresStore.writeDeliveries([plain(message(2), 2), plain(message(3), 3), plain(twin, 4)], in: store)
        #expect(alone.map { (try? $0.get()) != nil }.filter { $0 }.count == 2)
        #expect((try? alone[0].get()) != nil, "the neighbour of a refused delivery is written")
        #expect(try await store.message(MessageID("B2"))?.status == .accepted)
        #expect(try await store.message(MessageID("B3"))?.status == .accepted)

        // Through the batcher, with neighbours: the twins' second fails, everything else is delivered.
        let results = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
            for i in 0..<64 {
                group.addTask {
                    var m = message(i)
                    m.id = MessageID("N\(i == 63 ? 5 : i)")
                    do {
                        _ = try await store.createMessage(m, firstChunk: body(i), now: t0)
                        return (m.id.rawValue, true)
                    } catch { return (m.id.rawValue, false) }
                }
            }
            return try await group.reduce(into: [(String, Bool)]()) { $0.append($1) }
        }
        #expect(results.filter { !$0.1 }.map(\.0) == ["N5"])
        #expect(results.filter(\.1).count == 63)
        var waiting = 0
        for recipient in recipients { waiting += try await store.countInbox(mailbox: MailboxID(recipient)) }
        #expect(waiting == 63 + 2)
    }

    /// Concurrent spends share statements; each digest is spent once, by one of the requests that
    /// carried it, whether its twin came in the same statement or in another.
    @Test func concurrentTokenSpendsShareStatementsAndEachDigestIsSpentOnce() async throws {
        let store = try await store()
        defer { store.cancel() }
        let expiry = t0.adding(seconds: 7200)
        let spent = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            for i in 0..<400 {
                group.addTask { (i % 200, try await store.spendToken(digest: "d\(i % 200)", expiresAt: expiry, now: t0)) }
            }
            return try await group.reduce(into: [Int: Int]()) { counts, result in if result.1 { counts[result.0, default: 0] += 1 } }
        }
        #expect(spent.count == 200 && spent.values.allSatisfy { $0 == 1 }, "each digest spent once: \(spent.filter { $0.value != 1 })")
        #expect(try await store.spendToken(digest: "d7", expiresAt: expiry, now: t0) == false)
        #expect(try await store.spendToken(digest: "fresh", expiresAt: expiry, now: t0) == true)
        let statements = store.tokenSpends.statements
        #expect(statements < 100, "402 concurrent spends took \(statements) statements")
        // One token twice in one batch: the first spends it, the second is a replay.
        let twice = await PostgresStore.spendTokens(
            [TokenSpend(digest: "t", expiresAt: expiry), TokenSpend(digest: "t", expiresAt: expiry)], in: store)
        #expect(twice.map { try? $0.get() } == [true, false])
    }

    /// A send's token spent in its delivery's statement: of the sends carrying one token, in one
    /// statement or in several, exactly one is delivered; a token spent before, by either path,
    /// delivers nothing; and a send that is not a plain delivery spends its token first.
    @Test func aTokenSpentWithItsDeliveryDeliversOnce() async throws {
        let store = try await store()
        defer { store.cancel() }
        let expiry = t0.adding(seconds: 7200)
        func token(_ name: String) -> TokenSpend { TokenSpend(digest: name, expiresAt: expiry) }
        func send(_ i: Int, spending digest: String, body: StagedChunk? = nil) async throws -> Bool {
            var m = message(i)
            m.id = MessageID("T\(i)")
            do {
                _ = try await store.createMessage(m, firstChunk: body ?? self.body(i), now: t0, onDelivery: nil, spending: token(digest))
                return true
            } catch is TokenAlreadySpent { return false }
        }
        let count = 120
        let delivered = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
            for i in 0..<count { group.addTask { ("k\(i % 40)", try await send(i, spending: "k\(i % 40)")) } }
            return try await group.reduce(into: [String: Int]()) { counts, result in if result.1 { counts[result.0, default: 0] += 1 } }
        }
        #expect(delivered.count == 40 && delivered.values.allSatisfy { $0 == 1 }, "each token delivers once: \(delivered.filter { $0.value != 1 })")
        #expect(store.deliveries.statements < count / 4, "\(count) concurrent sends took \(store.deliveries.statements) statements")
        var waiting = 0
        for recipient in recipients { waiting += try await store.countInbox(mailbox: MailboxID(recipient)) }
        #expect(waiting == 40)
        #expect(try await store.rowCount(table: "message_events") == 40)
        #expect(try await store.spendToken(digest: "k7", expiresAt: expiry, now: t0) == false, "a delivery's token is spent for every instance")

        // Spent on its own first, then carried by a send (alone, and in a batch): nothing is written.
        #expect(try await store.spendToken(digest: "early", expiresAt: expiry, now: t0))
        #expect(try await send(1000, spending: "early") == false)
        #expect(try await store.message(MessageID("T1000")) == nil)
        let mixed = await PostgresStore.writeDeliveries(
            [1001, 1002].map { i in
                var m = message(i)
                m.id = MessageID("T\(i)")
                let delivered = MessageLifecycle.created(m, firstChunkSize: 4, now: t0).message
                return PlainDelivery(
                    record: delivered, chunk: body(i), inline: body(i).inlineSegment!, now: t0, token: token(i == 1001 ? "early" : "fresh"))
            }, in: store)
        #expect(mixed.map { (try? $0.get()) != nil } == [false, true])
        #expect(mixed.first.map { if case .failure(let error) = $0 { error is TokenAlreadySpent } else { false } } == true)
        #expect(try await store.message(MessageID("T1001")) == nil)
        #expect(try await store.message(MessageID("T1002"))?.status == .accepted)

        // Too large for its row, so not a plain delivery: the token is spent first, then the message written.
        let large = ByteBuffer(repeating: 7, count: StagedChunk.rowInlineLimit + 1)
        let staged = StagedChunk(
            uploadID: ChunkStager.newUploadID(now: t0), size: Int64(large.readableBytes), segmentCount: 1, sha256: "", inlineSegment: large)
        #expect(try await send(1003, spending: "large", body: staged))
        #expect(try await store.message(MessageID("T1003"))?.status == .accepted)
        #expect(try await send(1004, spending: "large", body: staged) == false)
        #expect(try await store.message(MessageID("T1004")) == nil)
    }
}

/// The batch statement's columns and each delivery's argument block are built apart; they must agree.
@Suite("PostgreSQL: delivery statement shapes")
struct DeliverySQLShapeTests {
    @Test(arguments: [true, false])
    func everyFieldOfABlockHasItsColumn(withFacts: Bool) throws {
        var message = ScorecardStoreTests().crossing(0)
        if !withFacts { message.crossing = nil }
        let facts = ScorecardRow(message: message)
        #expect((facts != nil) == withFacts)
        var list = ArgumentList()
        let chunk = StagedChunk(uploadID: "u", size: 1, segmentCount: 1, sha256: "", inlineSegment: ByteBuffer(string: "x"))
        DeliverySQL.arguments(message, facts: facts, chunk: chunk, inline: ByteBuffer(string: "x"), now: message.createdAt, into: &list)
        let arguments = list.values
        #expect(DeliveryPlaceholders(from: 1, facts: withFacts).next - 1 == arguments.count)
        #expect(arguments.count + (withFacts ? 0 : DeliverySQL.factColumnCount) + DeliveryBatch.tokenFields.count == DeliveryBatch.layout.count)
        #expect(DeliveryBatch.layout.count == DeliverySQL.mostArgumentsPerDelivery + DeliveryBatch.tokenFields.count)
        // The facts sit where the layout says, and a delivery without them has NULL there; so the token.
        let delivery = PlainDelivery(record: message, chunk: chunk, inline: ByteBuffer(string: "x"), now: message.createdAt)
        var spending = delivery
        spending.token = TokenSpend(digest: "d", expiresAt: message.createdAt)
        let columns = try DeliveryBatch.columns([delivery, spending])
        let factsID = try #require(columns.first { $0.column == "f_message_id" })
        if case .text(let id) = factsID.values[0] { #expect(withFacts && id == message.id.rawValue) } else { #expect(!withFacts) }
        let token = try #require(columns.first { $0.column == "x_token" })
        #expect(token.values.map { if case .text(let digest) = $0 { digest } else { nil } } == [nil, "d"])
        // One placeholder per column, whatever the batch's size.
        #expect(DeliveryBatch.sql.contains("$\(columns.count)::") && !DeliveryBatch.sql.contains("$\(columns.count + 1)"))
    }

    @Test func aBatchRowThatDoesNotFillEveryColumnIsRefused() throws {
        var columns = BatchColumns(count: 3, rows: 2)
        columns.add("a")
        columns.absent(count: 1)
        #expect(throws: BatchColumns.RowLengthMismatch.self) { try columns.endRow() }
        columns.add("b")
        columns.absent(count: 3)
        #expect(throws: BatchColumns.RowLengthMismatch.self) { try columns.endRow() }
        columns.add("c")
        columns.add(Int64(1))
        columns.absent(count: 1)
        try columns.endRow()
        guard case .text("c") = columns.values[0].last, case .integer(1) = columns.values[1].last, case .null = columns.values[2].last else {
            Issue.record("the full row is not at the columns' ends: \(columns.values)")
            return
        }
    }

    @Test func aValueOfTheWrongKindIsRefusedBeforeItIsSent() {
        var buffer = ByteBuffer()
        let column = NullableArray(column: "x_size", element: .int8, values: [.integer(1), .null, .text("2")])
        #expect(throws: NullableArray.MismatchedElement.self) { try column.encode(into: &buffer, context: .default) }
    }
}

/// The batch's array types against the schema PostgreSQL holds: a text sent into a number column, or
/// a number into a text one, would be refused or silently converted.
@Suite("PostgreSQL: delivery batch types", .enabled(if: PostgresTestServer.url != nil, "\(PostgresTestServer.skipReason)"))
struct DeliveryBatchTypeTests {
    @Test func everyColumnIsSentAsItsSchemaType() async throws {
        let store = try await PostgresGroupCommitTests().store()
        defer { store.cancel() }
        let schema = try await store.read { tx in
            var types: [String: String] = [:]
            let sql = "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_name IN ('messages', 'crossing_facts')"
            for row in try await tx.rows(sql) {
                let table: String = try row("table_name")
                types[(table == "crossing_facts" ? "f_" : "") + (try row("column_name") as String)] = try row("data_type")
            }
            return types
        }
        let sent: [NullableArray.Element: Set<String>] = [
            .text: ["text"], .int8: ["bigint", "integer"], .bool: ["boolean"], .float8: ["double precision"],
        ]
        let columns = DeliveryBatch.layout.filter { !$0.name.hasPrefix("x_") }
        #expect(columns.count == DeliverySQL.messageColumnCount - 1 + DeliverySQL.factColumnCount)
        for (name, element) in columns {
            let type = try #require(schema[name], "\(name) is a column")
            #expect(sent[element]?.contains(type) == true, "\(name) is \(type) but sent as \(element)")
        }
    }
}

/// A transaction's queued timeline events and audit entries go in one prepared statement whatever
/// their numbers: events alone, entries alone, or both, each in the order queued.
@Suite("PostgreSQL: queued rows", .enabled(if: PostgresTestServer.url != nil, "\(PostgresTestServer.skipReason)"))
struct QueuedRowsTests {
    @Test func eventsAndAuditEntriesOfAnyNumberAreWrittenInOrder() async throws {
        let store = try await PostgresGroupCommitTests().store()
        defer { store.cancel() }
        let t0 = CivilDateTime(year: 2026, month: 11, day: 25, hour: 9).timestamp
        func queue(events: Int, audit: Int, tag: String) async throws {
            try await store.write { tx in
                for i in 0..<events { tx.pendingEvents.append(("Q-\(tag.uppercased())", t0.adding(seconds: Int64(i)), "kind-\(i)", "{\"n\":\(i)}")) }
                for i in 0..<audit { tx.audit(AuditRecord(actor: "tester", action: "test.\(tag)", subject: "s\(i)", detail: "{}"), now: t0) }
            }
        }
        try await queue(events: 3, audit: 0, tag: "events")
        try await queue(events: 0, audit: 2, tag: "audit")
        try await queue(events: 1, audit: 1, tag: "both")
        #expect(try await store.events(messageID: MessageID("Q-EVENTS")).map(\.kind) == ["kind-0", "kind-1", "kind-2"])
        #expect(try await store.events(messageID: MessageID("Q-BOTH")).map(\.kind) == ["kind-0"])
        try await store.sealAudit()
        let entries = try await store.auditEntries(afterSequence: 0, limit: 100).filter { $0.actor == "tester" }
        #expect(entries.map { "\($0.action) \($0.subject)" } == ["test.audit s0", "test.audit s1", "test.both s0"])
    }
}
