import HandoverCore
import Testing

@testable import HandoverSQLite

/// Queries that must keep finding their index after an index is narrowed for the send path's sake.
@Suite("SQLite query plans")
struct SQLiteQueryPlanTests {
    @Test func trackingByLocalIDSearchesThePartialIndex() throws {
        let (path, _) = StoreFactory.temporaryPath()
        let store = try SQLiteStore(path: path)
        let plan = try store.queryPlan(SQLiteStore.byLocalIDSQL, arguments: ["MAILBOX01", "local-1"])
        #expect(plan.contains { $0.contains("USING INDEX messages_sender_local (sender=? AND local_id=?)") }, "\(plan)")
        // Narrowed: a message without a local id (most machine sends) writes no entry, so SQLite
        // refuses the index for a query about such messages ("no query solution").
        #expect(throws: (any Error).self) {
            try store.queryPlan("SELECT 1 FROM messages INDEXED BY messages_sender_local WHERE sender = 'A' AND local_id IS NULL")
        }
    }

    @Test func aListingReadsItsPageFromTheInboxIndexAndItsCountByKey() throws {
        let (path, _) = StoreFactory.temporaryPath()
        let store = try SQLiteStore(path: path)
        for filter in [nil, WorkflowFilter("WF_A*")] {
            let (sql, arguments) = SQLiteStore.inboxPageQuery(mailbox: MailboxID("MAILBOX01"), afterSequence: 10, filter: filter, limit: 500)
            let plan = try store.queryPlan(sql, arguments: arguments)
            #expect(plan.contains { $0.contains("USING INDEX messages_inbox (recipient=? AND inbox_seq>?)") }, "\(plan)")
            #expect(plan.contains { $0.contains("SEARCH c USING INDEX sqlite_autoindex_inbox_counts_1 (mailbox=?)") }, "\(plan)")
            #expect(!plan.contains { $0.contains("SCAN messages") }, "\(plan)")
        }
    }

    @Test func purgingFindsDeliveredMessagesInThePartialIndex() throws {
        let (path, _) = StoreFactory.temporaryPath()
        let store = try SQLiteStore(path: path)
        let plan = try store.queryPlan(SQLiteStore.purgeCandidatesSQL, arguments: [1_000_000, 100])
        #expect(plan.contains { $0.contains("USING INDEX messages_purge (delivered_at<?)") }, "\(plan)")
        // Narrowed: an undelivered message writes no entry, so SQLite refuses the index for one.
        #expect(throws: (any Error).self) {
            try store.queryPlan("SELECT 1 FROM messages INDEXED BY messages_purge WHERE payload_purged = 0 AND delivered_at IS NULL")
        }
    }
}
