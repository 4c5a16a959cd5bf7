import ArgumentParser
import HandoverStore
import Foundation
import HandoverCore
import HandoverSQLite
import HandoverServer

/// `handover admin …`: operator commands that work on the store directly, whether or not a broker
/// is running on it.
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Admin tokens and other store operations.", subcommands: [Token.self])

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Admin API tokens.", subcommands: [Create.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create an admin API token. Prints it once, as the last line; only its hash is stored.")
            @Option(help: "Who the token is for (recorded in the audit log).") var name: String
            @Option(help: "admin | operator | viewer") var role: String
            @Option(help: "The store (HANDOVER_DATABASE).") var database: String?

            func run() async throws {
                guard let role = AdminRole(rawValue: role) else { throw ValidationError("--role must be admin, operator or viewer") }
                let store = try await StoreOpening.open(database)
                let token = AdminTokenFormat.generate()
                try await store.createAdminToken(name: name, role: role, tokenHash: AdminTokenFormat.hash(token), now: SystemClock.now())
                FileHandle.standardError.write(Data("Created \(role.rawValue) token for \(name). It is shown once:\n".utf8))
                print(token)
            }
        }
    }
}

/// Opens the store named by `--database` or `HANDOVER_DATABASE` (default as `serve`).
enum StoreOpening {
    static func dataDirectory(_ database: String?) -> String {
        var config = ServeConfiguration()
        if let database = database ?? ProcessInfo.processInfo.environment["HANDOVER_DATABASE"] { config.database = database }
        return config.dataDirectory
    }

    static func open(_ database: String?) async throws -> any BrokerStore {
        var config = ServeConfiguration()
        if let database = database ?? ProcessInfo.processInfo.environment["HANDOVER_DATABASE"] { config.database = database }
        return try await StoreLocation(config.database).open()
    }
}
