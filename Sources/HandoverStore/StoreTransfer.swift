import HandoverCore

/// One cell as the embedded store holds it, for moving data between backends.
public enum StoredValue: Sendable, Hashable {
    case null, integer(Int64), real(Double), text(String), blob([UInt8])
}

/// A batch of rows of one table, with its column names.
public struct TableBatch: Sendable {
    public var table: String
    public var columns: [String]
    public var rows: [[StoredValue]]
    public init(table: String, columns: [String], rows: [[StoredValue]]) { (self.table, self.columns, self.rows) = (table, columns, rows) }
}

/// A store whose rows can be read out, from one consistent snapshot, table by table.
public protocol StoreExporter: Sendable {
    /// Rows after `afterRowID` in row order, at most `limit`; the last row id read, nil at the end.
    func exportRows(table: String, afterRowID: Int64, limit: Int) async throws -> (batch: TableBatch, lastRowID: Int64?)
    func rowCount(table: String) async throws -> Int
}

/// A store that can take rows exported from another backend.
public protocol StoreImporter: Sendable {
    /// Whether the store holds no messages, directory versions or audit entries yet.
    func isEmptyForImport() async throws -> Bool
    func importRows(_ batch: TableBatch) async throws
    /// Moves sequences past the imported rows, so new rows continue after them.
    func finishImport() async throws
    func rowCount(table: String) async throws -> Int
}

/// Copies every table from one store to another (`handover db copy`), then checks the row counts
/// and that the audit hash chain still verifies in the target.
public enum StoreCopier {
    /// Tables in an order that satisfies references (chunks after messages).
    public static let tables = [
        "messages", "chunks", "segments", "inbox_counts", "directory_versions", "admin_tokens", "mailbox_passwords",
        "audit_log", "message_events", "deadlines", "alerts", "webhook_deliveries", "webhook_attempts", "crossing_facts",
        "directory_proposals",
    ]

    public struct TableReport: Sendable, Hashable {
        public var table: String
        public var source: Int
        public var target: Int
    }

    public struct CopyError: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public static func copy(
        from source: any StoreExporter, to target: any StoreImporter & DirectoryStore,
        progress: @Sendable (String, Int, Int) -> Void
    ) async throws -> (tables: [TableReport], audit: AuditChain.Verdict) {
        guard try await target.isEmptyForImport() else {
            throw CopyError(description: "the target already holds messages, a directory or audit entries; copy into an empty database")
        }
        var reports: [TableReport] = []
        for table in tables {
            let total = try await source.rowCount(table: table)
            // Segments are up to 1 MiB each: small batches keep memory bounded.
            let limit = table == "segments" ? 8 : 500
            var after: Int64 = 0
            var copied = 0
            while true {
                let (batch, last) = try await source.exportRows(table: table, afterRowID: after, limit: limit)
                if !batch.rows.isEmpty { try await target.importRows(batch) }
                copied += batch.rows.count
                progress(table, copied, total)
                guard let last, batch.rows.count == limit else { break }
                after = last
            }
            reports.append(TableReport(table: table, source: total, target: try await target.rowCount(table: table)))
        }
        try await target.finishImport()
        return (reports, try await target.verifyAuditChain())
    }
}
