import Foundation
import HandoverCore
import Yams

public struct DirectoryLoadError: Error, CustomStringConvertible {
    public var problems: [DirectoryProblem]
    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// Reads every `*.yaml`/`*.yml` file in a folder into one `Directory`, collecting every problem
/// rather than stopping at the first.
public enum DirectoryFiles {
    public static func load(folder: String) throws -> Directory {
        try loadWithDocument(folder: folder).directory
    }

    /// The folder's files merged into one document (what the store keeps), and the directory it builds.
    public static func loadWithDocument(folder: String) throws -> (document: DirectoryDocument, directory: Directory) {
        // A folder of YAML files, or one file (what `routes export` writes).
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) else {
            throw DirectoryLoadError(problems: [DirectoryProblem(file: folder, entry: "file", field: "", message: "no such folder or file")])
        }
        let url = isFolder.boolValue ? URL(fileURLWithPath: folder) : URL(fileURLWithPath: folder).deletingLastPathComponent()
        let names =
            isFolder.boolValue
            ? ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
            : [URL(fileURLWithPath: folder).lastPathComponent]
        if names.isEmpty {
            throw DirectoryLoadError(problems: [DirectoryProblem(file: folder, entry: "file", field: "", message: "has no .yaml or .yml files")])
        }
        var parsed: [(String, DirectoryDocument)] = []
        var problems: [DirectoryProblem] = []
        for name in names {
            let text = try String(contentsOf: url.appendingPathComponent(name), encoding: .utf8)
            do {
                try DirectoryText.checkNesting(text)
                parsed.append((name, try YAMLDecoder().decode(DirectoryDocument.self, from: text)))
                problems += DirectoryKeyCheck.problems(in: try YAMLDecoder().decode(KeyTree.self, from: text), source: name)
            } catch let problem as DirectoryProblem {
                problems.append(DirectoryProblem(file: name, entry: problem.entry, field: problem.field, message: problem.message))
            } catch {
                problems.append(
                    DirectoryProblem(
                        file: name, entry: "file", field: "", message: "cannot be read as a directory file: \(describeDecodingError(error))"))
            }
        }
        let (directory, buildProblems) = DirectoryBuilder.build(parsed.map { (source: $0.0, document: $0.1) })
        problems += buildProblems
        guard problems.isEmpty else { throw DirectoryLoadError(problems: problems) }
        return (merge(parsed.map(\.1)), directory)
    }

    static func merge(_ documents: [DirectoryDocument]) -> DirectoryDocument {
        var merged = DirectoryDocument()
        func join<T>(_ a: [T]?, _ b: [T]?) -> [T]? { (a == nil && b == nil) ? nil : (a ?? []) + (b ?? []) }
        for d in documents {
            merged.organisations = join(merged.organisations, d.organisations)
            merged.mailboxes = join(merged.mailboxes, d.mailboxes)
            merged.areas = join(merged.areas, d.areas)
            merged.services = join(merged.services, d.services)
            merged.workflows = join(merged.workflows, d.workflows)
            merged.escalation_policies = join(merged.escalation_policies, d.escalation_policies)
            merged.calendars = join(merged.calendars, d.calendars)
            merged.webhooks = join(merged.webhooks, d.webhooks)
        }
        return merged
    }
}
