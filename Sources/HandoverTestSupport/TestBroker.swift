import Foundation
import HandoverCore
import HandoverServer
import Logging
import Synchronization

/// A broker assembled for tests: a real SQLite file in a fresh temporary folder (or, with
/// `HANDOVER_TEST_HTTP_BACKEND=postgres`, a fresh database on the test PostgreSQL server: the HTTP
/// suite's second leg), a directory written from YAML, and a manual clock the test moves.
public struct TestBroker: Sendable {
    public let parts: BrokerParts
    public let folder: URL
    public let clock: ManualClock
    public let configuration: ServeConfiguration

    public static let sharedKey = "TestKey"

    /// `reopening` starts a broker on an earlier one's folder, as a restart would.
    public init(
        routesYAML: String = TestBroker.defaultRoutes, sandbox: Bool = false, environment: [String: String] = TestBroker.passwords,
        start: Timestamp = SystemClock.now(), maxRequestBytes: Int64 = 100_000_000, reopening: URL? = nil,
        routesFolder: String? = nil, ratePerSecond: Double = 1000, rateBurst: Double = 2000
    ) async throws {
        folder = reopening ?? TestFolders.path("handover-test")
        let routes = folder.appendingPathComponent("routes")
        try FileManager.default.createDirectory(at: routes, withIntermediateDirectories: true)
        try routesYAML.write(to: routes.appendingPathComponent("directory.yaml"), atomically: true, encoding: .utf8)
        var config = ServeConfiguration()
        config.routes = routesFolder ?? routes.path
        config.database = try await TestBroker.database(in: folder)
        config.sharedKey = TestBroker.sharedKey
        config.sandbox = sandbox
        config.tls = .off
        // A PKI per test broker, for the receipt-signing key.
        let pki = DevelopmentPKI(folder: folder.appendingPathComponent("pki").path)
        if !pki.exists { try pki.initialise(mailboxes: []) }
        config.receiptCertificate = pki.folder.appendingPathComponent("receipts.pem").path
        config.receiptKey = pki.folder.appendingPathComponent("receipts.key").path
        config.maxRequestBytes = maxRequestBytes
        config.ratePerSecond = ratePerSecond
        config.rateBurst = rateBurst
        configuration = config
        clock = ManualClock(start)
        let clock = self.clock
        // PostgreSQL never generates a master key: every test broker there uses the shared test key.
        var environment = environment
        if TestBroker.onPostgres {
            environment["HANDOVER_MASTER_KEY"] = environment["HANDOVER_MASTER_KEY"] ?? TestBroker.passwords["HANDOVER_MASTER_KEY"]
        }
        parts = try await BrokerApplication.assemble(config, logger: Logger(label: "test"), clock: { clock.now }, environment: environment)
    }

    /// Whether test brokers use PostgreSQL (the HTTP suite's PostgreSQL leg) rather than SQLite.
    public static var onPostgres: Bool { ProcessInfo.processInfo.environment["HANDOVER_TEST_HTTP_BACKEND"] == "postgres" }

    /// The store for a broker in `folder`: SQLite there, or a fresh PostgreSQL database whose URL is
    /// kept in the folder, so a broker reopening the folder finds the same one.
    static func database(in folder: URL) async throws -> String {
        guard onPostgres else { return "sqlite:" + folder.appendingPathComponent("handover.sqlite").path }
        let saved = folder.appendingPathComponent("database-url")
        if let url = try? String(contentsOf: saved, encoding: .utf8) { return url }
        guard PostgresTestServer.url != nil else {
            throw ConfigurationError("HANDOVER_TEST_HTTP_BACKEND=postgres needs HANDOVER_TEST_POSTGRES_URL (scripts/test sets both)")
        }
        let url = try await PostgresTestServer.newMigratedDatabase()
        try url.write(to: saved, atomically: true, encoding: .utf8)
        return url
    }

    /// Releases the store's connections (PostgreSQL pools are finite; SQLite needs nothing).
    public func close() async {
        if TestBroker.onPostgres { await parts.store.close() }
    }

    /// Mailbox passwords, and the master key every test broker shares (brokers on one PostgreSQL
    /// database must agree on it; none is generated there).
    public static let passwords = [
        "ALICE_PW": "alice-secret", "BOB_PW": "bob-secret", "CAROL_PW": "carol-secret", "DAVE_PW": "dave-secret",
        "HANDOVER_MASTER_KEY": "dGVzdC1tYXN0ZXIta2V5LXRlc3QtbWFzdGVyLWtleS0",
    ]

    /// Four mailboxes in three organisations; WF goes ALICE → BOB (or org X26); ACK back; NOTYOURS is BOB → CAROL only.
    public static let defaultRoutes = """
        organisations:
          - {code: X26, name: Org X26, domain: nhs}
          - {code: X27, name: Org X27, domain: local-authority}
          - {code: X28, name: Org X28, domain: provider}
        mailboxes:
          - {id: ALICE, organisation: X26, name: Alice box, password: "${ALICE_PW}"}
          - {id: BOB, organisation: X27, name: Bob box, password: "${BOB_PW}"}
          - {id: CAROL, organisation: X28, name: Carol box, password: "${CAROL_PW}"}
          - {id: DAVE, organisation: X28, name: Dave box, password: "${DAVE_PW}", active: false}
        workflows:
          - {id: WF, senders: [ALICE], receivers: [X27], expiry: 1h}
          - {id: WF_ACK, senders: [X27], receivers: [ALICE]}
          - {id: WF_COPY_ACK, senders: [ALICE], receivers: [BOB]}
          - {id: NOTYOURS, senders: [BOB], receivers: [CAROL]}
        """

    /// A fresh NHSMESH header for `mailbox` at the clock's time.
    public func auth(_ mailbox: String, password: String? = nil) -> String {
        let pw = password ?? TestBroker.passwords[mailbox.uppercased() + "_PW"] ?? "password"
        return MeshTokenFactory.header(mailbox: mailbox, password: pw, sharedKey: TestBroker.sharedKey, now: clock.now)
    }
}

/// Makes NHSMESH headers as mesh-client does: a fresh nonce each time, minute-resolution timestamp.
public enum MeshTokenFactory {
    public static func header(
        mailbox: String, password: String, sharedKey: String, now: Timestamp, nonce: String = UUID().uuidString, count: Int = 0
    ) -> String {
        MeshAuthToken.header(
            mailbox: mailbox, password: password, sharedKey: sharedKey, nonce: nonce, nonceCount: count,
            timestamp: String(now.compactUTC.prefix(12)))
    }
}

/// A clock tests move by hand, so time-based behaviour is tested without sleeping.
public final class ManualClock: Sendable {
    private let current: Mutex<Timestamp>
    public init(_ start: Timestamp) { current = Mutex(start) }
    public var now: Timestamp { current.withLock { $0 } }
    public func advance(seconds: Int64) { current.withLock { $0 = $0.adding(seconds: seconds) } }
}

extension TestBroker {
    /// Mailbox id → password for the default routes (the `passwords` environment, keyed by mailbox).
    public static let mailboxPasswords: [String: String] =
        Dictionary(uniqueKeysWithValues: passwords.map { (String($0.key.dropLast("_PW".count)), $0.value) })

    /// A fresh temporary folder with `routes/directory.yaml`, for brokers run as child processes.
    public static func folderWithRoutes(_ name: String, yaml: String = defaultRoutes) throws -> (folder: URL, routes: URL) {
        let folder = TestFolders.path("handover-\(name)")
        let routes = folder.appendingPathComponent("routes")
        try FileManager.default.createDirectory(at: routes, withIntermediateDirectories: true)
        try yaml.write(to: routes.appendingPathComponent("directory.yaml"), atomically: true, encoding: .utf8)
        return (folder, routes)
    }
}
