import ArgumentParser
import Foundation
import HandoverServer

/// `handover routes …`: work with the routing directory files offline.
struct Routes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Work with the routing directory files.", subcommands: [Validate.self])

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a directory folder and list every problem (exit 1 if any).")
        @Argument(help: "The folder of YAML files.") var folder = "Routes"

        func run() async throws {
            do {
                let directory = try DirectoryFiles.load(folder: folder)
                print("\(folder): valid (\(directory.organisations.count) organisations, \(directory.mailboxes.count) mailboxes, "
                    + "\(directory.services.count) services, \(directory.workflows.count) workflows)")
            } catch let error as DirectoryLoadError {
                for problem in error.problems { print(problem) }
                print("\(error.problems.count) problem(s) found")
                throw ExitCode(1)
            }
        }
    }
}
