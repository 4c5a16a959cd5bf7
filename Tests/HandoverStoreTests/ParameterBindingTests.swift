import Foundation
import GRDB
import NIOCore
import Testing

@testable import HandoverSQLite

/// `Database.run(sql:binding:)` on a cached statement: each run writes exactly the values it binds,
/// NULLs included, also after GRDB itself ran the same cached statement with arguments of its own
/// (GRDB would bind those again over any left in place), and a run that binds the wrong number of
/// values writes nothing.
@Suite("SQLite parameters bound value by value")
struct ParameterBindingTests {
    static let insert = "INSERT INTO things (n, label, data) VALUES (?, ?, ?)"

    struct Thing: Equatable {
        let n: Int64
        let label: String?
        let data: Data?
    }

    func withStore(_ body: (SQLiteStore) async throws -> Void) async throws {
        let (path, _) = StoreFactory.temporaryPath()
        let store = try SQLiteStore(path: path)
        try await store.writer.write { db in try db.execute(sql: "CREATE TABLE things (n INTEGER, label TEXT, data BLOB)") }
        try await body(store)
        await store.close()
    }

    func things(_ store: SQLiteStore) async throws -> [Thing] {
        try await store.read { db in
            try Row.fetchAll(db, sql: "SELECT n, label, data FROM things ORDER BY rowid").map { Thing(n: $0[0], label: $0[1], data: $0[2]) }
        }
    }

    static func run(_ thing: Thing, _ db: Database) throws {
        try db.run(sql: insert) { row in
            row.add(thing.n)
            row.add(thing.label)
            row.add(bytes: thing.data.map { ByteBuffer(bytes: $0) })
        }
    }

    @Test func eachRunWritesTheValuesItBinds() async throws {
        let wanted = [
            Thing(n: 1, label: "one", data: Data([1, 2])), Thing(n: 2, label: nil, data: nil), Thing(n: 3, label: "three", data: Data()),
            Thing(n: 4, label: "four", data: nil), Thing(n: 5, label: nil, data: Data([5])),
        ]
        try await withStore { store in
            // One write per run, so each is its own reuse of the cached statement.
            for thing in wanted { try await store.writer.write { db in try Self.run(thing, db) } }
            #expect(try await things(store) == wanted)
        }
    }

    @Test func aStatementGRDBRanWithArgumentsRunsWithTheBoundValues() async throws {
        try await withStore { store in
            try await store.writer.write { db in
                try Self.run(Thing(n: 1, label: "bound", data: nil), db)
                try db.cachedStatement(sql: Self.insert).execute(arguments: [2, "grdb", nil])
                try Self.run(Thing(n: 3, label: "bound again", data: Data([3])), db)
                try Self.run(Thing(n: 4, label: nil, data: nil), db)
            }
            #expect(
                try await things(store) == [
                    Thing(n: 1, label: "bound", data: nil), Thing(n: 2, label: "grdb", data: nil), Thing(n: 3, label: "bound again", data: Data([3])),
                    Thing(n: 4, label: nil, data: nil),
                ])
        }
    }

    @Test func aRunBindingTooFewValuesFailsAndWritesNothing() async throws {
        try await withStore { store in
            try await store.writer.write { db in try Self.run(Thing(n: 1, label: "one", data: nil), db) }
            await #expect(throws: DatabaseError.self) {
                try await store.writer.write { db in
                    try db.run(sql: Self.insert) { row in
                        row.add(Int64(2))
                        row.add("two")
                    }
                }
            }
            #expect(try await things(store) == [Thing(n: 1, label: "one", data: nil)])
        }
    }
}
