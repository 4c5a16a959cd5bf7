import ArgumentParser
import Foundation

/// The one executable: the broker and its operator commands.
@main
struct Handover: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "handover",
        abstract: "A MESH API v2 store-and-forward broker for transfer of care between the NHS and social care.",
        subcommands: [
            Serve.self, Routes.self, Admin.self, Alerts.self, Database.self, Certs.self, Bench.self, Demo.self, Client.self, Agent.self,
            ConsoleCommand.self,
        ])

    /// As ArgumentParser's, with file-system errors said in plain words (the path and what is wrong)
    /// instead of `Error Domain=NSCocoaErrorDomain Code=260 …`.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: PlainError.from(error))
        }
    }
}

/// A file-system error as a person would say it.
struct PlainError: Error, CustomStringConvertible {
    let description: String

    static func from(_ error: any Error) -> any Error {
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return error }
        let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path ?? "a file"
        let what: String
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: what = "no such file or folder"
        case .fileReadNoPermission, .fileWriteNoPermission: what = "permission denied"
        case .fileWriteOutOfSpace: what = "the disk is full"
        case .fileReadCorruptFile, .fileReadInapplicableStringEncoding: what = "not a readable text file"
        default: what = "cannot be read or written"
        }
        return PlainError(description: "\(path): \(what)")
    }
}
