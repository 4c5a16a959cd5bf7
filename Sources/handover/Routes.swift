import ArgumentParser
import Foundation
import HandoverCore
import HandoverServer
import HandoverStore
import Yams

/// `handover routes …`: the routing directory files and the store's directory.
struct Routes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with the routing directory.",
        subcommands: [Validate.self, Diff.self, Import.self, Export.self, Explain.self])

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a directory folder offline and list every problem (exit 1 if any).")
        @Argument(help: "The folder of YAML files.") var folder = "Routes"

        func run() async throws {
            let directory = try loadOrReport(folder)
            print(
                "\(folder): valid (\(directory.directory.organisations.count) organisations, \(directory.directory.mailboxes.count) mailboxes, "
                    + "\(directory.directory.services.count) services, \(directory.directory.workflows.count) workflows)")
        }
    }

    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show what importing a folder would change in the store's directory.")
        @Argument(help: "The folder of YAML files.") var folder = "Routes"
        @Option(help: "The store (HANDOVER_DATABASE).") var database: String?

        func run() async throws {
            let files = try loadOrReport(folder)
            let current = try await StoreOpening.open(database).currentDirectory()
            let changes = DirectoryDiff.changes(from: current?.document ?? DirectoryDocument(), to: files.document)
            print(
                "store version \(current.map { String($0.version) } ?? "none") -> \(folder)"
                    + ": \(changes.isEmpty ? "no changes" : "\(changes.count) change(s)")"
            )
            for change in changes { print("  \(change.summary)") }
            if let current {
                let impact = RoutingImpact.between(DirectoryBuilder.build([(source: "store", document: current.document)]).0, files.directory)
                print(impact.changes.isEmpty ? "routing impact: none" : "routing impact (\(impact.changes.count)):")
                for line in impact.lines { print("  " + line) }
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a folder the store's directory, as a new version. A running broker picks it up within a second.")
        @Argument(help: "The folder of YAML files.") var folder = "Routes"
        @Option(help: "The store (HANDOVER_DATABASE).") var database: String?
        @Flag(help: "Allow literal passwords (sandbox stores only).") var sandbox = false
        @Flag(name: .customLong("confirm-impact"), help: "Apply even though addresses that route today would stop routing (see `routes diff`).")
        var confirmImpact = false

        func run() async throws {
            let files = try loadOrReport(folder)
            let store = try await StoreOpening.open(database, creating: true)
            var notes: [String] = []
            let secrets = try await MasterKey.load(
                dataDirectory: StoreOpening.dataDirectory(database), environment: ProcessInfo.processInfo.environment,
                store: store, shared: StoreOpening.isShared(database), notes: &notes)
            let manager = DirectoryManager(
                store: store, environment: ProcessInfo.processInfo.environment, sandbox: sandbox, secrets: secrets, clock: SystemClock.now)
            let current = try await store.currentDirectory()
            switch try await manager.propose(
                files.document, expectedVersion: current?.version, actor: "cli:routes-import", dryRun: false,
                confirmImpact: confirmImpact, approval: .operatorFiles)
            {
            case .applied(let version, let changes, let impact, _):
                print("imported \(folder) as directory version \(version) (\(changes.count) change(s))")
                for line in impact.lines { print("  routing impact: " + line) }
            case .needsConfirmation(let impact):
                print("not imported: addresses that route today would stop routing:")
                for line in impact.lines { print("  " + line) }
                print("review them, then run again with --confirm-impact")
                throw ExitCode(1)
            case .invalid(let problems):
                for p in problems { print(p) }
                throw ExitCode(1)
            case .dryRun, .needsApproval: break
            }
        }
    }

    struct Explain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Where would this go? The service, mailbox and every rule consulted, or why it would be refused (the store's directory).")
        @Option(help: "The sending mailbox.") var from: String
        @Option(help: "The address, as Mex-To: a mailbox, an organisation, AREA:code or POSTCODE:district or full postcode.") var to: String
        @Option(help: "The workflow id.") var workflow: String
        @Option(help: "The store (HANDOVER_DATABASE).") var database: String?

        func run() async throws {
            let store = try await StoreOpening.open(database)
            guard let current = try await store.currentDirectory() else { throw ValidationError("the store has no directory yet") }
            let (directory, _) = DirectoryBuilder.build([(source: "directory", document: current.document)])
            let index = DirectoryIndex(directory: directory, version: current.version, passwords: [:])
            let explanation = index.explain(to: to, workflowID: WorkflowID(workflow), sender: MailboxID(from.uppercased()))
            for step in explanation.steps { print("  " + step) }
            switch explanation.outcome {
            case .success(let decision):
                print(
                    "→ \(decision.recipient) via \(decision.route.service.map { "service " + $0 } ?? decision.route.addressedBy.rawValue)"
                        + " (directory version \(current.version))"
                )
            case .failure(let error):
                print("refused: \(error.status) code \(error.code): \(error.explained)")
                throw ExitCode(1)
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the store's current directory as YAML (it imports back to the same directory).")
        @Option(help: "The store (HANDOVER_DATABASE).") var database: String?
        @Option(help: "A directory version (default: the current one).") var version: Int64?

        func run() async throws {
            let store = try await StoreOpening.open(database)
            let found: StoredDirectoryVersion?
            if let version { found = try await store.directoryVersion(version) } else { found = try await store.currentDirectory() }
            guard let stored = found else { throw ValidationError("the store has no such directory version") }
            print("# Handover directory version \(stored.version), saved \(stored.createdAt.isoUTC) by \(stored.actor)")
            print(try YAMLEncoder().encode(stored.document), terminator: "")
        }
    }
}

/// Loads a folder, or prints every problem and exits 1.
func loadOrReport(_ folder: String) throws -> (document: DirectoryDocument, directory: Directory) {
    do {
        let loaded = try DirectoryFiles.loadWithDocument(folder: folder)
        for warning in DirectoryValidator.warnings(in: loaded.directory) { print("warning: \(warning)") }
        return loaded
    } catch let error as DirectoryLoadError {
        for problem in error.problems { print(problem) }
        print("\(error.problems.count) problem(s) found")
        throw ExitCode(1)
    }
}
