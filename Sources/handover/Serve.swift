import ArgumentParser
import Foundation
import HandoverServer
import HandoverStore
import Hummingbird
import Logging
import ServiceLifecycle

/// `handover serve`: runs the broker (contract §1). Each option is also `HANDOVER_<NAME>`.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the broker.")

    @Option(help: "Listen address (HANDOVER_HOST).") var host: String?
    @Option(help: "Listen port (HANDOVER_PORT).") var port: Int?
    @Option(help: "mutual | server | off (HANDOVER_TLS).") var tls: String?
    @Option(help: "Server certificate chain, PEM (HANDOVER_CERT).") var cert: String?
    @Option(help: "Server private key, PEM (HANDOVER_KEY).") var key: String?
    @Option(name: .customLong("client-ca"), help: "CA that client certificates must chain to (HANDOVER_CLIENT_CA).") var clientCA: String?
    @Option(name: .customLong("receipt-cert"), help: "Certificate that signs crossing receipts (HANDOVER_RECEIPT_CERT).") var receiptCert: String?
    @Option(name: .customLong("receipt-key"), help: "Its private key (HANDOVER_RECEIPT_KEY).") var receiptKey: String?
    @Option(help: "sqlite:PATH, or postgres://user@host:port/database for several instances (HANDOVER_DATABASE).") var database: String?
    @Option(name: .customLong("database-timeout"), help: "Seconds a request waits for PostgreSQL before a 503 (HANDOVER_DATABASE_TIMEOUT; default 10).") var databaseTimeout: Int64?
    @Option(help: "Routing directory folder (HANDOVER_ROUTES).") var routes: String?
    @Option(name: .customLong("routes-mode"), help: "import-if-empty | replace: when the folder becomes the directory in force (HANDOVER_ROUTES_MODE).") var routesMode: String?
    @Option(name: .customLong("shared-key"), help: "MESH environment shared secret (HANDOVER_SHARED_KEY).") var sharedKey: String?
    @Flag(help: "Development mode mirroring NHS mesh-sandbox; command line only, loopback only. Never in production.") var sandbox = false
    @Flag(name: .customLong("force-sandbox"), help: "Allow --sandbox on a non-loopback listener or on a store a production broker has used.") var forceSandbox = false
    @Option(name: .customLong("log-format"), help: "text | json (HANDOVER_LOG_FORMAT).") var logFormat: String?
    @Option(name: .customLong("log-level"), help: "trace | debug | info | notice | warning | error (HANDOVER_LOG_LEVEL).") var logLevel: String?
    @Option(name: .customLong("sweep-interval"), help: "Seconds between expiry sweeps (HANDOVER_SWEEP_INTERVAL).") var sweepInterval: Int64?
    @Option(name: .customLong("max-request-bytes"), help: "Largest request body, 413 past it (HANDOVER_MAX_REQUEST_BYTES; default 100000000).") var maxRequestBytes: Int64?
    @Option(name: .customLong("rate-limit"), help: "Requests a second per mailbox, 429 past it; 0 for none (HANDOVER_RATE_LIMIT; default 1000).") var rateLimit: Double?
    @Option(name: .customLong("rate-burst"), help: "Burst allowance per mailbox (HANDOVER_RATE_BURST; default 2000).") var rateBurst: Double?
    @Option(name: .customLong("max-connections"), help: "Open connections at most (HANDOVER_MAX_CONNECTIONS; default 1024).") var maxConnections: Int?
    @Option(name: .customLong("max-header-bytes"), help: "Largest request header block (HANDOVER_MAX_HEADER_BYTES; default 32768).") var maxHeaderBytes: Int?
    @Option(name: .customLong("idle-timeout"), help: "Seconds before an idle connection is closed (HANDOVER_IDLE_TIMEOUT; default 120).") var idleTimeout: Int64?

    func run() async throws {
        let config = try resolvedConfiguration(ProcessInfo.processInfo.environment)
        LogSetup.bootstrap(format: config.logFormat, level: config.logLevel)
        let logger = Logger(label: "handover")
        var pkiNotes: [String] = []
        if config.tls != .off && config.usesDevelopmentPKI {
            let pki = DevelopmentPKI(folder: "Certs/dev")
            if !pki.exists {
                let mailboxes = (try? DirectoryFiles.load(folder: config.routes).mailboxes.map(\.id)) ?? []
                try pki.initialise(mailboxes: mailboxes)
                pkiNotes.append("development PKI generated in Certs/dev (CA, server certificate for localhost, receipt key)")
            }
            pkiNotes.append("client certificates: Certs/dev/clients/<MAILBOX>.pem and .key (add one: handover certs issue MAILBOX); trust Certs/dev/ca.pem")
        }
        var environment = ProcessInfo.processInfo.environment
        if config.tls != .off && config.usesDevelopmentPKI && !config.sandbox {
            environment = try DevelopmentWebhookSecrets.fill(environment: environment, directoryFolder: config.routes,
                                                             dataDirectory: config.dataDirectory, notes: &pkiNotes)
        }
        let parts: BrokerParts
        do {
            parts = try await BrokerApplication.assemble(config, logger: logger, environment: environment)
        } catch {
            FileHandle.standardError.write(Data("handover: cannot start: \(error)\n".utf8))
            throw ExitCode(2)
        }
        var notes = pkiNotes + parts.notes
        notes += try await FirstAdminToken.ensure(store: parts.store, folder: config.dataDirectory)
        let app = try BrokerApplication.build(config, parts: parts, logger: logger)
        let scheme = config.tls == .off ? "http" : "https"
        var banner = ["Handover listening on \(scheme)://\(config.host):\(config.port) (tls: \(config.tls.rawValue), database: \((try? StoreLocation(config.database).displayName) ?? "?"), routes: \(config.routes)\(config.sandbox ? ", SANDBOX MODE" : ""))"]
        banner += notes
        FileHandle.standardError.write(Data((banner.joined(separator: "\n") + "\n").utf8))
        // Named explicitly: service-lifecycle otherwise names a service by its whole description.
        let group = ServiceGroup(configuration: .init(services: [.init(service: app, serviceName: "Handover")],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    func resolvedConfiguration(_ env: [String: String]) throws -> ServeConfiguration {
        var c = ServeConfiguration()
        func pick(_ flag: String?, _ name: String) -> String? { flag ?? env["HANDOVER_" + name] }
        if let v = pick(host, "HOST") { c.host = v }
        if let v = port ?? env["HANDOVER_PORT"].flatMap(Int.init) { c.port = v }
        if let v = pick(tls, "TLS") {
            guard let mode = ServeConfiguration.TLSMode(rawValue: v) else { throw ValidationError("--tls must be mutual, server or off") }
            c.tls = mode
        }
        if let v = pick(cert, "CERT") { c.certificate = v }
        if let v = pick(key, "KEY") { c.privateKey = v }
        if let v = pick(clientCA, "CLIENT_CA") { c.clientCA = v }
        if let v = pick(receiptCert, "RECEIPT_CERT") { c.receiptCertificate = v }
        if let v = pick(receiptKey, "RECEIPT_KEY") { c.receiptKey = v }
        if let v = pick(database, "DATABASE") { c.database = v }
        if let v = databaseTimeout ?? env["HANDOVER_DATABASE_TIMEOUT"].flatMap(Int64.init) {
            guard v > 0 else { throw ValidationError("--database-timeout must be at least 1 second") }
            c.databaseTimeoutSeconds = v
        }
        if let v = pick(routes, "ROUTES") { c.routes = v }
        if let v = pick(sharedKey, "SHARED_KEY") { c.sharedKey = v }
        if let v = pick(routesMode, "ROUTES_MODE") {
            guard let mode = DirectoryManager.StartMode(rawValue: v) else { throw ValidationError("--routes-mode must be import-if-empty or replace") }
            c.routesMode = mode
        }
        // Sandbox mode turns authentication off for resets: it is never read from the environment,
        // where it could be left set by accident.
        if env["HANDOVER_SANDBOX"] != nil {
            throw ValidationError("HANDOVER_SANDBOX is not read: sandbox mode is chosen on the command line only (--sandbox)")
        }
        c.sandbox = sandbox
        c.forceSandbox = forceSandbox
        if let v = pick(logFormat, "LOG_FORMAT") {
            guard let f = ServeConfiguration.LogFormat(rawValue: v) else { throw ValidationError("--log-format must be text or json") }
            c.logFormat = f
        }
        if let v = pick(logLevel, "LOG_LEVEL") { c.logLevel = v }
        if let v = sweepInterval ?? env["HANDOVER_SWEEP_INTERVAL"].flatMap(Int64.init) { c.sweepIntervalSeconds = max(1, v) }
        if let v = maxRequestBytes ?? env["HANDOVER_MAX_REQUEST_BYTES"].flatMap(Int64.init) { c.maxRequestBytes = max(1, v) }
        if let v = rateLimit ?? env["HANDOVER_RATE_LIMIT"].flatMap(Double.init) { c.ratePerSecond = max(0, v) }
        if let v = rateBurst ?? env["HANDOVER_RATE_BURST"].flatMap(Double.init) { c.rateBurst = max(1, v) }
        if let v = maxConnections ?? env["HANDOVER_MAX_CONNECTIONS"].flatMap(Int.init) { c.maxConnections = max(1, v) }
        if let v = maxHeaderBytes ?? env["HANDOVER_MAX_HEADER_BYTES"].flatMap(Int.init) { c.maxHeaderBytes = max(1024, v) }
        if let v = idleTimeout ?? env["HANDOVER_IDLE_TIMEOUT"].flatMap(Int64.init) { c.idleTimeoutSeconds = max(1, v) }
        return c
    }
}
