import Foundation
import HandoverCore
import Yams

/// One YAML file of the routing directory (contract §2). Every top-level key is an optional list;
/// all files in the folder are merged.
struct DirectoryFile: Decodable {
    var organisations: [OrganisationEntry]?
    var mailboxes: [MailboxEntry]?
    var areas: [AreaEntry]?
    var services: [ServiceEntry]?
    var workflows: [WorkflowEntry]?
    var escalation_policies: [PolicyEntry]?
    var calendars: [CalendarEntry]?
    var webhooks: [WebhookEntry]?

    struct OrganisationEntry: Decodable { var code: String; var name: String; var domain: String; var authority: String? }
    struct MailboxEntry: Decodable { var id: String; var organisation: String; var name: String; var password: String?; var active: Bool? }
    struct AreaEntry: Decodable { var code: String; var name: String; var postcode_districts: [String]? }
    struct ServiceEntry: Decodable { var id: String; var organisation: String; var mailbox: String; var workflows: [String]; var areas: [String]? }
    struct WorkflowEntry: Decodable {
        var id: String; var senders: [String]?; var receivers: [String]?; var expiry: String?
        var responsibility: String?; var escalation: String?
    }
    struct PolicyEntry: Decodable { var id: String; var calendar: String?; var stages: [StageEntry] }
    struct StageEntry: Decodable { var after: String; var when: String; var notify: [[String: StringOrBool]]; var `repeat`: String? }
    struct CalendarEntry: Decodable {
        var id: String; var timezone: String; var working_hours: String; var working_days: [String]; var holidays: [String]?
    }
    struct WebhookEntry: Decodable { var id: String; var url: String; var secret: String? }

    /// `notify` entries mix strings (`mailbox: X`) and booleans (`sender: true`).
    enum StringOrBool: Decodable {
        case string(String), bool(Bool)
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .bool(b) } else { self = .string(try c.decode(String.self)) }
        }
    }
}

/// A problem in the directory files, named by file, entry and field so an admin can find it.
public struct DirectoryProblem: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var entry: String
    public var field: String
    public var message: String

    public var description: String { "\(file): \(entry)\(field.isEmpty ? "" : " field '\(field)'"): \(message)" }
}

public struct DirectoryLoadError: Error, CustomStringConvertible {
    public var problems: [DirectoryProblem]
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Reads every `*.yaml`/`*.yml` file in a folder into one `Directory`, collecting every problem
/// rather than stopping at the first.
public enum DirectoryFiles {
    public static func load(folder: String) throws -> Directory {
        let url = URL(fileURLWithPath: folder)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        var parsed: [(String, DirectoryFile)] = []
        var problems: [DirectoryProblem] = []
        for name in names {
            let text = try String(contentsOf: url.appendingPathComponent(name), encoding: .utf8)
            do {
                parsed.append((name, try YAMLDecoder().decode(DirectoryFile.self, from: text)))
            } catch {
                problems.append(DirectoryProblem(file: name, entry: "file", field: "", message: "cannot be read as a directory file: \(describe(error))"))
            }
        }
        var builder = DirectoryBuilder()
        for (name, file) in parsed { builder.add(file, from: name) }
        problems += builder.problems
        for p in DirectoryValidator.problems(in: builder.directory) {
            problems.append(DirectoryProblem(file: builder.origin[p.entry] ?? folder, entry: p.entry, field: p.field, message: p.message))
        }
        guard problems.isEmpty else { throw DirectoryLoadError(problems: problems) }
        return builder.directory
    }

    static func describe(_ error: any Error) -> String {
        if case DecodingError.keyNotFound(let key, let context) = error {
            return "missing '\(key.stringValue)' at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        }
        if case DecodingError.typeMismatch(_, let context) = error {
            return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        }
        return String(describing: error).prefix(200).description
    }
}
