import ArgumentParser
import Foundation
import HandoverServer

/// `handover db …`: moving an installation between backends.
struct Database: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "db", abstract: "Database operations.", subcommands: [Copy.self])

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy every message, directory version, alert and audit entry from SQLite into an empty PostgreSQL database.",
            discussion: """
                Stop the broker on SQLite first (the copy reads one consistent snapshot; anything written after it stays behind), \
                run this, then start the instances with --database postgres://…. Exits non-zero unless every table's row count \
                matches and the audit chain verifies in the target.
                """)
        @Option(help: "The SQLite store: sqlite:PATH.") var from: String
        @Option(help: "An empty PostgreSQL database: postgres://user@host:port/database.") var to: String

        func run() async throws {
            let started = Date()
            let report: DatabaseCopy.Report
            do {
                report = try await DatabaseCopy.run(from: from, to: to) { table, copied, total in
                    if copied == total || copied % 5000 == 0 {
                        FileHandle.standardError.write(Data("\(table): \(copied)/\(total)\n".utf8))
                    }
                }
            } catch {
                FileHandle.standardError.write(Data("handover db copy: \(error)\n".utf8))
                throw ExitCode(2)
            }
            for t in report.tables where t.source != t.target {
                FileHandle.standardError.write(Data("MISMATCH \(t.table): \(t.source) in the source, \(t.target) in the target\n".utf8))
            }
            let rows = report.tables.reduce(0) { $0 + $1.target }
            print(
                "copied \(rows) rows in \(report.tables.count) tables in \(String(format: "%.1f", Date().timeIntervalSince(started)))"
                    + " s; audit chain: \(report.audit)"
            )
            if !report.isComplete { throw ExitCode(1) }
        }
    }
}
