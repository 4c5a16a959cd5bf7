import Foundation
import HandoverCore
import HandoverStore
import Logging
import NIOCore
import NIOSSL
import PostgresNIO

/// The backend for several broker instances: every method is one PostgreSQL transaction on a pooled
/// connection, so any instance can serve any mailbox. Work that must happen once (expiry, deadlines,
/// repeats, webhooks) is claimed with `FOR UPDATE SKIP LOCKED`; the replay cache is a shared table.
public final class PostgresStore: Sendable {
    let client: PostgresClient
    let logger: Logger
    let runner: Task<Void, Never>
    /// How long one call may wait for the database (a connection, a lock, a commit) before it fails
    /// with `StoreUnavailable`, which the HTTP layer answers with 503.
    let callTimeout: Duration
    let idGenerator = MessageIDGenerator()
    public static let defaultCallTimeout: Duration = .seconds(10)

    /// Connects, checks the database answers, and applies migrations. Throws `StoreUnavailable` with the
    /// cause when the server cannot be reached or refuses the login.
    public static func connect(url: String, maximumConnections: Int = 20, callTimeout: Duration = PostgresStore.defaultCallTimeout,
                               logger: Logger = Logger(label: "handover.postgres")) async throws -> PostgresStore {
        let parsed = try PostgresURL.parse(url)
        // One direct connection first: it fails fast with the real cause (refused, no such database,
        // bad password), where the pool would keep retrying quietly.
        do {
            let probe = try await PostgresConnection.connect(configuration: try parsed.connectionConfiguration(), id: 0, logger: logger)
            try await probe.close()
        } catch {
            throw StoreUnavailable(describing: error, target: PostgresURL.redacted(url))
        }
        // The pool retries lost connections on its own; its per-attempt chatter stays below warning.
        var poolLogger = logger
        poolLogger.logLevel = .warning
        let client = PostgresClient(configuration: parsed.clientConfiguration(maximumConnections: maximumConnections), backgroundLogger: poolLogger)
        let store = PostgresStore(client: client, logger: logger, callTimeout: callTimeout)
        do {
            try await PostgresSchema.migrate(store)
        } catch {
            store.close()
            throw StoreUnavailable(describing: error, target: PostgresURL.redacted(url))
        }
        return store
    }

    init(client: PostgresClient, logger: Logger, callTimeout: Duration) {
        self.client = client
        self.logger = logger
        self.callTimeout = callTimeout
        runner = Task { await client.run() }
    }

    /// Closes the pool's connections.
    public func close() { runner.cancel() }

    // MARK: - Transactions

    /// Runs `body` in one transaction, retrying when PostgreSQL aborts it for a deadlock or a
    /// serialisation failure. Queued audit entries are chained and notifications sent just before COMMIT.
    func write<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await run { connection in
                    let tx = SQLTransaction(connection: connection, logger: self.logger)
                    try await tx.execute("BEGIN")
                    do {
                        let value = try await body(tx)
                        try await PostgresStore.chainAudit(tx)
                        for channel in tx.notify.sorted() { try await tx.execute("SELECT pg_notify($1, '')", [channel]) }
                        try await tx.execute("COMMIT")
                        return value
                    } catch {
                        _ = try? await tx.execute("ROLLBACK")
                        throw error
                    }
                }
            } catch let error as PSQLError where Self.isRetryable(error) && attempt < 8 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 << min(attempt, 5)))))
            }
        }
    }

    /// Runs a read outside any explicit transaction (each statement sees committed data).
    func read<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) async throws -> T) async throws -> T {
        try await run { connection in try await body(SQLTransaction(connection: connection, logger: self.logger)) }
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await withTimeout(callTimeout) {
                try await self.client.withConnection { connection in try await body(connection) }
            }
        } catch let error as PSQLError where Self.isUnavailable(error) {
            throw StoreUnavailable(describing: error, target: "PostgreSQL")
        }
    }

    func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw StoreUnavailable(reason: "no answer from PostgreSQL within \(limit)")
            }
            return value
        }
    }

    /// A lost or refused connection, or a server shutting down or refusing connections (SQLSTATE
    /// classes 08 and 57P, and 55000 for a database not accepting connections): a 503, not a 500.
    static func isUnavailable(_ error: PSQLError) -> Bool {
        guard error.code == .server else { return true }
        let state = error.serverInfo?[.sqlState] ?? ""
        return state.hasPrefix("08") || state.hasPrefix("57P") || state == "55000" || state == "53300"
    }

    static func isRetryable(_ error: PSQLError) -> Bool {
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40001" || state == "40P01"
    }

    /// Appends the transaction's audit entries to the hash chain. The advisory lock serialises
    /// appenders across instances until this transaction ends.
    static func chainAudit(_ tx: SQLTransaction) async throws {
        guard !tx.pendingAudit.isEmpty else { return }
        try await tx.execute("SELECT pg_advisory_xact_lock(\(AdvisoryLock.auditChain))")
        let last = try await tx.row("SELECT seq, entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1")
        var previous: String = try last?("entry_hash") ?? AuditChain.genesis
        var sequence: Int64 = try last?("seq") ?? 0
        for (record, at) in tx.pendingAudit {
            sequence += 1
            let hash = AuditChain.hash(previous: previous, at: at, actor: record.actor, action: record.action, subject: record.subject, detail: record.detail)
            try await tx.execute("""
                INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, entry_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """, [sequence, at, record.actor, record.action, record.subject, record.detail, previous, hash])
            previous = hash
        }
        tx.pendingAudit = []
    }
}

/// Keys of the advisory locks that serialise work across instances.
enum AdvisoryLock {
    static let migrations: Int64 = 0x4841_4E44_0001
    static let auditChain: Int64 = 0x4841_4E44_0002
    static let directory: Int64 = 0x4841_4E44_0003
}

/// `postgres://user:password@host:port/database?sslmode=disable|prefer|require`.
struct PostgresURL {
    enum SSLMode: String { case disable, prefer, require }
    var host: String
    var port: Int
    var username: String
    var password: String?
    var database: String?
    var sslMode: SSLMode

    static func parse(_ text: String) throws -> PostgresURL {
        guard let url = URLComponents(string: text), ["postgres", "postgresql"].contains(url.scheme ?? ""), let host = url.host, !host.isEmpty else {
            throw StoreUnavailable(reason: "not a PostgreSQL URL: \(redacted(text)) (expected postgres://user[:password]@host[:port]/database)")
        }
        let modeText = url.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer"
        guard let mode = SSLMode(rawValue: modeText) else { throw StoreUnavailable(reason: "sslmode=\(modeText) is not one of disable, prefer, require") }
        let database = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        return PostgresURL(host: host, port: url.port ?? 5432, username: url.user?.removingPercentEncoding ?? "postgres",
                           password: url.password?.removingPercentEncoding, database: database.isEmpty ? nil : database, sslMode: mode)
    }

    func clientConfiguration(maximumConnections: Int) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(.makeClientConfiguration())
        case .require: tls = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch sslMode {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        return PostgresConnection.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls)
    }

    /// The URL without its password, for errors and logs.
    static func redacted(_ text: String) -> String {
        guard var url = URLComponents(string: text), url.password != nil else { return text }
        url.password = "***"
        return url.string ?? "postgres://…"
    }
}

extension PostgresStore {
    /// Creates database `name` on the server at `serverURL` (for tests and first installs).
    public static func createDatabase(named name: String, serverURL: String) async throws -> String {
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), var target = URLComponents(string: serverURL) else {
            throw StoreUnavailable(reason: "bad database name \(name)")
        }
        let client = PostgresClient(configuration: try PostgresURL.parse(serverURL).clientConfiguration(maximumConnections: 1))
        let runner = Task { await client.run() }
        defer { runner.cancel() }
        _ = try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)")).collect()
        target.path = "/" + name
        return target.string ?? serverURL
    }
}
