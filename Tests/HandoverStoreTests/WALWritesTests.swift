import Foundation
import GRDB
import Testing

@testable import HandoverSQLite

/// The `handover-wal` VFS gathers a commit's WAL frames into one write (Sources/CWALWrites): what it
/// writes must be exactly what SQLite wrote, in the file before any other connection can see the
/// commit, and whole however large the commit.
@Suite("WAL writes gathered")
struct WALWritesTests {
    /// A pool on a fresh file in WAL mode, opened after the VFS is registered (as a store's are).
    static func pool(synchronous: String) throws -> DatabasePool {
        #expect(SQLiteWALWrites.register())
        let (path, _) = StoreFactory.temporaryPath()
        let pool = try DatabasePool(path: path)
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = \(synchronous)") }
        try pool.write { db in try db.execute(sql: "CREATE TABLE rows (n INTEGER PRIMARY KEY, body BLOB NOT NULL)") }
        return pool
    }

    static func insert(_ range: ClosedRange<Int>, bytes: Int, _ db: Database) throws {
        for n in range {
            try db.execute(sql: "INSERT INTO rows (n, body) VALUES (?, ?)", arguments: [n, Data(repeating: UInt8(n % 251), count: bytes)])
        }
    }

    /// The store's writer (which has migrated the schema, so written to its WAL) writes through it.
    @Test
    func aStoresWriterWritesItsWALThroughIt() throws {
        let store = try SQLiteStore(path: StoreFactory.temporaryPath().0)
        #expect(SQLiteWALWrites.defaultName == "handover-wal")
        let counts = try store.pool.writeWithoutTransaction { SQLiteWALWrites.counts($0) }
        #expect((counts?.asked ?? 0) > 0, "the writer's WAL is not the VFS's: \(String(describing: counts))")
    }

    /// 40 rows of 3 KiB: more than 40 pages, two writes each (a frame's header, then its page).
    @Test
    func aCommitsFramesReachTheFileInAFewWritesNotTwoAPage() throws {
        let pool = try Self.pool(synchronous: "FULL")
        let (asked, written) = try pool.write { db -> (Int64, Int64) in
            let before = try #require(SQLiteWALWrites.counts(db))
            try Self.insert(1...40, bytes: 3000, db)
            return (before.asked, before.written)
        }
        let after = try #require(try pool.writeWithoutTransaction { SQLiteWALWrites.counts($0) })
        #expect(after.asked - asked >= 80, "SQLite wrote \(after.asked - asked) times")
        // 40 frames of 4,120 bytes are 165 KB: two pieces of at most 124 KiB.
        #expect(after.written - written <= 2, "\(after.written - written) system writes")
        let count = try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM rows") }
        #expect(count == 40)
    }

    /// With `synchronous = NORMAL` SQLite never syncs, so nothing but the commit frame tells the VFS
    /// to write: every commit must be readable from another connection as soon as it returns.
    @Test
    func everyCommitIsInTheFileBeforeAnotherConnectionCanSeeIt() throws {
        let pool = try Self.pool(synchronous: "NORMAL")
        for batch in 0..<150 {
            let first = batch * 3 + 1
            try pool.write { db in try Self.insert(first...(first + 2), bytes: 700 + batch * 13, db) }
            let (count, sum) = try pool.read { db in
                (try Int.fetchOne(db, sql: "SELECT count(*) FROM rows") ?? -1, try Int.fetchOne(db, sql: "SELECT sum(length(body)) FROM rows") ?? -1)
            }
            #expect(count == first + 2, "after commit \(batch)")
            #expect(sum == (0...batch).reduce(0) { $0 + 3 * (700 + $1 * 13) }, "after commit \(batch)")
            if count != first + 2 { break }
        }
        let check = try pool.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") }
        #expect(check == "ok")
    }

    /// 3 MiB in one transaction: more than the buffer holds (it writes as it fills) and more than the
    /// default VFS takes in one write (128 KiB; it reports a longer one as a full disk).
    @Test
    func aCommitLargerThanTheBufferIsWrittenWhole() throws {
        let pool = try Self.pool(synchronous: "FULL")
        try pool.write { db in try Self.insert(1...750, bytes: 4000, db) }
        let reader = try DatabaseQueue(path: pool.path)
        let (count, wrong, check) = try reader.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM rows"),
                // Each row's 4,000 bytes are its number mod 251: its first and last byte checked.
                try Int.fetchOne(
                    db,
                    sql: """
                        SELECT count(*) FROM rows WHERE length(body) != 4000 OR hex(substr(body, 1, 1)) != printf('%02X', n % 251)
                            OR hex(substr(body, 4000, 1)) != printf('%02X', n % 251)
                        """),
                try String.fetchOne(db, sql: "PRAGMA integrity_check")
            )
        }
        #expect(count == 750)
        #expect(wrong == 0)
        #expect(check == "ok")
        let sample = try reader.read { db in try Data.fetchOne(db, sql: "SELECT body FROM rows WHERE n = 611") }
        #expect(sample == Data(repeating: UInt8(611 % 251), count: 4000))
    }
}
