import HandoverCore
import HandoverStore
import Hummingbird

extension MeshEndpoints {
    /// `GET /messageexchange/{MB}/inbox`: delivered, unacknowledged ids, oldest first, with a stable
    /// cursor in `links.next` (root-relative, as mesh-client appends it to its base URL).
    func listInbox(_ request: Request, _ context: Context) async throws -> Response {
        let caller = try context.meshCaller()
        let (mailbox, version) = (caller.mailbox, caller.version)
        let query = request.uri.queryParameters
        var maxResults = 500
        if let raw = query.get("max_results") {
            guard let n = Int(raw), (10...5000).contains(n) else {
                throw MeshError.badRequest("max_results must be a whole number from 10 to 5000")
            }
            maxResults = n
        }
        var filter: WorkflowFilter?
        if let raw = query.get("workflow_filter") {
            guard let parsed = WorkflowFilter(raw) else { throw MeshError.badRequest("workflow_filter is not a valid filter") }
            filter = parsed
        }
        var after: Int64?
        if let raw = query.get("continue_from") {
            switch version {
            case .v2:
                guard let cursor = InboxCursor.decode(raw, mailbox: mailbox) else {
                    throw MeshError.badRequest("continue_from is not a valid cursor")
                }
                after = cursor.afterSequence
            case .v1:
                guard let previous = try await broker.store.message(MessageID(raw)), previous.recipient == mailbox,
                    let sequence = previous.inboxSequence
                else { throw MeshError.badRequest("continue_from is not a message in this inbox") }
                after = sequence
            }
        }
        let page = try await broker.store.listInbox(mailbox: mailbox, afterSequence: after, filter: filter, limit: maxResults)
        let ids: JSONValue = .array(page.entries.map { .string($0.id.rawValue) })
        guard version == .v2 else { return .json(.object([("messages", ids)])) }

        let base = "/messageexchange/\(mailbox.rawValue)/inbox"
        var selfQuery: [String] = []
        if maxResults != 500 { selfQuery.append("max_results=\(maxResults)") }
        if let filter { selfQuery.append("workflow_filter=\(percentEncode(filter.raw))") }
        var links: [(String, JSONValue)] = [("self", .string(base + (selfQuery.isEmpty ? "" : "?" + selfQuery.joined(separator: "&"))))]
        if page.hasMore, let last = page.entries.last {
            var nextQuery = ["max_results=\(maxResults)", "continue_from=\(InboxCursor(mailbox: mailbox, afterSequence: last.sequence).encoded)"]
            if let filter { nextQuery.append("workflow_filter=\(percentEncode(filter.raw))") }
            links.append(("next", .string(base + "?" + nextQuery.joined(separator: "&"))))
        }
        return .json(
            .object([("messages", ids), ("links", .object(links)), ("approx_inbox_count", .int(Int64(page.count)))]), contentType: Response.v2JSON)
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
func percentEncode(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            out.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            out += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 15, radix: 16, uppercase: true)
        }
    }
    return out
}
