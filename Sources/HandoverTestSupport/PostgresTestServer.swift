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
        return try await PostgresStore.createDatabase(
            named: "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""), serverURL: url)
    }

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
