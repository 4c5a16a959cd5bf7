import HandoverCore
import HandoverStore
import Hummingbird

extension MeshEndpoints {
    /// `GET /messageexchange/{MB}/inbox/rich` and `/outbox/rich`: the sandbox's rich listings. Every
    /// message of the side in any status created after `start_time` (default 30 days ago), a page of
    /// `max_results` at a time with `links.next`, each with its metadata and mailbox names.
    func richListing(_ request: Request, _ context: Context, side: RichListingQuery.Side) async throws -> Response {
        let caller = try context.meshCaller()
        let parameters = request.uri.queryParameters
        guard let limit = RichListingQuery.limit(parameters.get("max_results"), side: side) else {
            throw MeshError.badRequest(
                side == .inbox ? "max_results must be a whole number from 1 to 2000" : "max_results must be a whole number from 10 to 5000")
        }
        let now = broker.clock()
        var since = RichListingQuery.defaultSince(now: now)
        if let raw = parameters.get("start_time") {
            guard let parsed = Timestamp.parseISO(raw) else {
                throw MeshError.badRequest("start_time is an ISO-8601 time such as 2026-11-25T09:00:00Z")
            }
            since = parsed
        }
        var after: RichListingPosition?
        if let raw = parameters.get("continue_from") {
            guard let position = RichListingPosition.parse(raw, side: side, mailbox: caller.mailbox) else {
                throw MeshError.badRequest("continue_from is not a valid cursor")
            }
            after = position
        }
        let found = try await broker.store.richListing(
            RichListingQuery(side: side, mailbox: caller.mailbox, since: since, after: after, limit: limit))
        let page = Array(found.prefix(limit))
        let base = "/messageexchange/\(caller.mailbox.rawValue)/\(side.rawValue)/rich?start_time=\(percentEncode(since.isoUTC))&max_results=\(limit)"
        var links: [(String, JSONValue)] = [("self", .string(base))]
        if found.count > limit, let last = page.last {
            let position = RichListingPosition(createdAt: last.createdAt, messageID: last.id)
            links.append(("next", .string(base + "&continue_from=" + position.token(side: side, mailbox: caller.mailbox))))
        }
        let messages = page.map { RichListingView.json($0, directory: caller.directory) }
        return .json(
            .object([("valid_at", .string(now.isoUTC)), ("messages", .array(messages)), ("links", .object(links))]),
            contentType: Response.v2JSON)
    }
}

/// One message of a rich listing, in the sandbox's fields. A report has no sender mailbox: MESH names
/// its sender "Central System Mailbox" with an empty id.
enum RichListingView {
    static func json(_ message: MessageRecord, directory: DirectoryIndex) -> JSONValue {
        let senderName = message.sender.map { directory.mailboxes[$0]?.name ?? "" } ?? "Central System Mailbox"
        return .object([
            ("message_id", .string(message.id.rawValue)),
            ("expiry_timestamp", message.expiresAt.map { .string($0.isoUTC) } ?? .null),
            ("local_id", .string(message.localID ?? "")),
            ("message_type", .string(message.type.rawValue)),
            ("recipient", .string(message.recipient.rawValue)),
            ("recipient_name", .string(directory.mailboxes[message.recipient]?.name ?? "")),
            ("sender", .string(message.sender?.rawValue ?? "")),
            ("sender_name", .string(senderName)),
            ("sent_date", .string(message.createdAt.isoUTC)),
            ("status", .string(message.status.rawValue)),
            ("status_code", .string(message.statusEvent?.code ?? "")),
            ("workflow_id", .string(message.workflowID)),
            ("total_chunks", .int(Int64(message.totalChunks))),
        ])
    }
}
