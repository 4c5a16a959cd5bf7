import GRDB
import HandoverCore
import Testing

@testable import HandoverSQLite

/// `messages.seq` is a plain row id: an insert neither reads nor rewrites `sqlite_sequence`, and new
/// rows still take the next number.
@Suite("SQLite messages without AUTOINCREMENT")
struct AutoincrementTests {
    @Test func theKeywordGoesAndNothingElse() {
        let sql = "CREATE TABLE messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL UNIQUE)"
        #expect(Autoincrement.withoutKeyword(in: sql) == "CREATE TABLE messages (seq INTEGER PRIMARY KEY, message_id TEXT NOT NULL UNIQUE)")
        #expect(Autoincrement.withoutKeyword(in: "CREATE TABLE t (id INTEGER PRIMARY KEY)") == "CREATE TABLE t (id INTEGER PRIMARY KEY)")
    }

    @Test func aNewStoreNumbersMessagesWithoutSQLiteSequence() throws {
        let (path, _) = StoreFactory.temporaryPath()
        let store = try SQLiteStore(path: path)
        try store.pool.write { db in
            try ConstraintListsTests.insertMessage("first", status: "accepted", db)
            try ConstraintListsTests.insertMessage("second", status: "accepted", db)
        }
        let (sql, seqs, sequenceRows, check) = try store.pool.read { db in
            (
                try String.fetchOne(db, sql: "SELECT sql FROM sqlite_schema WHERE name = 'messages'") ?? "",
                try Int64.fetchAll(db, sql: "SELECT seq FROM messages ORDER BY message_id"),
                try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_sequence"),
                try String.fetchOne(db, sql: "PRAGMA integrity_check")
            )
        }
        #expect(!sql.contains("AUTOINCREMENT"))
        #expect(seqs == [1, 2])
        #expect(sequenceRows == 0)
        #expect(check == "ok")
    }

    @Test func theMessageInsertCompilesWithoutTheSequenceBookkeeping() throws {
        let (path, _) = StoreFactory.temporaryPath()
        let store = try SQLiteStore(path: path)
        // `MemMax` keeps the largest id seen, for AUTOINCREMENT.
        let opcodes = try ConstraintListsTests.writerOpcodes(MessageRecord.insertSQL, store)
        #expect(opcodes.contains("Insert"))
        #expect(!opcodes.contains("MemMax"))
    }

    @Test func aStoreMadeBeforeKeepsItsRowsAndNumbersOnFromThem() throws {
        let (path, _) = StoreFactory.temporaryPath()
        do {
            let older = try DatabaseQueue(path: path)
            try SQLiteSchema.migrator.migrate(older, upTo: "017-check-comparisons")
            try older.write { db in
                for id in ["a", "b", "c"] { try ConstraintListsTests.insertMessage(id, status: "accepted", db) }
            }
            #expect(try older.read { db in try Int.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'messages'") } == 3)
            try older.close()
        }
        let store = try SQLiteStore(path: path)
        try store.pool.write { db in try ConstraintListsTests.insertMessage("d", status: "accepted", db) }
        let (sql, rows, sequenceRows, check) = try store.pool.read { db in
            (
                try String.fetchOne(db, sql: "SELECT sql FROM sqlite_schema WHERE name = 'messages'") ?? "",
                try Row.fetchAll(db, sql: "SELECT message_id || seq AS entry FROM messages ORDER BY seq").map { $0["entry"] as String },
                try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_sequence"),
                try String.fetchOne(db, sql: "PRAGMA integrity_check")
            )
        }
        #expect(!sql.contains("AUTOINCREMENT"))
        #expect(sql.contains("seq INTEGER PRIMARY KEY,"))
        #expect(rows == ["a1", "b2", "c3", "d4"])
        #expect(sequenceRows == 0)
        #expect(check == "ok")
    }
}
