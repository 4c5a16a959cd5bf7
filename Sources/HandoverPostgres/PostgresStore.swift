import Foundation
import HandoverCore
import HandoverStore
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import Synchronization

/// The backend for several broker instances: every method is one PostgreSQL transaction on a pooled
/// connection, so any instance can serve any mailbox. Work that must happen once (expiry, deadlines,
/// repeats, webhooks) is claimed with `FOR UPDATE SKIP LOCKED`; the replay cache is a shared table.
public final class PostgresStore: Sendable {
    let client: PostgresClient
    let logger: Logger
    let replayClient: PostgresClient
    let runner: Task<Void, Never>
    /// How long one call may wait for the database (a connection, a lock, a commit) before it fails
    /// with `StoreUnavailable`, which the HTTP layer answers with 503.
    let callTimeout: Duration
    let deadlines: CallDeadlines
    let idGenerator = MessageIDGenerator.shared
    /// Share statements and commits among concurrent plain deliveries, and token spends.
    let deliveries = PostgresStore.deliveryBatcher()
    let tokenSpends = PostgresStore.tokenBatcher()
    public static let defaultCallTimeout: Duration = .seconds(10)
    /// Calls holding (or waiting for) a pooled connection now, and the pool's size, for `/metrics`.
    let inFlight = Atomic<Int>(0)
    public let poolSize: Int

    /// Connects, checks the database answers, and applies migrations. Throws `StoreUnavailable` with the
    /// cause when the server cannot be reached or refuses the login.
    public static func connect(
        url: String, maximumConnections: Int = 20, callTimeout: Duration = PostgresStore.defaultCallTimeout,
        logger: Logger = Logger(label: "handover.postgres")
    ) async throws -> PostgresStore {
        let parsed = try PostgresURL.parse(url)
        // One direct connection first: it fails fast with the real cause (refused, no such database,
        // bad password), where the pool would keep retrying quietly.
        do {
            let probe = try await PostgresConnection.connect(configuration: try parsed.connectionConfiguration(), id: 0, logger: logger)
            try await probe.close()
        } catch {
            throw StoreUnavailable(PostgreSQL: error, target: PostgresStore.redacted(url))
        }
        // The pool retries lost connections on its own; its per-attempt chatter (and a warning when the
        // first lease races `run()` starting) stays out of the log. Failures reach callers as errors.
        var poolLogger = logger
        poolLogger.logLevel = .error
        let client = PostgresClient(configuration: parsed.clientConfiguration(maximumConnections: maximumConnections), backgroundLogger: poolLogger)
        // The replay cache's own few connections commit without waiting for the WAL flush (see
        // `spendToken`); the session setting keeps that off every other write.
        var replayConfiguration = parsed.clientConfiguration(maximumConnections: max(2, maximumConnections / 4))
        replayConfiguration.options.additionalStartupParameters = [("synchronous_commit", "off")]
        let replayClient = PostgresClient(configuration: replayConfiguration, backgroundLogger: poolLogger)
        let store = PostgresStore(client: client, replayClient: replayClient, logger: logger, callTimeout: callTimeout, poolSize: maximumConnections)
        do {
            try await PostgresSchema.migrate(store)
        } catch {
            store.cancel()
            throw StoreUnavailable(PostgreSQL: error, target: PostgresStore.redacted(url))
        }
        return store
    }

    init(client: PostgresClient, replayClient: PostgresClient, logger: Logger, callTimeout: Duration, poolSize: Int) {
        self.poolSize = poolSize
        self.client = client
        self.replayClient = replayClient
        self.logger = logger
        self.callTimeout = callTimeout
        let deadlines = CallDeadlines(limit: callTimeout)
        self.deadlines = deadlines
        runner = Task {
            await withDiscardingTaskGroup { group in
                group.addTask { await client.run() }
                group.addTask { await replayClient.run() }
                group.addTask { await deadlines.run() }
            }
        }
    }

    /// Seals the audit entries still queued, then closes the pool's connections.
    public func close() async {
        while (try? await sealAudit()) == 2000 {}
        runner.cancel()
    }

    /// Closes the pool's connections at once (where no await is possible: a failed start, a `defer`).
    public func cancel() { runner.cancel() }

    /// Seals queued audit entries every second until cancelled (`close()` seals what is left). The
    /// pools themselves run from `open` on, because migrations need them before any service starts.
    public func runMaintenance() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            do { try await sealAudit() } catch is CancellationError {
                return
            } catch {
                logger.warning("audit sealing failed; retrying", metadata: ["handover.error_type": "\(type(of: error))"])
            }
        }
    }

    // MARK: - Transactions

    /// Runs `body` in one transaction, retrying when PostgreSQL aborts it for a deadlock or a
    /// serialisation failure. Audit entries are queued and notifications sent just before COMMIT.
    func write<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) async throws -> T) async throws -> T {
        try await retrying {
            try await self.run { connection in
                let tx = SQLTransaction(connection: connection, logger: self.logger)
                try await tx.execute("BEGIN")
                do {
                    let value = try await body(tx)
                    try await PostgresStore.flushQueued(tx)
                    for channel in tx.notify.sorted() { try await tx.execute("SELECT pg_notify($1, '')", [channel]) }
                    try await tx.execute("COMMIT")
                    return value
                } catch {
                    _ = try? await tx.execute("ROLLBACK")
                    throw error
                }
            }
        }
    }

    /// Runs one statement in its own implicit transaction (one round trip), with the same retries.
    func writeStatement<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) async throws -> T) async throws -> T {
        try await retrying { try await self.run { connection in try await body(SQLTransaction(connection: connection, logger: self.logger)) } }
    }

    /// Retries when PostgreSQL aborts the work for a deadlock or a serialisation failure.
    func retrying<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await work()
            } catch let error as PSQLError where Self.isRetryable(error) && attempt < 8 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 << min(attempt, 5)))))
            }
        }
    }

    /// Runs reads that must agree with each other in one read-only snapshot.
    func snapshot<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) async throws -> T) async throws -> T {
        try await read { tx in
            try await tx.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            do {
                let result = try await body(tx)
                try await tx.execute("COMMIT")
                return result
            } catch {
                _ = try? await tx.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// Runs a read outside any explicit transaction (each statement sees committed data).
    func read<T: Sendable>(_ body: @escaping @Sendable (SQLTransaction) async throws -> T) async throws -> T {
        try await run { connection in try await body(SQLTransaction(connection: connection, logger: self.logger)) }
    }

    func run<T: Sendable>(on pool: PostgresClient? = nil, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let pool = pool ?? client
        let leased = Mutex(false)
        inFlight.add(1, ordering: .relaxed)
        defer { inFlight.subtract(1, ordering: .relaxed) }
        do {
            return try await withTimeout(callTimeout) {
                try await pool.withConnection { connection in
                    // A call abandoned by its timeout while waiting for a connection stops here.
                    try Task.checkCancellation()
                    leased.withLock { $0 = true }
                    return try await body(connection)
                }
            }
        } catch let error as PSQLError where Self.isUnavailable(error) {
            throw StoreUnavailable(PostgreSQL: error, target: "PostgreSQL")
        } catch  where !(error is StoreUnavailable) && !(error is CancellationError) && !leased.withLock({ $0 }) {
            // No connection could be leased (the pool's own errors, such as its circuit breaker
            // while the server refuses connections): unavailable, not an internal error.
            throw StoreUnavailable(PostgreSQL: error, target: "PostgreSQL")
        }
    }

    /// Runs `body`, giving up after `limit` (checked by `deadlines`) or when the caller is cancelled.
    /// It does not wait for `body` to notice: a connection lease blocked on an unreachable server does
    /// not always answer cancellation, and waiting for it held requests past their timeout and
    /// graceful shutdown forever. The abandoned `body` is cancelled, so it stops before starting a
    /// transaction.
    func withTimeout<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let outcome = OneShot<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                outcome.attach(continuation)
                let work = Task {
                    do { outcome.finish(.success(try await body())) } catch { outcome.finish(.failure(error)) }
                }
                let watched = deadlines.watch(for: limit) {
                    if outcome.finish(.failure(StoreUnavailable(reason: "no answer from PostgreSQL within \(limit)"))) { work.cancel() }
                }
                outcome.onFinish { [deadlines] in
                    work.cancel()
                    if let watched { deadlines.forget(watched) }
                }
            }
        } onCancel: {
            outcome.finish(.failure(CancellationError()))
        }
    }

    /// A lost or refused connection, or a server shutting down or refusing connections (SQLSTATE
    /// classes 08 and 57P, and 55000 for a database not accepting connections), or a server that is
    /// read-only (25006: a standby not yet promoted, reached through the proxy during a failover):
    /// a 503, not a 500.
    static func isUnavailable(_ error: PSQLError) -> Bool {
        guard error.code == .server else { return true }
        let state = error.serverInfo?[.sqlState] ?? ""
        return state.hasPrefix("08") || state.hasPrefix("57P") || ["55000", "53300", "25006"].contains(state)
    }

    static func isRetryable(_ error: PSQLError) -> Bool {
        guard error.code == .server, let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40001" || state == "40P01"
    }

    /// Writes the transaction's timeline events and queues its audit entries in `audit_pending`, in
    /// one statement (`QueuedRowsStatement`), committed with the change they record. Chaining is left
    /// to `sealAudit`, so concurrent transactions never wait on one lock (and PostgreSQL can share
    /// one WAL flush among their commits).
    static func flushQueued(_ tx: SQLTransaction) async throws {
        guard !tx.pendingAudit.isEmpty || !tx.pendingEvents.isEmpty else { return }
        let statement = QueuedRowsStatement(events: tx.pendingEvents, audit: tx.pendingAudit)
        for try await _ in try await tx.connection.execute(statement, logger: tx.logger) {}
        tx.pendingAudit = []
        tx.pendingEvents = []
    }

    /// Moves committed pending entries into the hash chain, in queue order, under an advisory lock
    /// so one instance seals at a time. Runs every second and before the audit log is read, so a
    /// reader always sees every committed entry chained. Returns how many were sealed.
    @discardableResult
    func sealAudit() async throws -> Int {
        try await write { tx in
            try await tx.execute("SELECT pg_advisory_xact_lock(\(AdvisoryLock.auditChain))")
            let pending = try await tx.rows("SELECT id, at, actor, action, subject, detail FROM audit_pending ORDER BY id LIMIT 2000")
            guard !pending.isEmpty else { return 0 }
            let last = try await tx.row("SELECT seq, entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            var previous: String = try last?("entry_hash") ?? AuditChain.genesis
            var sequence: Int64 = try last?("seq") ?? 0
            var ids: [Int64] = []
            for batch in stride(from: 0, to: pending.count, by: 500).map({ pending[$0..<min($0 + 500, pending.count)] }) {
                var arguments: [any SQLArgumentConvertible] = []
                var tuples: [String] = []
                for row in batch {
                    sequence += 1
                    let at = try row.requiredTimestamp("at")
                    let (actor, action, subject, detail): (String, String, String, String) = (
                        try row("actor"), try row("action"), try row("subject"), try row("detail")
                    )
                    let hash = AuditChain.hash(previous: previous, at: at, actor: actor, action: action, subject: subject, detail: detail)
                    let n = arguments.count
                    arguments += [sequence, at, actor, action, subject, detail, previous, hash]
                    tuples.append("(" + (1...8).map { "$\(n + $0)" }.joined(separator: ", ") + ")")
                    previous = hash
                    ids.append(try row("id"))
                }
                try await tx.execute(
                    "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, entry_hash) VALUES \(tuples.joined(separator: ", "))",
                    arguments)
            }
            try await tx.execute("DELETE FROM audit_pending WHERE id = ANY($1)", [SQLArgument.integers(ids)])
            return ids.count
        }
    }
}

/// Keys of the advisory locks that serialise work across instances.
enum AdvisoryLock {
    static let migrations: Int64 = 0x4841_4E44_0001
    static let auditChain: Int64 = 0x4841_4E44_0002
    static let directory: Int64 = 0x4841_4E44_0003
}

/// `postgres://user[:password]@host[:port]/database?sslmode=…&sslrootcert=PATH`.
/// `sslmode` as libpq: `disable`, `prefer`, `require` (encrypted, not verified), `verify-ca` (the
/// server's certificate chains to `sslrootcert`) and `verify-full` (and names the host): use
/// `verify-full` whenever the database is on another machine. Without a password in the URL, the
/// password is read from the file `HANDOVER_DATABASE_PASSWORD_FILE` names, else from `PGPASSWORD`,
/// so it never needs to be on a command line.
struct PostgresURL {
    enum SSLMode: String, CaseIterable { case disable, prefer, require, verifyCA = "verify-ca", verifyFull = "verify-full" }
    var host: String
    var port: Int
    var username: String
    var password: String?
    var database: String?
    var sslMode: SSLMode
    var rootCertificate: String?

    static func parse(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PostgresURL {
        guard let url = URLComponents(string: text), ["postgres", "postgresql"].contains(url.scheme ?? ""), let host = url.host, !host.isEmpty else {
            throw StoreUnavailable(
                reason: "not a PostgreSQL URL: \(redacted(text)) (expected postgres://user[:password]@host[:port]/database; "
                    + "percent-encode @ : / in a password, or leave it out and use HANDOVER_DATABASE_PASSWORD_FILE)")
        }
        let modeText = url.queryItems?.first(where: { $0.name == "sslmode" })?.value ?? "prefer"
        guard let mode = SSLMode(rawValue: modeText) else {
            throw StoreUnavailable(reason: "sslmode=\(modeText) is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let root = url.queryItems?.first(where: { $0.name == "sslrootcert" })?.value
        if mode == .verifyCA || mode == .verifyFull, root == nil {
            throw StoreUnavailable(reason: "sslmode=\(modeText) needs sslrootcert=PATH, the CA that signed the database server's certificate")
        }
        var password = url.password?.removingPercentEncoding
        if password == nil, let file = environment["HANDOVER_DATABASE_PASSWORD_FILE"] {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw StoreUnavailable(reason: "HANDOVER_DATABASE_PASSWORD_FILE: cannot read \(file)")
            }
            password = text.trimmingCharacters(in: .newlines)
        }
        if password == nil { password = environment["PGPASSWORD"] }
        let database = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        return PostgresURL(
            host: host, port: url.port ?? 5432, username: url.user?.removingPercentEncoding ?? "postgres",
            password: password, database: database.isEmpty ? nil : database, sslMode: mode, rootCertificate: root)
    }

    /// The client TLS settings for the mode: `require` encrypts without checking, as libpq does.
    func tlsConfiguration() -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch sslMode {
        case .disable, .prefer, .require: tls.certificateVerification = .none
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        case .verifyFull: tls.certificateVerification = .fullVerification
        }
        if let rootCertificate { tls.trustRoots = .file(rootCertificate) }
        return tls
    }

    func clientConfiguration(maximumConnections: Int) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch sslMode {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(tlsConfiguration())
        case .require, .verifyCA, .verifyFull: tls = .require(tlsConfiguration())
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
        case .prefer: tls = .prefer(try NIOSSLContext(configuration: tlsConfiguration()))
        case .require, .verifyCA, .verifyFull: tls = .require(try NIOSSLContext(configuration: tlsConfiguration()))
        }
        return PostgresConnection.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls)
    }

    static func redacted(_ text: String) -> String { PostgresStore.redacted(text) }
}

extension PostgresStore {
    /// A database URL without its password (`***`), for banners, errors and logs. Done by hand rather
    /// than by URL parsing: a password with an unencoded `@` or `/` makes the URL unparseable, and
    /// must still not be shown.
    public static func redacted(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else { return text }
        let rest = text[schemeEnd.upperBound...]
        // The user information ends at the last '@' before the query: a password may hold '@' or '/'.
        let beforeQuery = rest[rest.startIndex..<(rest.firstIndex(of: "?") ?? rest.endIndex)]
        guard let at = beforeQuery.lastIndex(of: "@") else { return text }
        let userInfo = rest[rest.startIndex..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<schemeEnd.upperBound]) + userInfo[userInfo.startIndex..<colon] + ":***" + rest[at...]
    }
}

extension PostgresStore {
    /// Creates database `name` on the server at `serverURL` (for tests and first installs).
    public static func createDatabase(named name: String, serverURL: String, template: String? = nil) async throws -> String {
        let plain = { (name: String) in name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } }
        guard plain(name), template.map(plain) ?? true, var target = URLComponents(string: serverURL) else {
            throw StoreUnavailable(reason: "bad database name \(name)")
        }
        let client = PostgresClient(configuration: try PostgresURL.parse(serverURL).clientConfiguration(maximumConnections: 1))
        let runner = Task { await client.run() }
        defer { runner.cancel() }
        _ = try await client.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)" + (template.map { " TEMPLATE \($0)" } ?? ""))).collect()
        target.path = "/" + name
        return target.string ?? serverURL
    }
}

/// A result delivered once to a continuation, by whichever of the work, the timer or cancellation
/// comes first.
final class OneShot<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var early: Result<T, any Error>?
        var done = false
        var cleanup: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    func attach(_ continuation: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = state.withLock { s in
            if let early = s.early { return early }
            s.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    /// Runs `cleanup` once the result is in (at once if it already is).
    func onFinish(_ cleanup: @escaping @Sendable () -> Void) {
        let now: Bool = state.withLock { s in
            if s.done { return true }
            s.cleanup = cleanup
            return false
        }
        if now { cleanup() }
    }

    /// Delivers `result` if nothing was delivered yet; returns whether it was.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let (won, continuation, cleanup): (Bool, CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?) = state.withLock { s in
            guard !s.done else { return (false, nil, nil) }
            s.done = true
            if s.continuation == nil { s.early = result }
            defer {
                s.continuation = nil
                s.cleanup = nil
            }
            return (true, s.continuation, s.cleanup)
        }
        continuation?.resume(with: result)
        cleanup?()
        return won
    }
}

extension StoreUnavailable {
    /// The cause without anything a query carried: a PostgreSQL error's full description includes
    /// the statement and its bound values (payloads, sealed passwords), which must never reach a
    /// log. Kept: the error code, SQLSTATE, the server's message and the connection-level cause.
    init(PostgreSQL error: any Error, target: String) {
        if let unavailable = error as? StoreUnavailable {
            self = unavailable
            return
        }
        guard let psql = error as? PSQLError else {
            self.init(reason: "cannot use \(target): \(type(of: error))")
            return
        }
        var parts = ["\(psql.code)"]
        if let state = psql.serverInfo?[.sqlState] { parts.append("SQLSTATE \(state)") }
        if let message = psql.serverInfo?[.message] { parts.append(message) }
        if let underlying = psql.underlying { parts.append(String(describing: underlying).prefix(300).description) }
        self.init(reason: "cannot use \(target): " + parts.joined(separator: ", "))
    }
}

extension PostgresStore: DatabasePoolGauge {
    public var callsInFlight: Int { inFlight.load(ordering: .relaxed) }
}
