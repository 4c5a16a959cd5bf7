import GRDB
import HandoverCore
import HandoverStore
import Testing

@testable import HandoverSQLite

/// A listing's page and count come from one statement that does not sort; the page is put in inbox
/// order after it is read.
@Suite("Inbox page order")
struct InboxPageTests {
    @Test func entriesArePutInInboxOrderBeforeTheLimitIsApplied() {
        let entries = [5, 2, 9, 3].map { InboxEntry(id: MessageID("m\($0)"), sequence: Int64($0)) }
        let page = InboxPage(count: 7, entries: entries, limit: 3)
        #expect(page.entries.map(\.sequence) == [2, 3, 5])
        #expect(page.hasMore)
        #expect(page.count == 7)
        let whole = InboxPage(count: nil, entries: entries, limit: 4)
        #expect(whole.entries.map(\.sequence) == [2, 3, 5, 9] && !whole.hasMore && whole.count == 0)
    }

    @Test func theSQLiteListingNeedsNoTemporarySort() throws {
        let (path, _) = StoreFactory.temporaryPath()
        let store = try SQLiteStore(path: path)
        let filters: [WorkflowFilter?] = [nil, WorkflowFilter("!WF*")]
        for filter in filters {
            let (sql, arguments) = SQLiteStore.inboxPageQuery(mailbox: MailboxID("MAILBOX01"), afterSequence: nil, filter: filter, limit: 10)
            let plan = try store.pool.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
            }
            #expect(plan.contains { $0.contains("messages_inbox") }, "\(plan)")
            #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
        }
    }
}
