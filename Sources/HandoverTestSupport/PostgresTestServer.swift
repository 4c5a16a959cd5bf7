import Foundation
import HandoverPostgres

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
        return try await PostgresStore.createDatabase(named: "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""), serverURL: url)
    }
}
