import Foundation
import HTTPTypes
import HandoverCore
import HandoverStore
import Hummingbird
import Yams

/// One directory entry (a mailbox, a service, a workflow…) edited in a form: one field per key the
/// entry may have, each written as a YAML value (`[A, B]` for a list), problems shown beside their
/// field. The edited entry goes into the directory in force and through the same steps as the
/// whole-document editor: validate, review (changes and routing impact), apply with the version the
/// form started from. A secret shown redacted and left so stays as it is.
extension Console {
    func registerDirectoryEntry(on group: RouterGroup<ConsoleRequestContext>) {
        group.get("directory/entries/:kind/:id") { _, context in try await entryPage(context) }
        group.post("directory/entries/:kind/:id") { request, context in try await submitEntry(request, context) }
    }

    /// The kind and id from the path, the entry's key field and its form fields.
    func entryTarget(_ context: ConsoleRequestContext) throws -> (kind: DirectoryEntityKind, id: String, fields: [(name: String, nested: Bool)]) {
        guard let kind = context.parameters.get("kind").flatMap({ DirectoryEntityKind.all[$0] }),
            let id = context.parameters.get("id").map({ String($0.prefix(200)) }), let fields = DirectoryKeyCheck.entryFields(kind.sectionName)
        else { throw ConsoleRefusal.notFound }
        return (kind, id, fields)
    }

    func entryPage(_ context: ConsoleRequestContext) async throws -> Response {
        _ = try adminAccess(context)
        let (kind, id, fields) = try entryTarget(context)
        guard let current = try await store.currentDirectory(), let entry = kind.entry(in: DirectorySecrets.redacted(current.document), id: id)
        else { throw ConsoleRefusal.notFound }
        let values = try Self.fieldTexts(entry)
        return try await entryForm(context, kind: kind, id: id, fields: fields, texts: values, version: current.version)
    }

    /// Each key's current value as one line of YAML (flow style: `[A, B]`, `{k: v}`).
    static func fieldTexts(_ entry: any Encodable & Sendable) throws -> [String: String] {
        guard case .object(let pairs) = try JSONDecoder().decode(JSONValue.self, from: try JSONEncoder().encode(entry)) else { return [:] }
        var texts: [String: String] = [:]
        for (key, value) in pairs where value != .null { texts[key] = flowYAML(value) }
        return texts
    }

    static func flowYAML(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .array(let items): return "[" + items.map(flowYAML).joined(separator: ", ") + "]"
        case .object(let pairs): return "{" + pairs.map { "\($0.0): \(flowYAML($0.1))" }.joined(separator: ", ") + "}"
        case .string(let s):
            // Plain where YAML reads it back as the same text; otherwise single-quoted.
            let plain =
                !s.isEmpty && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || " _./@+-$".unicodeScalars.contains($0) }
                && !s.hasPrefix(" ") && !s.hasSuffix(" ") && !s.hasPrefix("-") && (try? Yams.load(yaml: s)) as? String == s
            return plain ? s : "'" + s.replacingOccurrences(of: "'", with: "''") + "'"
        }
    }

    func entryForm(
        _ context: ConsoleRequestContext, kind: DirectoryEntityKind, id: String, fields: [(name: String, nested: Bool)], texts: [String: String],
        version: Int64, fieldProblems: [String: String] = [:], extra: [String: Any] = [:], status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let (session, access) = try adminAccess(context)
        let key = kind.sectionName == "organisations" || kind.sectionName == "areas" ? "code" : "id"
        // The entry's key first, then the keys it has, then the ones it may have.
        let ordered = fields.sorted { a, b in
            let rank = { (f: (name: String, nested: Bool)) in f.name == key ? 0 : texts[f.name] != nil ? 1 : 2 }
            return rank(a) != rank(b) ? rank(a) < rank(b) : a.name < b.name
        }
        var values = extra
        values["kind"] = kind.pathName
        values["entryName"] = kind.entryName
        values["entryID"] = id
        values["version"] = version
        values["fields"] = ordered.map { field in
            [
                "name": field.name, "label": field.name.replacingOccurrences(of: "_", with: " "), "value": texts[field.name] ?? "",
                "nested": field.nested || (texts[field.name]?.count ?? 0) > 80, "fixed": field.name == key,
                "error": fieldProblems[field.name] as Any,
            ] as [String: Any]
        }
        return pages.page(
            "directory-entry", title: "Edit \(kind.entryName) \(id)", values, section: .directory, access: access, session: session,
            status: status)
    }

    func submitEntry(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, access) = try adminAccess(context)
        let (kind, id, fields) = try entryTarget(context)
        let form = try await ConsoleForm.read(request, expectedToken: session.csrfToken, maximumBytes: 1 << 20)
        let started = form["version"].flatMap(Int64.init) ?? 0
        let action = form["action"] ?? "validate"
        var texts: [String: String] = [:]
        for field in fields {
            if let text = form[field.name]?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty { texts[field.name] = text }
        }
        func again(
            _ fieldProblems: [String: String] = [:], _ extra: [String: Any] = [:], _ status: HTTPResponse.Status = .badRequest
        ) async throws -> Response {
            try await entryForm(
                context, kind: kind, id: id, fields: fields, texts: texts, version: started, fieldProblems: fieldProblems, extra: extra,
                status: status)
        }
        guard var document = try await store.currentDirectory()?.document, let current = kind.entry(in: document, id: id) else {
            throw ConsoleRefusal.notFound
        }
        // Each field read as YAML; a redacted secret left as shown keeps the value in force.
        let unchanged = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(current)) as? [String: Any] ?? [:]
        var entry: [String: Any] = [:]
        var fieldProblems: [String: String] = [:]
        for (name, text) in texts {
            // The form shows it quoted ('<redacted>'), as YAML: either spelling keeps it.
            if let kept = unchanged[name],
                text == DirectorySecrets.placeholder || (try? Yams.load(yaml: text)) as? String == DirectorySecrets.placeholder
            {
                entry[name] = kept
                continue
            }
            do {
                guard let value = try Yams.load(yaml: text) else { continue }
                entry[name] = value
            } catch {
                fieldProblems[name] = "This is not a YAML value: quote text, and write a list as [A, B]."
            }
        }
        guard fieldProblems.isEmpty else { return try await again(fieldProblems, problems(["Correct the fields marked below."])) }
        do {
            let body = try JSONSerialization.data(withJSONObject: Self.jsonSafe(entry))
            _ = try kind.upsert(in: &document, id: id, body: body, decoder: JSONEntryDecoder())
        } catch let mismatch as EntityIDMismatch {
            return try await again([:], problems(["\(mismatch)"]))
        } catch {
            return try await again([:], problems(["This entry cannot be read: \(describeDecodingError(error))"]))
        }
        let outcome: DirectoryManager.Outcome
        do {
            outcome = try await propose(document, form, access)
        } catch is DirectoryVersionConflict {
            return try await again(
                [:], problems(["Someone saved the directory after you opened this form. Open the entry again to see theirs, then make your change."]),
                .conflict)
        }
        switch outcome {
        case .invalid(let list):
            // Problems of this entry go beside their field; the rest (other entries it affects) on top.
            let name = "\(kind.entryName) \(id)"
            var others: [String] = []
            for problem in list {
                let field = String(problem.field.prefix { $0 != "." && $0 != "[" })
                if problem.entry.caseInsensitiveCompare(name) == .orderedSame, fields.contains(where: { $0.name == field }) {
                    fieldProblems[field] = [fieldProblems[field], problem.message].compactMap { $0 }.joined(separator: "; ")
                } else {
                    others.append(problem.description)
                }
            }
            return try await again(fieldProblems, problems(others.isEmpty ? ["Correct the fields marked below."] : others))
        case .needsConfirmation(let impact):
            return try await again([:], ["review": true, "impact": impactRows(impact), "needsConfirmation": true], .conflict)
        case .dryRun(let changes, let impact, let warnings, let reasons):
            return try await again([:], reviewValues(changes, impact, warnings, reasons, review: action == "review"), .ok)
        case .needsApproval:
            switch try await proposeForApproval(document, form, access) {
            case .invalid(let list): return try await again([:], problems(list.map(\.description)))
            case .proposed(let proposal): return .redirect(to: "/console/directory/proposals/\(proposal.id)?proposed=1", type: .normal)
            }
        case .applied(let version, _, _, _):
            try await audit(
                access.user, "console.directory_entry_edited", subject: "\(kind.entryName) \(id)", detail: .object([("version", .int(version))]))
            return .redirect(to: "/console/directory?applied=\(version)", type: .normal)
        }
    }

    /// YAML's dates and other non-JSON values as text, so the entry can pass through JSON.
    static func jsonSafe(_ value: Any) -> Any {
        switch value {
        case let object as [String: Any]: return object.mapValues(jsonSafe)
        case let list as [Any]: return list.map(jsonSafe)
        case is String, is Bool, is Int, is Double, is NSNull: return value
        default: return "\(value)"
        }
    }
}
