/// Finds keys a directory document does not define. `Codable` ignores unknown keys, so a typo such as
/// `escalaton: sg` would silently drop a safeguarding workflow's escalation; every unknown key is an
/// error naming the entry, the key and the nearest known key.
public enum DirectoryKeyCheck {
    /// The keys each part of a document may have. `DirectoryKeyCheckTests` encodes a fully populated
    /// document and checks every key it writes is listed here, so the two cannot drift apart.
    indirect enum Shape: Sendable {
        case object([String: Shape])
        case list(Shape)
        case value
    }

    static let notifyTarget = Shape.object([
        "mailbox": .value, "webhook": .value, "sender": .value, "receiver_duty": .value, "sender_lead": .value, "email": .value,
    ])
    static let crossing = Shape.object([
        "identity": .value, "lawful_basis": .value, "intent": .value, "provenance": .value, "receiver_basis": .value, "test_nhs_numbers": .value,
        "defaults": .object([
            "intent": .object([
                "purpose": .value, "action": .value, "priority": .value, "question": .value,
                "respond_by": .value, "immediate_risk": .value,
            ])
        ]),
    ])
    static let stage = Shape.object(["after": .value, "when": .value, "notify": .list(notifyTarget), "repeat": .value])
    static let sections: [String: Shape] = [
        "organisations": .list(
            .object([
                "code": .value, "name": .value, "domain": .value, "authority": .value,
                "duty_mailbox": .value, "duty_webhook": .value, "safeguarding_lead": .value, "public_authority": .value,
            ])),
        "mailboxes": .list(
            .object([
                "id": .value, "organisation": .value, "name": .value, "password": .value, "active": .value,
                "certificates": .value,
            ])),
        "areas": .list(.object(["code": .value, "name": .value, "postcode_districts": .value])),
        "services": .list(
            .object([
                "id": .value, "organisation": .value, "mailbox": .value, "workflows": .value, "areas": .value,
                "duty_mailbox": .value, "duty_webhook": .value,
            ])),
        "workflows": .list(
            .object([
                "id": .value, "senders": .value, "receivers": .value, "expiry": .value,
                "responsibility": .value, "escalation": .value, "safeguarding": .value, "acks": .value,
                "crossing": crossing,
            ])),
        "escalation_policies": .list(
            .object(["id": .value, "calendar": .value, "stages": .list(stage), "acknowledgement_lapses_after": .value])),
        "calendars": .list(.object(["id": .value, "timezone": .value, "working_hours": .value, "working_days": .value, "holidays": .value])),
        "webhooks": .list(.object(["id": .value, "url": .value, "secret": .value, "allow_private": .value, "format": .value])),
        "lawful_basis_codes": .list(.object(["id": .value, "list": .value, "name": .value])),
    ]
    /// The keys an entry of `section` may have, each with whether it holds nested entries (a list
    /// or object of its own), for the console's one-entry form. Nil for an unknown section.
    public static func entryFields(_ section: String) -> [(name: String, nested: Bool)]? {
        guard case .list(.object(let keys))? = sections[section] else { return nil }
        return keys.map { key, shape in
            if case .value = shape { return (key, false) }
            return (key, true)
        }
    }

    /// How the validator names an entry of each section ("workflow X").
    static let entryNames: [String: String] = [
        "organisations": "organisation", "mailboxes": "mailbox", "areas": "area", "services": "service", "workflows": "workflow",
        "escalation_policies": "escalation policy", "calendars": "calendar", "webhooks": "webhook",
        "lawful_basis_codes": "lawful basis code",
    ]

    /// Every unknown key in a whole document, named by file (`source`), entry and key.
    public static func problems(in tree: KeyTree, source: String) -> [DirectoryProblem] {
        var found: [DirectoryProblem] = []
        guard case .object(let top) = tree else { return found }
        for (section, value) in top {
            guard let shape = sections[section] else {
                found.append(unknown(section, among: Array(sections.keys), file: source, entry: "file", field: ""))
                continue
            }
            guard case .list(let entryShape) = shape, case .array(let entries) = value else { continue }
            for entry in entries {
                let name = "\(entryNames[section] ?? section) \(entry.identifier ?? "?")"
                check(entry, against: entryShape, file: source, entry: name, path: "", into: &found)
            }
        }
        return found
    }

    /// Unknown keys in one entry of `kind` (an admin API path name such as `workflows`).
    public static func problems(inEntry tree: KeyTree, section: String, source: String) -> [DirectoryProblem] {
        guard case .list(let shape)? = sections[section] else { return [] }
        var found: [DirectoryProblem] = []
        check(tree, against: shape, file: source, entry: "\(entryNames[section] ?? section) \(tree.identifier ?? "?")", path: "", into: &found)
        return found
    }

    static func check(_ tree: KeyTree, against shape: Shape, file: String, entry: String, path: String, into found: inout [DirectoryProblem]) {
        switch (shape, tree) {
        case (.object(let keys), .object(let pairs)):
            for (key, value) in pairs {
                let field = path.isEmpty ? key : "\(path).\(key)"
                guard let inner = keys[key] else {
                    found.append(unknown(key, among: Array(keys.keys), file: file, entry: entry, field: field))
                    continue
                }
                check(value, against: inner, file: file, entry: entry, path: field, into: &found)
            }
        case (.list(let inner), .array(let items)):
            for (i, item) in items.enumerated() { check(item, against: inner, file: file, entry: entry, path: "\(path)[\(i)]", into: &found) }
        default:
            break  // type mismatches are the decoder's to report
        }
    }

    static func unknown(_ key: String, among known: [String], file: String, entry: String, field: String) -> DirectoryProblem {
        let hint = nearest(key, among: known).map { " (did you mean `\($0)`?)" } ?? ""
        return DirectoryProblem(file: file, entry: entry, field: field, message: "unknown key `\(String(key.prefix(60)))`\(hint)")
    }

    /// The known key within a small edit distance of `key`, if any.
    static func nearest(_ key: String, among known: [String]) -> String? {
        let lowered = key.lowercased()
        let scored = known.map { ($0, editDistance(lowered, $0)) }.filter { $0.1 <= max(2, $0.0.count / 3) }
        return scored.min { ($0.1, $0.0) < ($1.1, $1.0) }?.0
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.prefix(64)), b = Array(b.prefix(64))
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// Any JSON or YAML value, decoded only to see its keys (both decoders build it from the same text).
public enum KeyTree: Decodable, Sendable {
    case object([(String, KeyTree)])
    case array([KeyTree])
    case scalar(String?)

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
            self = .object(try keyed.allKeys.map { ($0.stringValue, try keyed.decode(KeyTree.self, forKey: $0)) })
        } else if var list = try? decoder.unkeyedContainer() {
            var items: [KeyTree] = []
            while !list.isAtEnd { items.append(try list.decode(KeyTree.self)) }
            self = .array(items)
        } else {
            let single = try decoder.singleValueContainer()
            self = .scalar(try? single.decode(String.self))
        }
    }

    /// The entry's `id` or `code`, to name it in a problem.
    var identifier: String? {
        guard case .object(let pairs) = self else { return nil }
        for (key, value) in pairs where key == "id" || key == "code" {
            if case .scalar(let text?) = value { return String(text.prefix(100)) }
        }
        return nil
    }
}
