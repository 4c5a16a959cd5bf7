import ArgumentParser
import Foundation
import HandoverConsole
import HandoverCore
import HandoverServer
import HandoverStore

/// `handover console user …`: local console accounts, on the store directly.
struct ConsoleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "console", abstract: "The web console's local accounts.", subcommands: [User.self])

    struct User: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Local console accounts.", subcommands: [Create.self, List.self, Disable.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create an account. Prints a one-time password and an otpauth:// TOTP URI as its last two lines.")
            @Option(help: "The email the person signs in with.") var email: String
            @Option(help: "Their name, shown on what they record.") var name: String
            @Option(help: "admin, operator, viewer or practitioner; several comma-separated.") var role: String
            @Option(help: "A mailbox a practitioner acts for (repeat for several).") var mailbox: [String] = []
            @Option(help: "An organisation (ODS code) whose crossings an operator or viewer sees (repeat for several).") var organisation: [String] =
                []
            @Option(help: "The store (HANDOVER_DATABASE).") var database: String?

            func run() async throws {
                let roles: Set<ConsoleRole>
                switch ConsoleUser.parseRoles(role) {
                case .success(let parsed): roles = parsed
                case .failure(let problem): throw ValidationError(problem.description)
                }
                let user = HandoverCore.ConsoleUser(
                    email: email, name: name, roles: roles, organisations: organisation.map { $0.uppercased() },
                    mailboxes: mailbox.map(MailboxID.init))
                if let problem = user.problems().first { throw ValidationError(problem.description) }
                let store = try await StoreOpening.open(database, creating: true)
                var notes: [String] = []
                let secrets = try await MasterKey.load(
                    dataDirectory: StoreOpening.dataDirectory(database), environment: ProcessInfo.processInfo.environment, store: store,
                    shared: StoreOpening.isShared(database), notes: &notes)
                let created: ConsoleAccounts.Created
                do {
                    created = try await ConsoleAccounts.create(user, store: store, secrets: secrets, actor: "cli", now: SystemClock.now())
                } catch let problem as ConsoleUserProblem {
                    throw ValidationError(problem.description)
                }
                FileHandle.standardError.write(
                    Data(
                        ("Created console user \(created.user.id) \(created.user.email) (\(created.user.roleList)). Give them, once and privately, "
                            + "the one-time password (changed at first sign-in) and the TOTP URI (for an authenticator app):\n").utf8))
                print(created.oneTimePassword)
                print(created.totpURI)
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List console accounts (never passwords or TOTP secrets).")
            @Option(help: "The store (HANDOVER_DATABASE).") var database: String?

            func run() async throws {
                print("id\tstate\troles\temail\tname\torganisations\tmailboxes")
                for u in try await StoreOpening.open(database).consoleUsers() {
                    let state = u.disabled ? "disabled" : (u.mustChangePassword ? "new" : "active")
                    print(
                        "\(u.id)\t\(state)\t\(u.roleList)\t\(u.email)\t\(u.name)\t\(u.organisations.joined(separator: ","))\t"
                            + u.mailboxes.map(\.rawValue).joined(separator: ","))
                }
            }
        }

        struct Disable: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Disable an account; its sessions end at once.")
            @Option(help: "The account's email.") var email: String
            @Option(help: "The store (HANDOVER_DATABASE).") var database: String?

            func run() async throws {
                guard try await StoreOpening.open(database).disableConsoleUser(email: email, actor: "cli", now: SystemClock.now()) else {
                    throw ValidationError("no enabled console user has that email (see `handover console user list`)")
                }
                print("disabled \(ConsoleUser.normalise(email: email))")
            }
        }
    }
}
