import ArgumentParser
import Foundation
import HandoverConsole
import HandoverCore
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
    @Option(
        name: .customLong("monitoring-port"),
        help: "A plain-HTTP listener for /health, /ready and /metrics, no client certificate (HANDOVER_MONITORING_PORT; default none).")
    var monitoringPort: Int?
    @Option(name: .customLong("monitoring-host"), help: "Its address (HANDOVER_MONITORING_HOST; default 127.0.0.1).") var monitoringHost: String?
    @Option(help: "Server certificate chain, PEM (HANDOVER_CERT).") var cert: String?
    @Option(help: "Server private key, PEM (HANDOVER_KEY).") var key: String?
    @Option(name: .customLong("client-ca"), help: "CA that client certificates must chain to (HANDOVER_CLIENT_CA).") var clientCA: String?
    @Option(
        name: .customLong("client-crl"),
        help: ArgumentHelp(
            "PEM certificate revocation lists signed by the client CA; revoked client certificates are refused, reread on SIGHUP "
                + "(HANDOVER_CLIENT_CRL).")
    ) var clientCRL: String?
    @Option(
        name: .customLong("certificate-binding"),
        help: ArgumentHelp(
            "names | explicit: a certificate binds by naming the mailbox or organisation, or only where the directory lists it under a mailbox's "
                + "certificates: (HANDOVER_CERTIFICATE_BINDING; default names).")
    ) var certificateBinding: String?
    @Option(name: .customLong("receipt-cert"), help: "Certificate that signs crossing receipts (HANDOVER_RECEIPT_CERT).") var receiptCert: String?
    @Option(name: .customLong("receipt-key"), help: "Its private key (HANDOVER_RECEIPT_KEY).") var receiptKey: String?
    @Option(help: "sqlite:PATH, or postgres://user@host:port/database for several instances (HANDOVER_DATABASE).") var database: String?
    @Option(
        name: .customLong("data-dir"),
        help: "Folder for generated secrets (admin token, keys); default: the SQLite file's folder, or .handover (HANDOVER_DATA_DIR).") var dataDir:
        String?
    @Option(
        name: .customLong("database-timeout"), help: "Seconds a request waits for PostgreSQL before a 503 (HANDOVER_DATABASE_TIMEOUT; default 10).")
    var databaseTimeout: Int64?
    @Option(help: "Routing directory folder (HANDOVER_ROUTES).") var routes: String?
    @Option(
        name: .customLong("routes-mode"), help: "import-if-empty | replace: when the folder becomes the directory in force (HANDOVER_ROUTES_MODE).")
    var routesMode: String?
    @Option(name: .customLong("shared-key"), help: "MESH environment shared secret (HANDOVER_SHARED_KEY).") var sharedKey: String?
    @Flag(help: "Development mode mirroring NHS mesh-sandbox; command line only, loopback only. Never in production.") var sandbox = false
    @Flag(name: .customLong("force-sandbox"), help: "Allow --sandbox on a non-loopback listener or on a store a production broker has used.")
    var forceSandbox = false
    @Option(name: .customLong("log-format"), help: "text | json (HANDOVER_LOG_FORMAT).") var logFormat: String?
    @Option(name: .customLong("log-level"), help: "trace | debug | info | notice | warning | error (HANDOVER_LOG_LEVEL).") var logLevel: String?
    @Option(name: .customLong("sweep-interval"), help: "Seconds between expiry sweeps (HANDOVER_SWEEP_INTERVAL).") var sweepInterval: Int64?
    @Option(name: .customLong("max-request-bytes"), help: "Largest request body, 413 past it (HANDOVER_MAX_REQUEST_BYTES; default 100000000).")
    var maxRequestBytes: Int64?
    @Option(name: .customLong("rate-limit"), help: "Requests a second per mailbox, 429 past it; 0 for none (HANDOVER_RATE_LIMIT; default 1000).")
    var rateLimit: Double?
    @Option(name: .customLong("rate-burst"), help: "Burst allowance per mailbox (HANDOVER_RATE_BURST; default 2000).") var rateBurst: Double?
    @Option(name: .customLong("max-connections"), help: "Open connections at most (HANDOVER_MAX_CONNECTIONS; default 1024).") var maxConnections: Int?
    @Option(name: .customLong("max-header-bytes"), help: "Largest request header block (HANDOVER_MAX_HEADER_BYTES; default 32768).")
    var maxHeaderBytes: Int?
    @Option(name: .customLong("idle-timeout"), help: "Seconds before an idle connection is closed (HANDOVER_IDLE_TIMEOUT; default 120).")
    var idleTimeout: Int64?
    @Option(
        name: .customLong("max-connections-per-address"),
        help: "Open connections per client address, 0 for none (HANDOVER_MAX_CONNECTIONS_PER_ADDRESS; default 128).") var maxConnectionsPerAddress:
        Int?
    @Option(
        name: .customLong("first-request-timeout"),
        help: "Seconds from connecting (TLS handshake included) to a complete first request head (HANDOVER_FIRST_REQUEST_TIMEOUT; default 30).")
    var firstRequestTimeout: Int64?
    @Option(
        name: .customLong("write-stall-timeout"),
        help: "Seconds a client may leave a response unread before the connection is closed (HANDOVER_WRITE_STALL_TIMEOUT; default 60).")
    var writeStallTimeout: Int64?
    @Option(
        name: .customLong("subject-retention-days"),
        help: ArgumentHelp(
            "Days after a crossing closes (outcome, expiry, or acknowledgement where nobody must accept) before its NHS number is reduced to a "
                + "keyed hash and local ids dropped; the controllers decide (HANDOVER_SUBJECT_RETENTION_DAYS; default 30).")
    ) var subjectRetentionDays: Int64?
    @Option(
        name: .customLong("upload-timeout"),
        help: "Seconds a chunked upload may stay incomplete before it is discarded and the sender told (HANDOVER_UPLOAD_TIMEOUT; default 86400).")
    var uploadTimeout: Int64?
    @Option(
        name: .customLong("smtp-url"),
        help: ArgumentHelp(
            "SMTP relay for email alerts: smtp://relay:587 (STARTTLS required), smtps://relay:465, or smtp://localhost:25?starttls=off; "
                + "credentials from HANDOVER_SMTP_USERNAME and HANDOVER_SMTP_PASSWORD (HANDOVER_SMTP_URL).")
    ) var smtpURL: String?
    @Option(name: .customLong("smtp-from"), help: "The address alert emails come from (HANDOVER_SMTP_FROM).") var smtpFrom: String?
    @Option(name: .customLong("smtp-ca"), help: "PEM certificates to trust for the SMTP relay instead of the system's (HANDOVER_SMTP_CA).")
    var smtpCA: String?
    @Option(
        name: .customLong("console-url"),
        help: "The console's public address, linked from every alert notification, e.g. https://handover.example.org (HANDOVER_CONSOLE_URL).")
    var consoleURL: String?
    @Option(help: "on | off: the web console on its own listener (HANDOVER_CONSOLE; default on).") var console: String?
    @Option(name: .customLong("console-host"), help: "The console's listen address (HANDOVER_CONSOLE_HOST; default 127.0.0.1).") var consoleHost:
        String?
    @Option(name: .customLong("console-port"), help: "The console's port (HANDOVER_CONSOLE_PORT; default 8444).") var consolePort: Int?
    @Option(
        name: .customLong("console-cert"),
        help: "The console's certificate chain, PEM, one browsers trust (HANDOVER_CONSOLE_CERT; default the main listener's).")
    var consoleCert: String?
    @Option(name: .customLong("console-key"), help: "Its private key (HANDOVER_CONSOLE_KEY).") var consoleKey: String?
    @Option(
        name: .customLong("console-admin-email"),
        help: "The email of the local console admin the first start creates (HANDOVER_CONSOLE_ADMIN_EMAIL; default admin@handover.local).")
    var consoleAdminEmail: String?
    @Option(name: .customLong("oidc-issuer"), help: "An OpenID Connect issuer people may sign in with (HANDOVER_OIDC_ISSUER).") var oidcIssuer:
        String?
    @Option(name: .customLong("oidc-client-id"), help: "The console's client id there (HANDOVER_OIDC_CLIENT_ID).") var oidcClientID: String?
    @Option(
        name: .customLong("oidc-client-secret"),
        help: "Its client secret; prefer HANDOVER_OIDC_CLIENT_SECRET, which stays off the command line.") var oidcClientSecret: String?
    @Option(
        name: .customLong("oidc-client-key"),
        help: "A PEM RSA private key for private_key_jwt instead of a secret, as NHS CIS2 uses (HANDOVER_OIDC_CLIENT_KEY).")
    var oidcClientKey: String?
    @Option(
        name: .customLong("oidc-roles-claim"),
        help: "The claim listing a person's Handover roles (HANDOVER_OIDC_ROLES_CLAIM; default handover_roles).") var oidcRolesClaim: String?
    @Option(
        name: .customLong("oidc-organisations-claim"),
        help: "The claim listing their organisations' ODS codes (HANDOVER_OIDC_ORGANISATIONS_CLAIM; default handover_organisations).")
    var oidcOrganisationsClaim: String?
    @Option(
        name: .customLong("oidc-mailboxes-claim"),
        help: "The claim listing the mailboxes a practitioner acts for (HANDOVER_OIDC_MAILBOXES_CLAIM; default handover_mailboxes).")
    var oidcMailboxesClaim: String?
    @Option(
        name: .customLong("replay-capacity"),
        help: "Spent tokens remembered at most; past it new tokens get 503 (HANDOVER_REPLAY_CAPACITY; default 4000000).") var replayCapacity: Int?

    func run() async throws {
        let config: ServeConfiguration
        do {
            config = try resolvedConfiguration(ProcessInfo.processInfo.environment)
            try ConfigurationCheck.files(config)
        } catch {
            FileHandle.standardError.write(Data("handover: cannot start: \(error)\n".utf8))
            throw ExitCode(2)
        }
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
            pkiNotes.append(
                "client certificates: Certs/dev/clients/<MAILBOX>.pem and .key (add one: handover certs issue MAILBOX); trust Certs/dev/ca.pem")
        }
        var environment = ProcessInfo.processInfo.environment
        if config.tls != .off && config.usesDevelopmentPKI && !config.sandbox {
            environment = try DevelopmentWebhookSecrets.fill(
                environment: environment, directoryFolder: config.routes,
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
        if config.console {
            notes += try await FirstConsoleAdmin.ensure(
                store: parts.store, secrets: parts.secrets, email: config.consoleAdminEmail, folder: config.dataDirectory, now: SystemClock.now())
            notes.append("console on \(config.tls == .off ? "http" : "https")://\(config.consoleHost):\(config.consolePort)/console")
        }
        let app = try BrokerApplication.build(config, parts: parts, logger: logger)
        let scheme = config.tls == .off ? "http" : "https"
        var banner = [
            "Handover listening on \(scheme)://\(config.host):\(config.port) (tls: \(config.tls.rawValue), "
                + "database: \((try? StoreLocation(config.database).displayName) ?? "?")"
                + ", routes: \(config.routes)\(config.sandbox ? ", SANDBOX MODE" : ""))"
        ]
        banner += notes
        if config.logFormat == .json {
            // Every line JSON in JSON mode: the banner goes through the logger too.
            for line in banner { logger.notice("\(line)") }
        } else {
            FileHandle.standardError.write(Data((banner.joined(separator: "\n") + "\n").utf8))
        }
        // Named explicitly: service-lifecycle otherwise names a service by its whole description.
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: app, serviceName: "Handover")],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        // The store is closed by its service (`StoreService`), after everything that uses it.
        try await group.run()
    }

    /// Flags first, then `HANDOVER_<NAME>`; a value that does not parse or is out of range is an error
    /// naming the setting, never silently ignored or clamped.
    func resolvedConfiguration(_ env: [String: String]) throws -> ServeConfiguration {
        var c = ServeConfiguration()
        // A variable that does not parse is an error even when a flag overrides it: it is a mistake
        // waiting for the day the flag is dropped.
        func pick<T>(_ flag: T?, _ name: String, _ expected: String, _ parse: (String) -> T?) throws -> T? {
            guard let raw = env["HANDOVER_" + name] else { return flag }
            guard let value = parse(raw.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("HANDOVER_\(name) must be \(expected) (it is \"\(raw.prefix(40))\")")
            }
            return flag ?? value
        }
        func text(_ flag: String?, _ name: String) -> String? { flag ?? env["HANDOVER_" + name] }
        func number<T: FixedWidthInteger>(_ flag: T?, _ name: String, _ option: String, _ range: ClosedRange<T>, _ meaning: String = "") throws -> T?
        {
            let expected = "a whole number from \(range.lowerBound) to \(range.upperBound)\(meaning)"
            guard let value = try pick(flag, name, expected, { T($0) }) else { return nil }
            guard range.contains(value) else { throw ValidationError("--\(option) must be \(expected) (it is \(value))") }
            return value
        }
        func choice<T: RawRepresentable & CaseIterable>(_ flag: String?, _ name: String, _ option: String, _ type: T.Type) throws -> T?
        where T.RawValue == String {
            guard let raw = text(flag, name) else { return nil }
            guard let value = T(rawValue: raw) else {
                throw ValidationError(
                    "--\(option) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")) (it is \"\(raw.prefix(40))\")")
            }
            return value
        }

        if let v = text(host, "HOST") { c.host = v }
        if let v = try number(port, "PORT", "port", 0...65535, " (0 picks a free port)") { c.port = v }
        if let v = try choice(tls, "TLS", "tls", ServeConfiguration.TLSMode.self) { c.tls = v }
        if let v = try number(monitoringPort, "MONITORING_PORT", "monitoring-port", 0...65535) { c.monitoringPort = v }
        if let v = text(monitoringHost, "MONITORING_HOST") { c.monitoringHost = v }
        if let v = text(cert, "CERT") { c.certificate = v }
        if let v = text(key, "KEY") { c.privateKey = v }
        if let v = text(clientCA, "CLIENT_CA") { c.clientCA = v }
        if let v = text(clientCRL, "CLIENT_CRL") { c.clientCRL = v }
        if let v = try choice(certificateBinding, "CERTIFICATE_BINDING", "certificate-binding", ClientCertificateBinding.Mode.self) {
            c.certificateBinding = v
        }
        if let v = text(receiptCert, "RECEIPT_CERT") {
            c.receiptCertificate = v
            c.receiptFilesExplicit = true
        }
        if let v = text(receiptKey, "RECEIPT_KEY") {
            c.receiptKey = v
            c.receiptFilesExplicit = true
        }
        if let v = text(database, "DATABASE") { c.database = v }
        if let v = text(dataDir, "DATA_DIR") { c.dataFolder = v }
        if let v = try number(databaseTimeout, "DATABASE_TIMEOUT", "database-timeout", 1...3600) { c.databaseTimeoutSeconds = v }
        if let v = text(routes, "ROUTES") { c.routes = v }
        if let v = text(sharedKey, "SHARED_KEY") { c.sharedKey = v }
        if let v = try choice(routesMode, "ROUTES_MODE", "routes-mode", DirectoryManager.StartMode.self) { c.routesMode = v }
        // Sandbox mode turns authentication off for resets: it is never read from the environment,
        // where it could be left set by accident.
        if env["HANDOVER_SANDBOX"] != nil {
            throw ValidationError("HANDOVER_SANDBOX is not read: sandbox mode is chosen on the command line only (--sandbox)")
        }
        c.sandbox = sandbox
        c.forceSandbox = forceSandbox
        if let v = try choice(logFormat, "LOG_FORMAT", "log-format", ServeConfiguration.LogFormat.self) { c.logFormat = v }
        if let v = try choice(logLevel, "LOG_LEVEL", "log-level", Logger.Level.self) { c.logLevel = v.rawValue }
        if let v = try number(sweepInterval, "SWEEP_INTERVAL", "sweep-interval", 1...86_400) { c.sweepIntervalSeconds = v }
        if let v = try number(maxRequestBytes, "MAX_REQUEST_BYTES", "max-request-bytes", 1024...1_000_000_000) { c.maxRequestBytes = v }
        if let v = try pick(rateLimit, "RATE_LIMIT", "a number of requests a second, 0 for none", Double.init) {
            guard v.isFinite, v >= 0, v <= 1_000_000 else { throw ValidationError("--rate-limit must be from 0 (no limit) to 1000000 (it is \(v))") }
            c.ratePerSecond = v
        }
        if let v = try pick(rateBurst, "RATE_BURST", "a number of requests", Double.init) {
            guard v.isFinite, v >= 1, v <= 10_000_000 else { throw ValidationError("--rate-burst must be from 1 to 10000000 (it is \(v))") }
            c.rateBurst = v
        }
        if let v = try number(maxConnections, "MAX_CONNECTIONS", "max-connections", 1...1_000_000) { c.maxConnections = v }
        if let v = try number(maxConnectionsPerAddress, "MAX_CONNECTIONS_PER_ADDRESS", "max-connections-per-address", 0...1_000_000, " (0: no limit)")
        {
            c.connectionLimits.maxPerAddress = v
        }
        if let v = try number(firstRequestTimeout, "FIRST_REQUEST_TIMEOUT", "first-request-timeout", 1...3600) {
            c.connectionLimits.firstRequestSeconds = v
        }
        if let v = try number(writeStallTimeout, "WRITE_STALL_TIMEOUT", "write-stall-timeout", 1...3600) { c.connectionLimits.writeStallSeconds = v }
        if let v = try number(maxHeaderBytes, "MAX_HEADER_BYTES", "max-header-bytes", 1024...1_048_576) { c.maxHeaderBytes = v }
        if let v = try number(idleTimeout, "IDLE_TIMEOUT", "idle-timeout", 1...86_400) { c.idleTimeoutSeconds = v }
        if let v = try number(uploadTimeout, "UPLOAD_TIMEOUT", "upload-timeout", 60...30 * 86_400) { c.uploadTimeoutSeconds = v }
        if let v = try number(subjectRetentionDays, "SUBJECT_RETENTION_DAYS", "subject-retention-days", 1...3650) { c.subjectRetentionDays = v }
        if let v = try number(replayCapacity, "REPLAY_CAPACITY", "replay-capacity", 1000...100_000_000) { c.replayCapacity = v }
        c.smtpURL = text(smtpURL, "SMTP_URL")
        c.smtpFrom = text(smtpFrom, "SMTP_FROM")
        c.smtpCA = text(smtpCA, "SMTP_CA")
        if let v = text(consoleURL, "CONSOLE_URL") {
            guard let url = URLComponents(string: v), ["https", "http"].contains(url.scheme?.lowercased() ?? ""), url.host?.isEmpty == false else {
                throw ValidationError("--console-url must be an http(s) address such as https://handover.example.org (it is \"\(v.prefix(60))\")")
            }
            c.consoleURL = v
        }
        if let v = text(console, "CONSOLE") {
            guard v == "on" || v == "off" else { throw ValidationError("--console must be on or off (it is \"\(v.prefix(20))\")") }
            c.console = v == "on"
        }
        if let v = text(consoleHost, "CONSOLE_HOST") { c.consoleHost = v }
        if let v = try number(consolePort, "CONSOLE_PORT", "console-port", 0...65535) { c.consolePort = v }
        c.consoleCertificate = text(consoleCert, "CONSOLE_CERT")
        c.consoleKey = text(consoleKey, "CONSOLE_KEY")
        if (c.consoleCertificate == nil) != (c.consoleKey == nil) { throw ValidationError("--console-cert and --console-key go together") }
        if let v = text(consoleAdminEmail, "CONSOLE_ADMIN_EMAIL") {
            guard EmailAddress.isValid(v) else { throw ValidationError("--console-admin-email must be an email address") }
            c.consoleAdminEmail = v
        }
        if let issuer = text(oidcIssuer, "OIDC_ISSUER") {
            var oidc = OIDCConfiguration(
                issuer: issuer, clientID: text(oidcClientID, "OIDC_CLIENT_ID") ?? "", clientSecret: text(oidcClientSecret, "OIDC_CLIENT_SECRET"))
            if let path = text(oidcClientKey, "OIDC_CLIENT_KEY") {
                guard let pem = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw ValidationError("--oidc-client-key: cannot read \(path)")
                }
                oidc.clientKeyPEM = pem
            }
            if let v = text(oidcRolesClaim, "OIDC_ROLES_CLAIM") { oidc.rolesClaim = v }
            if let v = text(oidcOrganisationsClaim, "OIDC_ORGANISATIONS_CLAIM") { oidc.organisationsClaim = v }
            if let v = text(oidcMailboxesClaim, "OIDC_MAILBOXES_CLAIM") { oidc.mailboxesClaim = v }
            if let problem = oidc.problem { throw ValidationError(problem) }
            c.oidc = oidc
        } else if text(oidcClientID, "OIDC_CLIENT_ID") != nil {
            throw ValidationError("--oidc-client-id needs --oidc-issuer")
        }
        if c.smtpURL == nil && (c.smtpFrom != nil || c.smtpCA != nil) { throw ValidationError("--smtp-from and --smtp-ca need --smtp-url") }
        return c
    }
}
