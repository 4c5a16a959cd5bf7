import Foundation
import GRDB
import Testing

@testable import HandoverSQLite

/// Rows decoded while SQLite still holds them (`Statement.decodeFirst`, `decodeAll`): the values are
/// those of the rows asked for, NULLs included, the same as through GRDB's rows, and a read of the
/// first row of several ends its read transaction, so it never holds the WAL back.
@Suite("SQLite rows decoded in place")
struct StatementDecodingTests {
    struct Thing: Equatable {
        let n: Int64
        let label: String?
        let data: Data?
        init(_ n: Int64, _ label: String?, _ data: Data?) { (self.n, self.label, self.data) = (n, label, data) }
        init(row: some ColumnValues) { self.init(row[0], row[1], row[2]) }
    }

    func store() async throws -> (SQLiteStore, String) {
        let (path, _) = StoreFactory.temporaryPath()
        let store = try SQLiteStore(path: path)
        try await store.writer.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE things (n INTEGER, label TEXT, data BLOB);
                    INSERT INTO things VALUES (1, 'one', x'0102'), (2, NULL, NULL), (3, 'three', x'');
                    """)
        }
        return (store, path)
    }

    static let all = "SELECT n, label, data FROM things ORDER BY n"

    @Test func theFirstRowAndEveryRowAreDecodedWithTheirNulls() async throws {
        let (store, path) = try await store()
        let readers = ReaderConnections(path: path, maximum: 1)
        defer { readers.close() }
        let first = try readers.read { db in try db.cachedStatement(sql: Self.all).decodeFirst(arguments: [], Thing.init(row:)) }
        #expect(first == Thing(1, "one", Data([1, 2])))
        let none = try readers.read { db in
            try db.cachedStatement(sql: "SELECT n, label, data FROM things WHERE n > ?").decodeFirst(arguments: [9], Thing.init(row:))
        }
        #expect(none == nil)
        let every = try readers.read { db in try db.cachedStatement(sql: Self.all).decodeAll(arguments: [], Thing.init(row:)) }
        #expect(every == [Thing(1, "one", Data([1, 2])), Thing(2, nil, nil), Thing(3, "three", Data())])
        // GRDB's own rows read through the same decoding give the same values (the write path uses them).
        let copied = try readers.read { db in try Row.fetchAll(db.cachedStatement(sql: Self.all)).map(Thing.init(row:)) }
        #expect(copied == every)
        _ = store
    }

    /// The single values a send's write reads (the inbox's last position, the audit chain's head): the
    /// value, or nil for no row and for NULL, as `fetchOne` gave; read inside a write transaction too.
    @Test func aFirstValueIsTheValueOrNil() async throws {
        let (store, _) = try await store()
        let values = try await store.writer.write { db in
            (
                try db.firstValue(sql: "SELECT max(n) FROM things") as Int64?,
                try db.firstValue(sql: "SELECT label FROM things ORDER BY n DESC LIMIT 1") as String?,
                try db.firstValue(sql: "SELECT label FROM things WHERE n = 2") as String?,
                try db.firstValue(sql: "SELECT max(n) FROM things WHERE n > 9") as Int64?,
                try db.firstValue(sql: "SELECT label FROM things WHERE n > 9") as String?
            )
        }
        #expect(values.0 == 3 && values.1 == "three")
        #expect(values.2 == nil && values.3 == nil && values.4 == nil)
    }

    /// Decoding in place steps the statement outside GRDB's bookkeeping, so a write is refused, not run.
    @Test func aWriteStatementIsRefusedAndNotRun() async throws {
        let (store, _) = try await store()
        let refused = await #expect(throws: DatabaseError.self) {
            try await store.writer.write { db in
                try db.cachedStatement(sql: "UPDATE things SET n = n + 10 RETURNING n").decodeFirst(arguments: []) { $0[0] as Int64 }
            }
        }
        #expect(refused?.resultCode == .SQLITE_MISUSE)
        let numbers = try await store.read { db in try Int64.fetchAll(db, sql: "SELECT n FROM things ORDER BY n") }
        #expect(numbers == [1, 2, 3])
    }

    /// A write that returns rows (how a download marks its message): every matching row changes, the
    /// first returned row is decoded with its NULLs, no match gives nil, and the cached statement runs
    /// again at once (it was reset).
    @Test func aWritesFirstReturnedRowIsDecodedAndTheWriteDone() async throws {
        let (store, _) = try await store()
        let update = "UPDATE things SET n = n + 10 WHERE n >= ? RETURNING n, label, data"
        let (first, none, again) = try await store.writer.write { db in
            (
                try db.cachedStatement(sql: update).decodeFirstReturned(arguments: [2], Thing.init(row:)),
                try db.cachedStatement(sql: update).decodeFirstReturned(arguments: [99], Thing.init(row:)),
                try db.cachedStatement(sql: update).decodeFirstReturned(arguments: [13], Thing.init(row:))
            )
        }
        #expect([first, none, again] == [Thing(12, nil, nil), nil, Thing(23, "three", Data())])
        let numbers = try await store.read { db in try Int64.fetchAll(db, sql: "SELECT n FROM things ORDER BY n") }
        #expect(numbers == [1, 12, 23])
    }

    /// A statement left on its first row keeps its connection's snapshot: no checkpoint could then empty
    /// the WAL while that connection sits idle in the reader list.
    @Test func readingOnlyTheFirstRowEndsTheReadTransaction() async throws {
        let (store, path) = try await store()
        let readers = ReaderConnections(path: path, maximum: 1)
        defer { readers.close() }
        _ = try readers.read { db in try db.cachedStatement(sql: Self.all).decodeFirst(arguments: [], Thing.init(row:)) }
        try await store.writer.write { db in try db.execute(sql: "INSERT INTO things VALUES (4, 'four', NULL)") }
        let checkpointer = try DatabaseQueue(path: path)
        let result = try checkpointer.writeWithoutTransaction { db in try Row.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        // (busy, frames in the WAL, frames copied): 0 busy and an empty WAL once every reader has let go.
        #expect(result?[0] as Int? == 0)
        #expect(result?[1] as Int? == 0)
    }
}
