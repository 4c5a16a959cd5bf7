import Foundation
import HandoverConsole
import HandoverCore
import HandoverStore

/// How `handover serve` runs (contract §1). Every option is also `HANDOVER_<NAME>` in the environment.
public struct ServeConfiguration: Sendable {
    public enum TLSMode: String, Sendable, CaseIterable { case mutual, server, off }

    public var host = "127.0.0.1"
    public var port = 8443
    /// A plain-HTTP listener for /health, /ready and /metrics (none by default).
    public var monitoringPort: Int?
    public var monitoringHost = "127.0.0.1"
    public var tls: TLSMode = .mutual
    public var certificate = "Certs/dev/server.pem"
    public var privateKey = "Certs/dev/server.key"
    public var clientCA = "Certs/dev/ca.pem"
    /// A PEM file of CRLs signed by the client CA: revoked client certificates are refused.
    public var clientCRL: String?
    /// How mutual-TLS client certificates bind to mailboxes.
    public var certificateBinding: ClientCertificateBinding.Mode = .names
    public var receiptCertificate = "Certs/dev/receipts.pem"
    public var receiptKey = "Certs/dev/receipts.key"
    /// Receipt files named by the operator: missing ones are then an error, not "receipts are off".
    public var receiptFilesExplicit = false
    public var database = "sqlite:.handover/handover.sqlite"
    /// How long a request may wait for PostgreSQL before it is answered 503.
    public var databaseTimeoutSeconds: Int64 = 10
    public var routes = "Routes"
    public var routesMode: DirectoryManager.StartMode = .importIfEmpty
    public var sharedKey: String?
    public var sandbox = false
    /// Lets `--sandbox` run on a non-loopback listener or a store that holds production data.
    public var forceSandbox = false
    public var logFormat: LogFormat = isatty(STDERR_FILENO) != 0 ? .text : .json
    public var logLevel = "info"
    /// How often the expiry sweeper looks for work.
    public var sweepIntervalSeconds: Int64 = 30
    public var maxRequestBytes: Int64 = 100_000_000
    public var idleTimeoutSeconds: Int64 = 120
    /// A chunked upload still incomplete this long after it began is discarded and its sender told.
    public var uploadTimeoutSeconds: Int64 = 24 * 3600
    /// Days a closed crossing keeps its subject before the NHS number is reduced to a keyed hash.
    public var subjectRetentionDays: Int64 = 30
    public var maxConnections = 1024
    public var maxHeaderBytes = 32 * 1024
    /// Handshake and request deadlines, slow-reader timeout, connections per address.
    public var connectionLimits = ConnectionLimits()
    public var ratePerSecond: Double = 1000
    public var rateBurst: Double = 2000
    /// Unexpired spent tokens remembered at most (about 12 bytes each); past it new tokens get 503.
    public var replayCapacity = 4_000_000
    /// The SMTP relay for email alerts (`smtp://host:587`, STARTTLS required; `smtps://`; `?starttls=off`).
    public var smtpURL: String?
    /// The address alert emails come from.
    public var smtpFrom: String?
    /// PEM certificates to trust for the relay instead of the system's.
    public var smtpCA: String?
    /// The console's public address, for the link in every alert notification.
    public var consoleURL: String?
    /// The web console's own listener (HTTPS without client certificates; plain HTTP only when the
    /// main listener is `--tls off`, behind a TLS-terminating proxy).
    public var console = true
    public var consoleHost = "127.0.0.1"
    public var consolePort = 8444
    /// The console's certificate and key; by default the main listener's.
    public var consoleCertificate: String?
    public var consoleKey: String?
    /// The email of the local admin the first start creates.
    public var consoleAdminEmail = "admin@handover.local"
    /// Signing in with an OpenID Connect provider (none by default: local accounts only).
    public var oidc: OIDCConfiguration?
    /// Under mutual TLS, client-certificate names (lowercase CN or DNS SAN) allowed to call the admin API.
    public var adminCertificateNames = ["handover-admin"]

    public enum LogFormat: String, Sendable, CaseIterable { case text, json }

    public init() {}

    /// Whether the TLS files are the development PKI's defaults (generated on first start if missing).
    public var usesDevelopmentPKI: Bool {
        certificate.hasPrefix("Certs/dev/") && privateKey.hasPrefix("Certs/dev/") && clientCA.hasPrefix("Certs/dev/")
    }

    /// The SQLite file path, or nil if `database` is not a SQLite URL.
    public var sqlitePath: String? {
        guard database.hasPrefix("sqlite:") else { return nil }
        return String(database.dropFirst("sqlite:".count))
    }

    /// Whether the store is the default one, whose folder `serve` creates.
    public var usesDefaultDataDirectory: Bool { database == ServeConfiguration().database }

    /// Where generated secrets go when the store is not a SQLite file (`--data-dir`).
    public var dataFolder: String?

    /// The folder that holds generated secrets (and the SQLite file).
    public var dataDirectory: String {
        dataFolder ?? (sqlitePath.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path }) ?? ".handover"
    }
}
