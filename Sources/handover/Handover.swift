import ArgumentParser

/// The one executable: the broker and its operator commands.
@main
struct Handover: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handover",
        abstract: "A MESH API v2 store-and-forward broker for transfer of care between the NHS and social care.",
        subcommands: [Serve.self, Routes.self, Admin.self, Database.self, Certs.self, Bench.self])
}
