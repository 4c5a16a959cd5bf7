import Foundation

/// One entry added, removed or changed between two directory versions, with its before and after
/// (as the JSON an admin wrote), for dry runs, history and the audit log.
public struct DirectoryChange: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable { case added, removed, changed }
    public var kind: Kind
    public var entity: String
    public var id: String
    public var before: String?
    public var after: String?
    /// For a change: the keys whose values differ, so `routes diff` and the history say what changed.
    public var fields: [String]?

    public init(kind: Kind, entity: String, id: String, before: String?, after: String?, fields: [String]? = nil) {
        (self.kind, self.entity, self.id, self.before, self.after, self.fields) = (kind, entity, id, before, after, fields)
    }

    public var summary: String {
        "\(kind.rawValue) \(entity) \(id)" + (fields.map { $0.isEmpty ? "" : " (" + $0.joined(separator: ", ") + ")" } ?? "")
    }
}

public enum DirectoryDiff {
    /// The changes that turn `old` into `new`, entity by entity, in a stable order.
    public static func changes(from old: DirectoryDocument, to new: DirectoryDocument) -> [DirectoryChange] {
        var out: [DirectoryChange] = []
        // Compared as written, shown redacted: a changed literal secret (sandbox only) counts as a change
        // but never appears in a dry run, the history or the audit log.
        func json<E: Encodable>(_ value: E) -> String { Self.json(DirectorySecrets.redacted(value)) }
        func compare<E: Codable & Hashable>(_ entity: String, _ a: [E]?, _ b: [E]?, key: (E) -> String) {
            let before = Dictionary((a ?? []).map { (key($0).uppercased(), $0) }, uniquingKeysWith: { x, _ in x })
            let after = Dictionary((b ?? []).map { (key($0).uppercased(), $0) }, uniquingKeysWith: { x, _ in x })
            for id in Set(before.keys).union(after.keys).sorted() {
                switch (before[id], after[id]) {
                case (nil, let n?): out.append(DirectoryChange(kind: .added, entity: entity, id: key(n), before: nil, after: json(n)))
                case (let o?, nil): out.append(DirectoryChange(kind: .removed, entity: entity, id: key(o), before: json(o), after: nil))
                case (let o?, let n?) where o != n:
                    let (before, after) = (json(o), json(n))
                    out.append(
                        DirectoryChange(
                            kind: .changed, entity: entity, id: key(n), before: before, after: after,
                            fields: changedKeys(before, after)))
                default: break
                }
            }
        }
        compare("organisation", old.organisations, new.organisations) { $0.code }
        compare("mailbox", old.mailboxes, new.mailboxes) { $0.id }
        compare("area", old.areas, new.areas) { $0.code }
        compare("service", old.services, new.services) { $0.id }
        compare("workflow", old.workflows, new.workflows) { $0.id }
        compare("escalation-policy", old.escalation_policies, new.escalation_policies) { $0.id }
        compare("calendar", old.calendars, new.calendars) { $0.id }
        compare("webhook", old.webhooks, new.webhooks) { $0.id }
        compare("lawful-basis-code", old.lawful_basis_codes, new.lawful_basis_codes) { $0.id }
        return out
    }

    /// The top-level keys whose values differ between two JSON objects.
    static func changedKeys(_ before: String, _ after: String) -> [String] {
        func object(_ text: String) -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        }
        let (a, b) = (object(before), object(after))
        return Set(a.keys).union(b.keys).sorted().filter { key in
            switch (a[key], b[key]) {
            case (nil, nil): false
            case (let x?, let y?): canonical(x) != canonical(y)
            default: true
            }
        }
    }

    private static func canonical(_ value: Any) -> Data? {
        try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys])
    }

    static func json<E: Encodable>(_ value: E) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// Literal secrets (mailbox passwords and webhook secrets written in the clear, accepted in sandbox
/// mode only) replaced by `<redacted>` wherever a directory is shown: admin responses, diffs,
/// history and audit entries. `${VARIABLE}` references are names, not secrets, and stay.
public enum DirectorySecrets {
    public static let placeholder = "<redacted>"

    public static func redacted(_ document: DirectoryDocument) -> DirectoryDocument {
        var d = document
        d.mailboxes = d.mailboxes?.map(redacted)
        d.webhooks = d.webhooks?.map(redacted)
        return d
    }

    static func redacted<E>(_ value: E) -> E {
        switch value {
        case var mailbox as DirectoryDocument.MailboxEntry:
            mailbox.password = mailbox.password.map(redact)
            return mailbox as? E ?? value
        case var webhook as DirectoryDocument.WebhookEntry:
            webhook.secret = webhook.secret.map(redact)
            return webhook as? E ?? value
        case let document as DirectoryDocument:
            return redacted(document) as? E ?? value
        default:
            return value
        }
    }

    static func redact(_ secret: String) -> String {
        if case .environment = SecretReference(secret) { return secret }
        return placeholder
    }
}
