import Foundation
import GRDB
import HandoverStore

/// Reads every table from one snapshot of the database, so a copy taken while the broker runs is
/// consistent (writes after the snapshot are not in it).
public final class SQLiteExporter: StoreExporter {
    let snapshot: DatabaseSnapshot

    public init(store: SQLiteStore) throws {
        snapshot = try store.pool.makeSnapshot()
    }

    public func exportRows(table: String, afterRowID: Int64, limit: Int) async throws -> (batch: TableBatch, lastRowID: Int64?) {
        guard StoreCopier.tables.contains(table) else { throw StoreCopier.CopyError(description: "unknown table \(table)") }
        return try await SQLiteStore.blocking { [snapshot] in
            try snapshot.read { db in
                let rows = try Row.fetchAll(
                    db, sql: "SELECT rowid AS handover_rowid, * FROM \(table) WHERE rowid > ? ORDER BY rowid LIMIT ?",
                    arguments: [afterRowID, limit])
                let columns: [String] = rows.first.map { Array($0.columnNames.dropFirst()) } ?? []
                let values = rows.map { row in (1..<row.count).map { Self.value(row[$0] as DatabaseValue) } }
                return (TableBatch(table: table, columns: columns, rows: values), rows.last.map { $0["handover_rowid"] as Int64 })
            }
        }
    }

    public func rowCount(table: String) async throws -> Int {
        guard StoreCopier.tables.contains(table) else { throw StoreCopier.CopyError(description: "unknown table \(table)") }
        return try await SQLiteStore.blocking { [snapshot] in
            try snapshot.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 }
        }
    }

    static func value(_ v: DatabaseValue) -> StoredValue {
        switch v.storage {
        case .null: return .null
        case .int64(let i): return .integer(i)
        case .double(let d): return .real(d)
        case .string(let s): return .text(s)
        case .blob(let data): return .blob(Array(data))
        }
    }
}
