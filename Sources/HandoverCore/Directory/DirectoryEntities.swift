import Foundation

/// One kind of directory entry as the admin API names it (`/admin/{kind}/{id}`), with how to find,
/// replace and remove an entry of that kind in a document.
public struct DirectoryEntityKind: Sendable {
    public let pathName: String
    /// How the validator names entries of this kind ("mailbox X").
    public let entryName: String
    /// The document's key for this kind (`escalation_policies`).
    public var sectionName: String { pathName.replacingOccurrences(of: "-", with: "_") }
    let get: @Sendable (DirectoryDocument, String) -> (any Encodable & Sendable)?
    let put: @Sendable (inout DirectoryDocument, String, Data, any EntryDecoder) throws -> Bool
    let remove: @Sendable (inout DirectoryDocument, String) -> Bool

    public static let all: [String: DirectoryEntityKind] = Dictionary(
        uniqueKeysWithValues: [
            make("organisations", "organisation", \.organisations, id: \.code),
            make("mailboxes", "mailbox", \.mailboxes, id: \.id),
            make("areas", "area", \.areas, id: \.code),
            make("services", "service", \.services, id: \.id),
            make("workflows", "workflow", \.workflows, id: \.id),
            make("escalation-policies", "escalation policy", \.escalation_policies, id: \.id),
            make("calendars", "calendar", \.calendars, id: \.id),
            make("webhooks", "webhook", \.webhooks, id: \.id),
            make("lawful-basis-codes", "lawful basis code", \.lawful_basis_codes, id: \.id),
        ].map { ($0.pathName, $0) })

    /// The entry with `id` (case-insensitive), or nil.
    public func entry(in document: DirectoryDocument, id: String) -> (any Encodable & Sendable)? { get(document, id) }

    /// Inserts or replaces the entry `id` from a body decoded by `decode` (JSON or YAML). Returns
    /// true if it was created. The body's own id must match the path's.
    public func upsert(in document: inout DirectoryDocument, id: String, body: Data, decoder: any EntryDecoder) throws -> Bool {
        try put(&document, id, body, decoder)
    }

    public func delete(in document: inout DirectoryDocument, id: String) -> Bool { remove(&document, id) }

    static func make<E: Codable & Sendable>(
        _ path: String, _ entryName: String, _ list: any WritableKeyPath<DirectoryDocument, [E]?> & Sendable,
        id: any KeyPath<E, String> & Sendable
    ) -> DirectoryEntityKind {
        DirectoryEntityKind(
            pathName: path, entryName: entryName,
            get: { doc, wanted in (doc[keyPath: list] ?? []).first { $0[keyPath: id].uppercased() == wanted.uppercased() } },
            put: { doc, wanted, body, decoder in
                let entry = try decoder.decode(E.self, from: body)
                guard entry[keyPath: id].uppercased() == wanted.uppercased() else { throw EntityIDMismatch(path: wanted, body: entry[keyPath: id]) }
                var items = doc[keyPath: list] ?? []
                if let index = items.firstIndex(where: { $0[keyPath: id].uppercased() == wanted.uppercased() }) {
                    items[index] = entry
                    doc[keyPath: list] = items
                    return false
                }
                items.append(entry)
                doc[keyPath: list] = items
                return true
            },
            remove: { doc, wanted in
                let before = doc[keyPath: list] ?? []
                let after = before.filter { $0[keyPath: id].uppercased() != wanted.uppercased() }
                doc[keyPath: list] = after
                return after.count != before.count
            })
    }
}

public struct EntityIDMismatch: Error, Sendable {
    public let path: String
    public let body: String
}

/// Decodes a directory entry from a request body (JSON here; the HTTP layer adds YAML).
public protocol EntryDecoder: Sendable {
    func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T
}

public struct JSONEntryDecoder: EntryDecoder {
    public init() {}
    public func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T { try JSONDecoder().decode(type, from: data) }
}
