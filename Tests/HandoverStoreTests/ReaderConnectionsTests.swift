import Dispatch
import Foundation
import GRDB
import Synchronization
import Testing

@testable import HandoverSQLite

/// The connections the hot single-statement reads use instead of GRDB's reader pool: they skip the
/// pool's per-read schema check, so they must still see every commit and every schema change, stay
/// within their maximum, and leave nothing open once closed.
@Suite("SQLite reader connections")
struct ReaderConnectionsTests {
    /// A store's file with a table of its own to read.
    func store() async throws -> (SQLiteStore, String) {
        let (path, _) = StoreFactory.temporaryPath()
        let store = try SQLiteStore(path: path)
        try await store.writer.write { db in try db.execute(sql: "CREATE TABLE things (n INTEGER)") }
        return (store, path)
    }

    @Test func oneConnectionSeesEachCommitAndSchemaChangeMadeSinceItOpened() async throws {
        let (store, path) = try await store()
        let readers = ReaderConnections(path: path, maximum: 1)
        defer { readers.close() }
        let count = "SELECT count(*) FROM things"
        #expect(try readers.read { db in try Int.fetchOne(db.cachedStatement(sql: count)) } == 0)
        try await store.writer.write { db in try db.execute(sql: "INSERT INTO things (n) VALUES (1), (2)") }
        #expect(try readers.read { db in try Int.fetchOne(db.cachedStatement(sql: count)) } == 2)

        // Another connection rebuilds the table with its columns in another order: the statement cached
        // before is compiled again by SQLite and still reads the column it names.
        let numbers = "SELECT n FROM things ORDER BY n"
        #expect(try readers.read { db in try Int.fetchAll(db.cachedStatement(sql: numbers)) } == [1, 2])
        try await store.writer.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE rebuilt (label TEXT, n INTEGER);
                    INSERT INTO rebuilt (label, n) SELECT 'x', n + 10 FROM things;
                    DROP TABLE things;
                    ALTER TABLE rebuilt RENAME TO things;
                    """)
        }
        #expect(try readers.read { db in try Int.fetchAll(db.cachedStatement(sql: numbers)) } == [11, 12])
    }

    @Test(.timeLimit(.minutes(1)))
    func noMoreReadsAtOnceThanTheMaximum() async throws {
        let (_, path) = try await store()
        let readers = ReaderConnections(path: path, maximum: 2)
        defer { readers.close() }
        let running = Overlap()
        // Six threads of their own, so six reads would run at once if nothing held them back.
        let done = DispatchGroup()
        for _ in 0..<6 {
            done.enter()
            Thread.detachNewThread {
                defer { done.leave() }
                _ = try? readers.read { db in
                    running.enter(ObjectIdentifier(db))
                    Thread.sleep(forTimeInterval: 0.05)
                    running.leave()
                    return try Int.fetchOne(db, sql: "SELECT count(*) FROM things")
                }
            }
        }
        try await SQLiteStore.blocking { done.wait() }
        let seen = running.seen
        #expect(seen.most == 2, "at most two at once, where six threads each held a read for 50 ms")
        #expect(seen.connections.count == 2, "two connections opened, each reused")
    }

    @Test(.timeLimit(.minutes(1)))
    func closingLeavesNoConnectionOpenAndLaterReadsFail() async throws {
        let (_, path) = try await store()
        let before = openFiles(path)
        let readers = ReaderConnections(path: path, maximum: 3)
        let inRead = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        // One read holds its connection while the others finish and the pool is closed.
        let held = Task {
            try await SQLiteStore.blocking {
                try readers.read { db in
                    inRead.signal()
                    release.wait()
                    return try Int.fetchOne(db, sql: "SELECT count(*) FROM things")
                }
            }
        }
        try await SQLiteStore.blocking { inRead.wait() }
        for _ in 0..<3 { _ = try await SQLiteStore.blocking { try readers.read { db in try Int.fetchOne(db, sql: "SELECT 1") } } }
        #expect(openFiles(path) > before, "the readers hold the database file open")
        readers.close()
        release.signal()
        #expect(try await held.value == 0, "a read running at the close finishes")
        #expect(openFiles(path) == before, "every connection closed, the busy one when its read ended")
        #expect(throws: DatabaseError.self) { try readers.read { db in try Int.fetchOne(db, sql: "SELECT 1") } }
        #expect(openFiles(path) == before)
    }

    /// How many reads ran at once, at most, and on which connections.
    final class Overlap: Sendable {
        private let state = Mutex((now: 0, most: 0, connections: Set<ObjectIdentifier>()))
        func enter(_ connection: ObjectIdentifier) {
            state.withLock {
                $0.now += 1
                $0.most = max($0.most, $0.now)
                $0.connections.insert(connection)
            }
        }
        func leave() { state.withLock { $0.now -= 1 } }
        var seen: (most: Int, connections: Set<ObjectIdentifier>) { state.withLock { ($0.most, $0.connections) } }
    }

    /// This process's open descriptors on the database file itself.
    func openFiles(_ path: String) -> Int {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == path }.count
    }
}
