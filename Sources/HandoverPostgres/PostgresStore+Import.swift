import HandoverStore
import NIOCore

/// Takes rows exported from the embedded store (`handover db copy`). Values are converted by the
/// target column's type (SQLite keeps booleans as integers); columns PostgreSQL does not have
/// (SQLite's row ids) are left out; identity columns keep their values so order is preserved.
extension PostgresStore: StoreImporter {
    public func isEmptyForImport() async throws -> Bool {
        try await read { tx in
            try await tx.row(
                """
                SELECT (SELECT count(*) FROM messages) + (SELECT count(*) FROM directory_versions)
                    + (SELECT count(*) FROM audit_log) + (SELECT count(*) FROM audit_pending) AS n
                """
            ).orThrow()("n", as: Int64.self) == 0
        }
    }

    public func importRows(_ batch: TableBatch) async throws {
        guard StoreCopier.tables.contains(batch.table) else { throw StoreCopier.CopyError(description: "unknown table \(batch.table)") }
        try await write { tx in
            let types = Dictionary(
                uniqueKeysWithValues: try await tx.rows(
                    "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
                    [batch.table]
                ).map { (try $0("column_name", as: String.self), try $0("data_type", as: String.self)) })
            let kept = batch.columns.indices.filter { types[batch.columns[$0]] != nil }
            let names = kept.map { batch.columns[$0] }
            var arguments: [any SQLArgumentConvertible] = []
            var tuples: [String] = []
            for row in batch.rows {
                var placeholders: [String] = []
                for i in kept {
                    arguments.append(try Self.convert(row[i], to: types[batch.columns[i]]!, column: batch.columns[i]))
                    placeholders.append("$\(arguments.count)")
                }
                tuples.append("(" + placeholders.joined(separator: ", ") + ")")
            }
            try await tx.execute(
                "INSERT INTO \(batch.table) (\(names.joined(separator: ", "))) OVERRIDING SYSTEM VALUE VALUES \(tuples.joined(separator: ", "))",
                arguments)
        }
    }

    public func finishImport() async throws {
        try await write { tx in
            for (table, column) in [
                ("messages", "seq"), ("admin_tokens", "id"), ("message_events", "id"), ("webhook_attempts", "id"), ("directory_proposals", "id"),
            ] {
                try await tx.execute(
                    "SELECT setval(pg_get_serial_sequence('\(table)', '\(column)'), coalesce((SELECT max(\(column)) FROM \(table)), 0) + 1, false)")
            }
            try await tx.execute("SELECT setval('inbox_sequence', coalesce((SELECT max(inbox_seq) FROM messages), 0) + 1, false)")
        }
    }

    public func rowCount(table: String) async throws -> Int {
        guard StoreCopier.tables.contains(table) else { throw StoreCopier.CopyError(description: "unknown table \(table)") }
        return try await read { tx in Int(try await tx.row("SELECT count(*) AS n FROM \(table)").orThrow()("n", as: Int64.self)) }
    }

    static func convert(_ value: StoredValue, to type: String, column: String) throws -> SQLArgument {
        switch (value, type) {
        case (.null, _): return .null
        case (.integer(let i), "boolean"): return .bool(i != 0)
        case (.integer(let i), "bigint"), (.integer(let i), "integer"): return .integer(i)
        case (.text(let s), "text"): return .text(s)
        case (.blob(let b), "bytea"): return .bytes(ByteBuffer(bytes: b))
        case (.real(let d), "double precision"): return .real(d)
        default: throw StoreCopier.CopyError(description: "column \(column): cannot store \(value) as \(type)")
        }
    }
}
