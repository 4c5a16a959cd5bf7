import Foundation
import GRDB
import Synchronization
import Testing

@testable import HandoverSQLite

/// The group-commit writer under a continuous stream: the write that starts a busy period returns
/// after its own batch, not when the stream stops.
@Suite("Group commit")
struct GroupCommitWriterTests {
    /// A chain of writes, each enqueuing the next from inside its own transaction, keeps the queue
    /// non-empty at every commit for as long as it runs. The first write starts the chain; when it
    /// returns, at most a few of the chain's writes may have committed, not all of them (a writer
    /// that made its first caller drain the queue returned it only after the whole chain).
    @Test(.timeLimit(.minutes(1)))
    func theWriteThatStartsABusyPeriodDoesNotWaitForItToEnd() async throws {
        let (path, _) = StoreFactory.temporaryPath()
        let writer = try SQLiteStore(path: path).writer
        let chainLength = 200
        let committed = Counter()
        let finished = AsyncStream<Void>.makeStream()

        @Sendable func link(_ remaining: Int) {
            Task { @Sendable in
                try await writer.write { db in
                    try db.execute(sql: "CREATE TABLE IF NOT EXISTS chain (n INTEGER)")
                    try db.execute(sql: "INSERT INTO chain (n) VALUES (?)", arguments: [remaining])
                    // Enqueued while this batch commits, so the queue is never empty at its end.
                    if remaining > 1 { link(remaining - 1) }
                }
                if committed.increment() == chainLength { finished.continuation.finish() }
            }
        }
        try await writer.write { _ in link(chainLength) }
        let committedWhenFirstReturned = committed.value
        for await _ in finished.stream {}
        #expect(committed.value == chainLength)
        #expect(committedWhenFirstReturned < 20, "the first write returned after \(committedWhenFirstReturned) of the chain's \(chainLength) writes")
    }
}

final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    func increment() -> Int {
        count.withLock {
            $0 += 1
            return $0
        }
    }
}
