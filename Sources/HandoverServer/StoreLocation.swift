import Foundation
import HandoverPostgres
import HandoverSQLite
import HandoverStore
import Logging

/// Where `--database` points: `sqlite:PATH` (embedded, the default) or `postgres://…` (several instances).
public enum StoreLocation: Sendable, Equatable {
    case sqlite(path: String)
    case postgres(url: String)

    public init(_ text: String) throws {
        if text.hasPrefix("sqlite:") {
            let path = String(text.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw ConfigurationError("--database sqlite: needs a file path, e.g. sqlite:.handover/handover.sqlite") }
            self = .sqlite(path: path)
        } else if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            self = .postgres(url: text)
        } else {
            throw ConfigurationError("unsupported --database \(PostgresStore.redacted(text)): use sqlite:PATH or postgres://user@host:port/database")
        }
    }

    /// Opens the store (creating and migrating it if needed). A database that cannot be reached
    /// throws `StoreUnavailable` with the cause, and no password.
    public func open(
        timeout: Duration = PostgresStore.defaultCallTimeout, logger: Logger = Logger(label: "handover.store")
    ) async throws -> any BrokerStore {
        switch self {
        case .sqlite(let path):
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            return try SQLiteStore(path: path)
        case .postgres(let url):
            return try await PostgresStore.connect(url: url, callTimeout: timeout, logger: logger)
        }
    }

    /// Whether several broker instances may share this store.
    public var isShared: Bool {
        if case .postgres = self { return true }
        return false
    }

    /// The text for banners and logs, without a password.
    public var displayName: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let url): return PostgresStore.redacted(url)
        }
    }
}
