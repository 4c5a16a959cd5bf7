import ArgumentParser
import Foundation
import HandoverCore
import HandoverSQLite
import HandoverServer
import HandoverStore

/// `handover admin …`: operator commands that work on the store directly, whether or not a broker
/// is running on it.
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Admin tokens and other store operations.", subcommands: [Token.self])

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Admin API tokens.", subcommands: [Create.self, List.self, Revoke.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create an admin API token. Prints it once, as the last line; only its hash is stored.")
            @Option(help: "Who the token is for (recorded in the audit log).") var name: String
            @Option(help: "admin | operator | viewer") var role: String
            @Option(name: .customLong("expires-in"), help: "How long it is valid: 12h, 30d, … (default: until revoked).") var expiresIn: String?
            @Option(help: "The store (HANDOVER_DATABASE).") var database: String?

            func run() async throws {
                guard let role = AdminRole(rawValue: role) else { throw ValidationError("--role must be admin, operator or viewer") }
                var expiry: Timestamp?
                if let expiresIn {
                    guard let seconds = DirectoryDuration(expiresIn)?.elapsedSeconds else {
                        throw ValidationError("--expires-in is a duration such as 12h or 30d (at most 10 years)")
                    }
                    expiry = SystemClock.now().adding(seconds: seconds)
                }
                let store = try await StoreOpening.open(database, creating: true)
                let token = AdminTokenFormat.generate()
                let id = try await store.createAdminToken(
                    name: name, role: role, tokenHash: AdminTokenFormat.hash(token), expiresAt: expiry, now: SystemClock.now())
                let until = expiry.map { ", valid until \($0.isoUTC)" } ?? ""
                FileHandle.standardError.write(Data("Created \(role.rawValue) token \(id) for \(name)\(until). It is shown once:\n".utf8))
                print(token)
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List admin tokens (never the tokens themselves).")
            @Option(help: "The store (HANDOVER_DATABASE).") var database: String?

            func run() async throws {
                let now = SystemClock.now()
                let tokens = try await StoreOpening.open(database).adminTokens()
                print("id\trole\tstate\tcreated\texpires\tname")
                for t in tokens {
                    let state = t.revokedAt != nil ? "revoked" : (t.isUsable(now: now) ? "active" : "expired")
                    print("\(t.id)\t\(t.role.rawValue)\t\(state)\t\(t.createdAt.isoUTC)\t\(t.expiresAt?.isoUTC ?? "never")\t\(t.name)")
                }
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke an admin token by its id (from `list`); it stops working at once.")
            @Argument(help: "The token's id.") var id: Int64
            @Option(help: "The store (HANDOVER_DATABASE).") var database: String?

            func run() async throws {
                guard try await StoreOpening.open(database).revokeAdminToken(id: id, actor: "cli", now: SystemClock.now()) else {
                    throw ValidationError("no active token has id \(id) (see `handover admin token list`)")
                }
                print("token \(id) revoked")
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

    static func isShared(_ database: String?) -> Bool {
        let url = database ?? ProcessInfo.processInfo.environment["HANDOVER_DATABASE"] ?? ServeConfiguration().database
        return (try? StoreLocation(url).isShared) ?? false
    }

    /// Opens the store. Commands that only read or change what is there (`creating: false`) never
    /// create an empty SQLite file where none was: a typo in `--database` would look like an empty
    /// store. Those that set a store up before its first start (a token, an import) may.
    static func open(_ database: String?, creating: Bool = false) async throws -> any BrokerStore {
        var config = ServeConfiguration()
        if let database = database ?? ProcessInfo.processInfo.environment["HANDOVER_DATABASE"] { config.database = database }
        if !creating, let path = config.sqlitePath, !FileManager.default.fileExists(atPath: path) {
            throw PlainError(description: "\(path): no store there (start `handover serve` with this --database first, or check the path)")
        }
        return try await StoreLocation(config.database).open()
    }
}
