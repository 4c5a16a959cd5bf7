import GRDB
import HandoverCore
import Testing

@testable import HandoverSQLite

/// CHECK constraints of three or more constants are stored as comparisons, so no insert or status
/// update builds a temporary B-tree of the list, and they still refuse what they refused.
@Suite("SQLite CHECK lists as comparisons")
struct ConstraintListsTests {
    @Test func aListOfThreeOrMoreBecomesComparisonsAndShorterListsStay() {
        let sql = "a TEXT CHECK (kind IN ('x', 'y', 'z')), b TEXT CHECK (side IN ('in', 'out')), c INTEGER CHECK (c IN (1, 2, 3))"
        let rewritten = ConstraintLists.comparisons(in: sql)
        #expect(
            rewritten
                == "a TEXT CHECK ((kind = 'x' OR kind = 'y' OR kind = 'z')), b TEXT CHECK (side IN ('in', 'out')), c INTEGER CHECK (c IN (1, 2, 3))"
        )
        #expect(ConstraintLists.comparisons(in: rewritten) == rewritten)
    }

    @Test func noStoredTableKeepsSuchAListAndTheDatabaseIsWhole() throws {
        let (path, _) = StoreFactory.temporaryPath()
        let store = try SQLiteStore(path: path)
        let tables = try store.pool.read { db in try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_schema WHERE type = 'table'") }
        let withLists = tables.filter { row in
            let sql: String = row["sql"] ?? ""
            return ConstraintLists.comparisons(in: sql) != sql
        }
        #expect(withLists.isEmpty, "\(withLists)")
        #expect(try store.pool.read { db in try String.fetchOne(db, sql: "PRAGMA integrity_check") } == "ok")
        // Opening it again (the migration already applied) changes nothing.
        let schema = try store.pool.read { db in try String?.fetchAll(db, sql: "SELECT sql FROM sqlite_schema ORDER BY name") }
        let reopened = try SQLiteStore(path: path)
        #expect(try reopened.pool.read { db in try String?.fetchAll(db, sql: "SELECT sql FROM sqlite_schema ORDER BY name") } == schema)
    }

    @Test func aStoreMadeBeforeTheRewriteKeepsItsRowsAndGainsTheComparisons() throws {
        let (path, _) = StoreFactory.temporaryPath()
        do {
            let older = try DatabaseQueue(path: path)
            try SQLiteSchema.migrator.migrate(older, upTo: "016-purge-index")
            try older.write { db in try Self.insertMessage("kept", status: "accepted", db) }
            let stored = try older.read { db in try String.fetchOne(db, sql: "SELECT sql FROM sqlite_schema WHERE name = 'messages'") }
            #expect(stored?.contains("status IN ('uploading'") == true)
            try older.close()
        }
        let store = try SQLiteStore(path: path)
        let (sql, rows, check) = try store.pool.read { db in
            (
                try String.fetchOne(db, sql: "SELECT sql FROM sqlite_schema WHERE name = 'messages'"),
                try String.fetchAll(db, sql: "SELECT message_id FROM messages"),
                try String.fetchOne(db, sql: "PRAGMA integrity_check")
            )
        }
        #expect(sql?.contains("(status = 'uploading' OR status = 'accepted'") == true)
        #expect(rows == ["kept"])
        #expect(check == "ok")
    }

    @Test func aMessagesInsertOrUpdateBuildsNoTemporaryTable() throws {
        let (path, _) = StoreFactory.temporaryPath()
        let store = try SQLiteStore(path: path)
        for sql in [MessageRecord.insertSQL, MessageRecord.updateSQL] {
            let opcodes = try Self.writerOpcodes(sql, store)
            #expect(opcodes.contains("Insert"))
            #expect(!opcodes.contains("OpenEphemeral"), "\(sql)")
        }
    }

    @Test func theStatusCheckStillRefusesAnUnknownStatus() throws {
        let (path, _) = StoreFactory.temporaryPath()
        let store = try SQLiteStore(path: path)
        func insert(_ id: String, status: String) throws {
            try store.pool.write { db in try Self.insertMessage(id, status: status, db) }
        }
        for (i, status) in ["uploading", "accepted", "acknowledged", "undeliverable", "error"].enumerated() {
            try insert("m\(i)", status: status)
        }
        #expect(throws: DatabaseError.self) { try insert("bad", status: "lost") }
        #expect(throws: DatabaseError.self) {
            try store.pool.write { db in try db.execute(sql: "UPDATE messages SET status = 'lost' WHERE message_id = 'm0'") }
        }
        let kept = try store.pool.read { db in try String.fetchAll(db, sql: "SELECT status FROM messages ORDER BY message_id") }
        #expect(kept == ["uploading", "accepted", "acknowledged", "undeliverable", "error"])
    }

    /// The opcodes `sql` compiles to on the writer's connection, as the broker runs it (a read-only
    /// connection compiles an insert without its constraint checks).
    static func writerOpcodes(_ sql: String, _ store: SQLiteStore) throws -> [String] {
        try store.pool.writeWithoutTransaction { db in
            let explain = try db.makeStatement(sql: "EXPLAIN " + sql)
            let nulls = StatementArguments(Array(repeating: DatabaseValue.null, count: sql.filter { $0 == "?" }.count))
            return try Row.fetchAll(explain, arguments: nulls).map { $0["opcode"] as String }
        }
    }

    /// A message row with only its required columns.
    static func insertMessage(_ id: String, status: String, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO messages (message_id, message_type, recipient, workflow_id, content_encoding, total_chunks,
                    received_chunks, file_size, status, created_at, expiry_seconds)
                VALUES (?, 'DATA', 'MAILBOX01', 'WF', '', 1, 1, 1, ?, 1, 60)
                """, arguments: [id, status])
    }
}
