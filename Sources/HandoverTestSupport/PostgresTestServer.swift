import Foundation
import HandoverPostgres
import PostgresNIO

/// The PostgreSQL server the tests may use: `HANDOVER_TEST_POSTGRES_URL`, set by scripts/test after
/// it starts a throwaway cluster on loopback. Without it the PostgreSQL leg is skipped, and says so.
public enum PostgresTestServer {
    public static var url: String? {
        ProcessInfo.processInfo.environment["HANDOVER_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    public static let skipReason = "HANDOVER_TEST_POSTGRES_URL is not set; scripts/test starts a PostgreSQL cluster and sets it"

    /// A new, empty database for one test; returns its URL.
    public static func newDatabase() async throws -> String {
        guard let url else { throw CocoaError(.featureUnsupported) }
        return try await PostgresStore.createDatabase(named: freshName("t_"), serverURL: url)
    }

    /// A new database with every migration applied, for a test that only needs a working store (a
    /// test broker): a copy of one database migrated once per test process. Copying a template takes
    /// PostgreSQL a fraction of the time the migrations take, and a suite that starts a broker per
    /// test migrated a database for each.
    public static func newMigratedDatabase() async throws -> String {
        guard let url else { throw CocoaError(.featureUnsupported) }
        // Without a template (it could not be made) each test migrates its own database, as before;
        // a migration that fails there fails that test with the real cause.
        guard let template = try? await migratedTemplate.value else { return try await newDatabase() }
        // The template's last connection may still be closing: PostgreSQL refuses to copy a database
        // anyone is connected to (55006) until its backend has gone.
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            do {
                return try await PostgresStore.createDatabase(named: freshName("t_"), serverURL: url, template: template)
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "55006" && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    private static let migratedTemplate = Task<String, any Error> {
        guard let url else { throw CocoaError(.featureUnsupported) }
        let name = freshName("template_")
        // Made while the first suites start at once on two cores: a minute for each migration's call.
        let store = try await PostgresStore.connect(
            url: try await PostgresStore.createDatabase(named: name, serverURL: url), maximumConnections: 1, callTimeout: .seconds(60))
        await store.close()
        return name
    }

    static func freshName(_ prefix: String) -> String { prefix + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "") }

    /// Runs administrative SQL on the test server (to take a database away and give it back).
    public static func execute(_ sql: String) async throws {
        guard let url, let parts = URLComponents(string: url), let host = parts.host else { throw CocoaError(.featureUnsupported) }
        let client = PostgresClient(
            configuration: .init(
                host: host, port: parts.port ?? 5432, username: parts.user ?? "postgres",
                password: parts.password, database: "postgres", tls: .disable))
        let runner = Task { await client.run() }
        defer { runner.cancel() }
        _ = try await client.query(PostgresQuery(unsafeSQL: sql)).collect()
    }
}
