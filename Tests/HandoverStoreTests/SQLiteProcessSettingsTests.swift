import Foundation
import GRDB
import Testing

@testable import HandoverSQLite

/// SQLite takes its process-wide settings only before it initialises, and other tests in this process
/// open SQLite in any order, so the check runs in a process of its own that opens a store first, as
/// the broker does.
@Suite("SQLite's process settings")
struct SQLiteProcessSettingsTests {
    /// Debian's SQLite, left alone, locks a mutex around every call on a connection and counts every
    /// allocation under a global one; a store's connections do neither.
    @Test
    func aStoresConnectionsTakeNoMutexAndSQLiteCountsNoMemory() async {
        await #expect(processExitsWith: .success) {
            let store = try SQLiteStore(path: StoreFactory.temporaryPath().0)
            let writerLocks = try store.pool.writeWithoutTransaction { SQLiteProcessSettings.hasMutex($0) }
            let readerLocks = try store.pool.read { SQLiteProcessSettings.hasMutex($0) }
            try store.pool.write { db in try db.execute(sql: "CREATE TABLE scratch (body BLOB); INSERT INTO scratch VALUES (zeroblob(100000))") }
            let counted = SQLiteProcessSettings.countedMemory
            guard SQLiteProcessSettings.apply(), !writerLocks, !readerLocks, counted == 0 else {
                FileHandle.standardError.write(Data("writer \(writerLocks), reader \(readerLocks), counted \(counted) bytes\n".utf8))
                exit(1)
            }
        }
    }
}
