import Foundation
import HandoverCore
import HandoverPostgres
import HandoverSQLite
import HandoverStore
import Logging

/// `handover db copy`: moves an installation from the embedded SQLite file to PostgreSQL. The
/// source is read from one snapshot; the target must be empty. Afterwards the row counts of every
/// table are compared and the audit chain is verified in the target.
public enum DatabaseCopy {
    public struct Report: Sendable {
        public var tables: [StoreCopier.TableReport]
        public var audit: AuditChain.Verdict
        public var isComplete: Bool {
            tables.allSatisfy { $0.source == $0.target } && { if case .intact = audit { true } else { false } }()
        }
    }

    public static func run(from: String, to: String, progress: @escaping @Sendable (String, Int, Int) -> Void) async throws -> Report {
        guard case .sqlite(let path) = try StoreLocation(from) else {
            throw ConfigurationError("--from must be sqlite:PATH (the embedded store being moved)")
        }
        guard case .postgres(let url) = try StoreLocation(to) else {
            throw ConfigurationError("--to must be postgres://user@host:port/database")
        }
        guard FileManager.default.fileExists(atPath: path) else { throw ConfigurationError("there is no SQLite store at \(path)") }
        let source = try SQLiteStore(path: path)
        let target = try await PostgresStore.connect(url: url, callTimeout: .seconds(120))
        defer { target.cancel() }
        let (tables, audit) = try await StoreCopier.copy(from: try SQLiteExporter(store: source), to: target, progress: progress)
        return Report(tables: tables, audit: audit)
    }
}
