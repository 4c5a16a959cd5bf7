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

/// One failing write undoes only itself, and a batch of writes that all succeed pays for no
/// savepoints: the writer runs a batch unguarded first and redoes it with a savepoint per write only
/// when one fails.
@Suite("Group commit: failures")
struct GroupCommitFailureTests {
    struct Refused: Error, Equatable { let n: Int }

    /// A writer on its own pool whose statements are recorded, and a table to write into.
    static func tracedWriter() throws -> (GroupCommitWriter, DatabasePool, StatementLog) {
        let (path, _) = StoreFactory.temporaryPath()
        let log = StatementLog()
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            db.trace(options: .statement) { event in
                if case .statement(let statement) = event { log.append(statement.sql) }
            }
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        try pool.write { db in try db.execute(sql: "CREATE TABLE rows (n INTEGER PRIMARY KEY)") }
        log.clear()
        return (GroupCommitWriter(pool: pool), pool, log)
    }

    /// Runs `writes` as one batch: a first write holds the writer, from inside its own batch, until all
    /// of them are queued behind it.
    static func oneBatch(
        _ writer: GroupCommitWriter, _ writes: [@Sendable (Database) throws -> Int]
    ) async throws -> [Result<Int, any Error>] {
        let release = DispatchSemaphore(value: 0)
        let (started, holderRuns) = AsyncStream<Void>.makeStream()
        async let holder: Void = writer.write { _ in
            holderRuns.yield()
            _ = release.wait(timeout: .now() + 150)  // bounded: a failed test must not hold a thread for ever
        }
        for await _ in started { break }  // the holder's batch is running: nothing else can start
        let results = try await withThrowingTaskGroup(of: (Int, Result<Int, any Error>).self) { group in
            for (index, write) in writes.enumerated() {
                group.addTask {
                    do { return (index, .success(try await writer.write(write))) } catch { return (index, .failure(error)) }
                }
            }
            // Generous: in the whole suite's parallel run a single write here has taken 36 s.
            let deadline = ContinuousClock.now + .seconds(120)
            while writer.queuedCount < writes.count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
            #expect(writer.queuedCount == writes.count, "the writes did not all queue behind the holder")
            release.signal()
            var results = [Result<Int, any Error>?](repeating: nil, count: writes.count)
            for try await (index, result) in group { results[index] = result }
            return results.compactMap { $0 }
        }
        try await holder
        return results
    }

    static func insert(_ n: Int, failing: Bool = false) -> @Sendable (Database) throws -> Int {
        { db in
            try db.execute(sql: "INSERT INTO rows (n) VALUES (?)", arguments: [n])
            if failing { throw Refused(n: n) }
            return n
        }
    }

    static func stored(_ pool: DatabasePool) throws -> [Int] {
        try pool.read { db in try Int.fetchAll(db, sql: "SELECT n FROM rows ORDER BY n") }
    }

    @Test(.timeLimit(.minutes(3)))
    func aBatchInWhichNothingFailsRunsEachWriteOnceWithoutSavepoints() async throws {
        let (writer, pool, log) = try Self.tracedWriter()
        let results = try await Self.oneBatch(writer, (1...5).map { Self.insert($0) })
        #expect(results.map { try? $0.get() } == [1, 2, 3, 4, 5])
        #expect(try Self.stored(pool) == [1, 2, 3, 4, 5])
        #expect(log.count(matching: "INSERT INTO rows") == 5, "each write ran once")
        #expect(log.count(matching: "SAVEPOINT") == 0)
        #expect(!writer.guarded)
    }

    @Test(.timeLimit(.minutes(3)))
    func aFailingWriteIsUndoneAloneAndTheNextBatchIsGuarded() async throws {
        let (writer, pool, log) = try Self.tracedWriter()
        let results = try await Self.oneBatch(writer, (1...5).map { Self.insert($0, failing: $0 == 3) })
        #expect(results.map { try? $0.get() } == [1, 2, nil, 4, 5])
        #expect(throws: Refused(n: 3)) { try results[2].get() }
        #expect(try Self.stored(pool) == [1, 2, 4, 5], "the failing write's own insert is undone, the others kept")
        #expect(log.count(matching: "SAVEPOINT") > 0, "the batch was redone with a savepoint per write")
        #expect(log.count(matching: "INSERT INTO rows") == 8, "writes 1 to 3 ran, were rolled back, and all five ran again")
        #expect(writer.guarded)

        // The next batch runs guarded; nothing fails in it, so the one after is trusted again.
        log.clear()
        #expect(try await writer.write(Self.insert(6)) == 6)
        #expect(log.count(matching: "SAVEPOINT") > 0)
        #expect(!writer.guarded)
        log.clear()
        #expect(try await writer.write(Self.insert(7)) == 7)
        #expect(log.count(matching: "SAVEPOINT") == 0)
        #expect(try Self.stored(pool) == [1, 2, 4, 5, 6, 7])
    }

    @Test(.timeLimit(.minutes(3)))
    func aFailingWriteAloneIsNotRedone() async throws {
        let (writer, pool, log) = try Self.tracedWriter()
        await #expect(throws: Refused(n: 1)) { try await writer.write(Self.insert(1, failing: true)) }
        #expect(log.count(matching: "INSERT INTO rows") == 1)
        #expect(try Self.stored(pool) == [])
        #expect(writer.guarded)
    }
}

/// Statements a connection ran, as SQL text.
final class StatementLog: Sendable {
    private let statements = Mutex<[String]>([])
    func append(_ sql: String) { statements.withLock { $0.append(sql) } }
    func clear() { statements.withLock { $0.removeAll() } }
    func count(matching fragment: String) -> Int { statements.withLock { $0.filter { $0.contains(fragment) }.count } }
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
