import Foundation
import HandoverConsole
import HandoverCore
import HandoverHTTP
import HandoverReceipts
import HandoverStore
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOSSL
import ServiceLifecycle

/// What a started broker is made of, for `main` and for tests (one composition for both).
public struct BrokerParts: Sendable {
    public let store: any BrokerStore
    public let directoryManager: DirectoryManager
    public let broker: MeshBroker
    public let sweeper: ExpirySweeper
    public let refresher: DirectoryRefresher
    public let scheduler: EscalationScheduler
    public let webhookSender: WebhookSender
    public let sharedKey: String
    public let revocations: ClientRevocations
    public let notes: [String]
    public let clock: @Sendable () -> Timestamp
    /// Seals and opens secrets the store keeps (rotated passwords, console TOTP secrets).
    public let secrets: SecretBox
    public var directory: DirectoryHolder { directoryManager.holder }
}

public enum BrokerApplication {
    /// Opens the store, brings the directory into force and wires the broker, without starting anything.
    public static func assemble(
        _ config: ServeConfiguration, logger: Logger,
        clock: @escaping @Sendable () -> Timestamp = SystemClock.now,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> BrokerParts {
        var notes: [String] = []
        let location = try StoreLocation(config.database)
        try FileManager.default.createDirectory(
            atPath: config.dataDirectory, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        try SandboxGuard.checkListener(config)
        let store = try await location.open(timeout: .seconds(config.databaseTimeoutSeconds), logger: logger)
        try await SandboxGuard.checkStore(store, config: config)
        let files = FileManager.default.fileExists(atPath: config.routes) ? try DirectoryFiles.loadWithDocument(folder: config.routes).document : nil
        let secrets = try await MasterKey.load(
            dataDirectory: config.dataDirectory, environment: environment, store: store,
            shared: location.isShared, notes: &notes)
        let manager = DirectoryManager(store: store, environment: environment, sandbox: config.sandbox, secrets: secrets, clock: clock)
        notes += try await manager.start(files: files, mode: config.routesMode, actor: "routes:\(config.routes)")
        let sharedKey = try SharedKey.resolve(config: config, environment: environment, notes: &notes)
        let metrics = BrokerMetrics()
        let channels = try notificationChannels(config, environment: environment, directory: manager.holder.snapshot.directory, notes: &notes)
        let webhookSender = WebhookSender(
            store: store, directory: manager.holder, environment: environment, channels: channels, clock: clock, logger: logger)
        // With instances sharing a database, another may plan a deadline this one must fire if the
        // planner dies, so look at the shared deadlines every few seconds rather than every 30.
        let scheduler = EscalationScheduler(
            store: store, directory: manager.holder, clock: clock, logger: logger,
            maxSleep: location.isShared ? .seconds(2) : .seconds(30),
            afterRaise: { webhookSender.wake.signal() }, onRaised: { metrics.alertRaised($0) })
        // Spent tokens outlive a restart: PostgreSQL keeps them in its shared cache, SQLite in a journal.
        var replayGuard = TokenReplayGuard(capacity: config.replayCapacity)
        var journal: SpentTokenJournal?
        if !location.isShared {
            let opened = try SpentTokenJournal(folder: URL(fileURLWithPath: config.dataDirectory).appendingPathComponent("spent-tokens"))
            let restored = opened.restore(into: &replayGuard, now: clock())
            if restored > 0 { notes.append("\(restored) spent token(s) restored from the journal; they stay refused") }
            journal = opened
        }
        let revocations = ClientRevocations(try ClientCRL.load(config))
        var meshConfiguration = MeshConfiguration(
            sandbox: config.sandbox, maxRequestBytes: config.maxRequestBytes,
            bindClientCertificates: config.tls == .mutual, ratePerSecond: config.ratePerSecond,
            rateBurst: config.rateBurst)
        meshConfiguration.certificateBinding = config.certificateBinding
        let broker = MeshBroker(
            store: store, directory: manager.holder, sharedKey: sharedKey, configuration: meshConfiguration,
            clock: clock, metrics: metrics, receiptSigner: try ReceiptKeys.load(config, notes: &notes),
            replayGuard: replayGuard, spentTokens: journal, revocations: revocations,
            onDelivered: { scheduler.wake.signal() })
        let expiry = ExpiryPolicy(uploadTimeoutSeconds: config.uploadTimeoutSeconds, subjectRetentionSeconds: config.subjectRetentionDays * 86_400)
        let sweeper = ExpirySweeper(
            store: store, policy: expiry, subjectHasher: CrossingSubjectHasher(secrets: secrets),
            interval: .seconds(config.sweepIntervalSeconds), clock: clock, logger: logger)
        let refresher = DirectoryRefresher(manager: manager, interval: .seconds(1), feed: store as? any DirectoryChangeFeed, logger: logger)
        return BrokerParts(
            store: store, directoryManager: manager, broker: broker, sweeper: sweeper, refresher: refresher,
            scheduler: scheduler, webhookSender: webhookSender,
            sharedKey: sharedKey, revocations: revocations, notes: notes, clock: clock, secrets: secrets)
    }

    /// The router with every endpoint for this configuration.
    /// Metrics outermost (they see the status errors chose), then errors, then, under mutual TLS, the
    /// connection's certificate read once; each endpoint group adds its own error shape and authentication.
    public static func router(_ parts: BrokerParts, sandbox: Bool, adminCertificateNames: Set<String>? = nil) -> Router<HandoverRequestContext> {
        let router = Router(context: HandoverRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(metrics: parts.broker.metrics))
        router.add(middleware: ErrorResponses())
        if parts.broker.configuration.bindClientCertificates || adminCertificateNames != nil {
            router.add(middleware: PeerIdentityMiddleware())
        }
        MeshEndpoints<HandoverRequestContext>(broker: parts.broker).register(on: router)
        AdminEndpoints<HandoverRequestContext>(
            manager: parts.directoryManager, store: parts.store, clock: parts.clock,
            revocations: parts.revocations, adminCertificateNames: adminCertificateNames
        ).register(on: router)
        if sandbox { SandboxEndpoints<HandoverRequestContext>(store: parts.store, clock: parts.clock).register(on: router) }
        return router
    }

    /// The runnable application: HTTP (or TLS) server plus the background services.
    public static func build(_ config: ServeConfiguration, parts: BrokerParts, logger: Logger) throws -> some ApplicationProtocol {
        let server: HTTPServerBuilder
        let http1 = HTTPServerBuilder.http1(configuration: guardedHTTP1(config, logger: logger, peerIdentity: true))
        var credentials: ServerCredentials?
        switch config.tls {
        case .off:
            server = http1
        case .server, .mutual:
            let loaded = try ServerCredentials(certificatePath: config.certificate, keyPath: config.privateKey)
            server = try .tls(http1, tlsConfiguration: try TLSSetup.serverConfiguration(config, credentials: loaded))
            credentials = loaded
        }
        // The store first: the group stops services in reverse order, so it closes last.
        var services: [any Service] = [
            StoreService(store: parts.store, logger: logger), parts.sweeper, parts.refresher, parts.scheduler, parts.webhookSender,
            StoreWatch(store: parts.store, metrics: parts.broker.metrics, logger: logger),
            CredentialReloader(
                server: credentials, broker: parts.broker, revocations: parts.revocations,
                config: config, logger: logger),
        ]
        if let port = config.monitoringPort {
            services.append(monitoringApplication(config, parts: parts, port: port, logger: logger))
        }
        if config.console { services.append(try consoleApplication(config, parts: parts, logger: logger)) }
        CertificateExpiry.record(config, metrics: parts.broker.metrics)
        return Application(
            router: router(parts, sandbox: config.sandbox, adminCertificateNames: config.tls == .mutual ? Set(config.adminCertificateNames) : nil),
            server: server,
            configuration: .init(
                address: .hostname(config.host, port: config.port), serverName: "Handover",
                availableConnectionsDelegate: MaximumAvailableConnections(config.maxConnections)),
            services: services,
            logger: logger)
    }
}

extension BrokerApplication {
    /// The SMTP relay and console link alert notifications use; a note when the directory emails
    /// someone and no relay is configured (those deliveries fail, recorded, until one is).
    public static func notificationChannels(
        _ config: ServeConfiguration, environment: [String: String], directory: Directory,
        notes: inout [String]
    ) throws -> NotificationChannels {
        var channels = NotificationChannels(consoleURL: config.consoleURL)
        if let url = config.smtpURL {
            let relay = try SMTPRelayConfiguration.parse(url: url, from: config.smtpFrom, trustFile: config.smtpCA, environment: environment)
            channels.smtp = SMTPRelay(configuration: relay)
            notes.append("alert email through \(relay.redacted) from \(relay.from)")
        } else if directory.escalationPolicies.contains(where: {
            $0.stages.contains { $0.notify.contains { if case .email = $0 { true } else { false } } }
        }) {
            notes.append("the directory sends alerts by email but no SMTP relay is configured (--smtp-url): those deliveries will fail until one is")
        }
        return channels
    }

    /// The monitoring listener (`--monitoring-port`): plain HTTP, no client certificate, only
    /// `/health` (liveness), `/ready` (readiness: 503 while the database is gone) and `/metrics`, so
    /// a load balancer or Prometheus can check a broker whose main port demands mutual TLS.
    static func monitoringApplication(_ config: ServeConfiguration, parts: BrokerParts, port: Int, logger: Logger) -> some Service {
        let router = Router(context: HandoverRequestContext.self)
        MeshEndpoints<HandoverRequestContext>(broker: parts.broker).registerMonitoring(on: router)
        return Application(
            router: router, server: .http1(configuration: guardedHTTP1(config, logger: logger, peerIdentity: false)),
            configuration: .init(
                address: .hostname(config.monitoringHost, port: port), serverName: "Handover monitoring",
                availableConnectionsDelegate: MaximumAvailableConnections(config.maxConnections)),
            logger: logger)
    }

    /// HTTP/1.1 as every listener speaks it: the header limits (`--max-header-bytes`, 100 fields;
    /// over them 431), the idle timeout, and the connection guard (first-request and request
    /// deadlines, the slow-reader timeout, connections per address counted per listener), so that
    /// no listener's sockets can be held open to use up the process's file descriptors.
    static func guardedHTTP1(_ config: ServeConfiguration, logger: Logger, peerIdentity: Bool) -> HTTP1Channel.Configuration {
        let limits = config.connectionLimits
        let ledger = ConnectionLedger(maxPerAddress: limits.maxPerAddress, logger: logger)
        return .init(
            additionalChannelHandlers: [ConnectionGuardHandler(limits: limits, ledger: ledger)] + (peerIdentity ? [PeerIdentityHandler()] : []),
            idleTimeout: .seconds(config.idleTimeoutSeconds),
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: config.maxHeaderBytes, maxHeaderListSize: config.maxHeaderBytes, maxHeaderFieldCount: 100))
    }
}

extension BrokerApplication {
    /// The web console on its own listener: HTTPS with the console's certificate and no client
    /// certificate (browsers have none); plain HTTP only when the main listener is `--tls off`.
    static func consoleApplication(_ config: ServeConfiguration, parts: BrokerParts, logger: Logger) throws -> some Service {
        let console = try Console(
            store: parts.store, manager: parts.directoryManager, secrets: parts.secrets, clock: parts.clock, oidc: config.oidc,
            publicURL: config.consoleURL, wakeEscalation: { parts.scheduler.wake.signal() },
            receipts: { [broker = parts.broker] in try await broker.checkedReceipt(for: $0) }, logger: logger)
        let http1 = HTTPServerBuilder.http1(configuration: guardedHTTP1(config, logger: logger, peerIdentity: false))
        let server: HTTPServerBuilder
        if config.tls == .off {
            server = http1
        } else {
            let credentials = try ServerCredentials(
                certificatePath: config.consoleCertificate ?? config.certificate, keyPath: config.consoleKey ?? config.privateKey)
            let loaded = credentials.current.withLock { $0 }
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: loaded.chain, privateKey: loaded.key)
            tls.minimumTLSVersion = .tlsv12
            server = try .tls(http1, tlsConfiguration: tls)
        }
        return Application(
            router: console.router(), server: server,
            configuration: .init(
                address: .hostname(config.consoleHost, port: config.consolePort), serverName: "Handover console",
                availableConnectionsDelegate: MaximumAvailableConnections(config.maxConnections)),
            logger: logger)
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The client CRL (`--client-crl`), checked against the client CA.
enum ClientCRL {
    static func load(_ config: ServeConfiguration) throws -> RevocationList? {
        guard let path = config.clientCRL else { return nil }
        guard let crl = try? String(contentsOfFile: path, encoding: .utf8), let ca = try? String(contentsOfFile: config.clientCA, encoding: .utf8)
        else {
            throw ConfigurationError("--client-crl: cannot read \(path) or the client CA \(config.clientCA)")
        }
        do {
            return try RevocationList(crlPEM: crl, issuerPEM: ca)
        } catch {
            throw ConfigurationError("--client-crl \(path): \(error)")
        }
    }
}

/// The receipt-signing key and certificate, if present (the development PKI makes them).
enum ReceiptKeys {
    static func load(_ config: ServeConfiguration, notes: inout [String]) throws -> CMSReceiptSigner? {
        guard FileManager.default.fileExists(atPath: config.receiptCertificate), FileManager.default.fileExists(atPath: config.receiptKey) else {
            notes.append("receipts are off: no \(config.receiptCertificate) / \(config.receiptKey)")
            return nil
        }
        return try CMSReceiptSigner(
            certificatePEM: try String(contentsOfFile: config.receiptCertificate, encoding: .utf8),
            keyPEM: try String(contentsOfFile: config.receiptKey, encoding: .utf8))
    }
}
