import Foundation
import HandoverCore
import HandoverStore
import HandoverTestSupport
import NIOCore
import Testing

/// The rich inbox and outbox on every backend: which messages, in what order, paged without gaps.
@Suite("Rich listings in the store")
struct RichListingStoreTests {
    let t0 = CivilDateTime(year: 2026, month: 11, day: 25, hour: 12).timestamp

    func message(_ id: String, from: String = "ALICE", to: String = "BOB", at seconds: Int64, total: Int = 1) -> MessageRecord {
        MessageRecord(
            id: MessageID(id), sender: MailboxID(from), recipient: MailboxID(to), workflowID: "WF", totalChunks: total,
            status: .uploading, createdAt: t0.adding(seconds: seconds), expirySeconds: 3600)
    }

    func ids(_ records: [MessageRecord]) -> [String] { records.map(\.id.rawValue) }

    @Test(arguments: StoreFactory.all)
    func everyStatusInOrderAndPagedWithoutGaps(factory: StoreFactory) async throws {
        let store = try await factory.make()
        func send(_ m: MessageRecord) async throws {
            _ = try await store.createMessage(m, firstChunk: StagedChunk.inline("x", now: m.createdAt), now: m.createdAt)
        }
        // B1 and B2 share a creation time: the id breaks the tie.
        for (id, at) in [("B1", 10), ("B2", 10), ("B3", 20), ("B4", 30), ("B5", 40)] { try await send(message(id, at: Int64(at))) }
        try await send(message("UP", at: 50, total: 2))  // still uploading: not in BOB's inbox, in ALICE's outbox
        try await send(message("C1", from: "CAROL", to: "BOB", at: 45))
        try await send(message("X1", from: "BOB", to: "CAROL", at: 15))  // BOB's outbox, not his inbox
        _ = try await store.acknowledge(messageID: MessageID("B2"), recipient: MailboxID("BOB"), now: t0.adding(seconds: 60))

        func inbox(since: Int64 = 0, after: RichListingPosition? = nil, limit: Int = 100) async throws -> [MessageRecord] {
            try await store.richListing(
                RichListingQuery(
                    side: .inbox, mailbox: MailboxID("BOB"), since: t0.adding(seconds: since), after: after,
                    limit: limit))
        }
        // Acknowledged messages stay listed; uploading ones and other mailboxes' do not.
        // Newest first; B1 and B2 share a time, so the greater id comes first.
        #expect(ids(try await inbox()) == ["C1", "B5", "B4", "B3", "B2", "B1"])
        #expect(try await inbox().first { $0.id == MessageID("B2") }?.status == .acknowledged)
        // Created strictly after `since`.
        #expect(ids(try await inbox(since: 20)) == ["C1", "B5", "B4"])
        // Pages of two: each asks one more than it shows, and the next starts after the last shown.
        var seen: [String] = []
        var after: RichListingPosition?
        for _ in 0..<10 {
            let page = try await inbox(after: after, limit: 2)
            seen += ids(Array(page.prefix(2)))
            guard page.count > 2, let last = page.prefix(2).last else { break }
            after = RichListingPosition(createdAt: last.createdAt, messageID: last.id)
        }
        #expect(seen == ["C1", "B5", "B4", "B3", "B2", "B1"])

        let outbox = try await store.richListing(RichListingQuery(side: .outbox, mailbox: MailboxID("ALICE"), since: t0, after: nil, limit: 100))
        #expect(ids(outbox) == ["UP", "B5", "B4", "B3", "B2", "B1"])
        let second = try await store.richListing(
            RichListingQuery(
                side: .outbox, mailbox: MailboxID("ALICE"), since: t0,
                after: RichListingPosition(createdAt: t0.adding(seconds: 20), messageID: MessageID("B3")), limit: 100))
        #expect(ids(second) == ["B2", "B1"])
        #expect(
            ids(try await store.richListing(RichListingQuery(side: .outbox, mailbox: MailboxID("BOB"), since: t0, after: nil, limit: 9))) == ["X1"])
        await store.close()
    }

    @Test func aCursorOpensOnlyTheListingItWasMadeFor() {
        let position = RichListingPosition(createdAt: t0, messageID: MessageID("20261125120000000000_ABCDEF"))
        let token = position.token(side: .inbox, mailbox: MailboxID("BOB"))
        #expect(RichListingPosition.parse(token, side: .inbox, mailbox: MailboxID("BOB")) == position)
        #expect(RichListingPosition.parse(token, side: .outbox, mailbox: MailboxID("BOB")) == nil)
        #expect(RichListingPosition.parse(token, side: .inbox, mailbox: MailboxID("ALICE")) == nil)
        #expect(RichListingPosition.parse("not-a-cursor", side: .inbox, mailbox: MailboxID("BOB")) == nil)
        #expect(RichListingPosition.parse(String(repeating: "A", count: 2000), side: .inbox, mailbox: MailboxID("BOB")) == nil)
        #expect(RichListingQuery.limit(nil, side: .inbox) == 100 && RichListingQuery.limit("2000", side: .inbox) == 2000)
        #expect(RichListingQuery.limit("0", side: .inbox) == nil && RichListingQuery.limit("2001", side: .inbox) == nil)
        #expect(RichListingQuery.limit("5000", side: .outbox) == 100 && RichListingQuery.limit("9", side: .outbox) == nil)
        #expect(RichListingQuery.limit("-5", side: .inbox) == nil && RichListingQuery.limit("๒", side: .inbox) == nil)
    }
}
