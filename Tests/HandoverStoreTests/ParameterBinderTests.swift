import Foundation
import GRDB
import NIOCore
import Testing

@testable import HandoverSQLite

/// The binder the wide send-path rows use instead of `StatementArguments`.
@Suite("SQLite parameter binder")
struct ParameterBinderTests {
    private func database() throws -> DatabaseQueue {
        let queue = try DatabaseQueue()
        try queue.write { try $0.execute(sql: "CREATE TABLE t (a TEXT, b INTEGER, c REAL, d INTEGER, e TEXT, f BLOB, g BLOB)") }
        return queue
    }

    private static let insert = "INSERT INTO t (a, b, c, d, e, f, g) VALUES (?, ?, ?, ?, ?, ?, ?)"

    @Test func bindsEachValueInOrderAndNilAsNull() throws {
        let queue = try database()
        for _ in 0..<2 {  // the second run reuses the cached statement
            try queue.write { db in
                try db.run(sql: Self.insert) { row in
                    row.add("")
                    row.add(Int64(42))
                    row.add(0.5)
                    row.add(true)
                    row.add(nil as String?)
                    row.add(bytes: ByteBuffer(bytes: [0, 1, 2, 255]))
                    row.add(bytes: nil)
                }
            }
        }
        let rows = try queue.read { try Row.fetchAll($0, sql: "SELECT a, b, c, d, e, typeof(a), typeof(e), f, typeof(g) FROM t") }
        #expect(rows.count == 2)
        for row in rows {
            #expect(row[0] as String == "")
            #expect(row[1] as Int64 == 42)
            #expect(row[2] as Double == 0.5)
            #expect(row[3] as Int64 == 1)
            #expect(row[5] as String == "text")  // an empty text stays text, not NULL
            #expect(row[6] as String == "null")
            #expect(row[7] as Data == Data([0, 1, 2, 255]))
            #expect(row[8] as String == "null")
        }
    }

    /// Texts are bound with their UTF-8 length from their own storage: inline (up to 15 bytes) or not,
    /// non-ASCII, and with a NUL inside (GRDB's own binding, through a C string, cut the text there).
    @Test func bindsEveryByteOfAText() throws {
        let queue = try database()
        let texts = ["x", "fifteen bytes!!", "sixteen bytes!!!", String(repeating: "long ", count: 200), "né€😀", "a\u{0}b"]
        for text in texts {
            try queue.write { db in
                try db.run(sql: Self.insert) { row in
                    row.add(text)
                    for _ in 0..<4 { row.add(nil as Int64?) }
                    row.add(bytes: nil)
                    row.add(bytes: nil)
                }
            }
        }
        let stored = try queue.read { try Row.fetchAll($0, sql: "SELECT CAST(a AS BLOB), typeof(a) FROM t ORDER BY rowid") }
        #expect(stored.map { $0[0] as Data } == texts.map { Data($0.utf8) })
        #expect(stored.allSatisfy { $0[1] as String == "text" })
    }

    @Test func refusesTooFewOrTooManyValuesAndStoresNothing() throws {
        let queue = try database()
        for count in [6, 8] {
            #expect(throws: DatabaseError.self) {
                try queue.write { db in
                    try db.run(sql: Self.insert) { row in
                        for i in 0..<count { row.add(Int64(i)) }
                    }
                }
            }
        }
        #expect(try queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM t") } == 0)
        // A refused binding leaves the cached statement usable.
        try queue.write { db in
            try db.run(sql: Self.insert) { row in
                for i in 0..<7 { row.add(Int64(i)) }
            }
        }
        #expect(try queue.read { try Int.fetchOne($0, sql: "SELECT b FROM t") } == 1)
    }
}
