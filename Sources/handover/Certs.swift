import ArgumentParser
import Foundation
import HandoverServer

/// `handover certs …`: the development PKI.
struct Certs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The development PKI in Certs/dev.", subcommands: [Init.self, Issue.self, RotateReceipts.self])

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a CA, a server certificate for localhost and a client certificate per mailbox.")
        @Option(help: "Where to write.") var folder = "Certs/dev"
        @Option(help: "The routing directory whose mailboxes get client certificates.") var routes = "Routes"
        @Flag(help: "Replace an existing PKI.") var force = false

        func run() async throws {
            let pki = DevelopmentPKI(folder: folder)
            if pki.exists && !force { throw ValidationError("\(folder) already has a CA; use --force to replace it") }
            let mailboxes = (try? DirectoryFiles.load(folder: routes).mailboxes.map(\.id)) ?? []
            let written = try pki.initialise(mailboxes: mailboxes)
            print("wrote \(written.count) certificates (keys beside them, mode 0600) in \(folder)")
        }
    }

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a client certificate (CN = NAME) signed by the development CA.")
        @Argument(help: "The mailbox id (or organisation code) the certificate is for.") var name: String
        @Option(help: "Where the PKI is.") var folder = "Certs/dev"

        func run() async throws {
            do {
                print(try DevelopmentPKI(folder: folder).issueClient(name.uppercased()))
            } catch let error as ConfigurationError {
                throw ValidationError(error.description)
            }
        }
    }

    struct RotateReceipts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-receipts",
            abstract:
                "Replace the receipt-signing key and certificate; the previous pair is kept beside them, and receipts already issued still verify.")
        @Option(help: "Where the PKI is.") var folder = "Certs/dev"

        func run() async throws {
            let (certificate, previous) = try DevelopmentPKI(folder: folder).rotateReceipts()
            print("new receipt certificate: \(certificate)")
            if let previous { print("previous one kept as \(previous)") }
            print("restart the broker (or send it SIGHUP) to sign with the new key")
        }
    }
}
