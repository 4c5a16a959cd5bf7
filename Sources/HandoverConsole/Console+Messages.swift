import HTTPTypes
import HandoverCore
import HandoverStore
import Hummingbird

/// Message search and a message's timeline for operators and viewers, scoped to their organisations'
/// crossings. Opening a message is audited; opening one that is not theirs is a 404, audited too.
extension Console {
    func registerMessages(on group: RouterGroup<ConsoleRequestContext>) {
        group.get("messages") { request, context in try await messageSearch(request, context) }
        group.post("messages/nhs-number") { request, context in try await nhsNumberSearch(request, context) }
        group.get("messages/:message") { request, context in try await messagePage(request, context) }
        group.get("messages/:message/payload") { _, context in try await payload(context, section: .messages) }
        group.get("messages/:message/receipt") { _, context in try await receiptDownload(context) }
    }

    func messageSearch(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, access) = try self.access(context, for: .messages)
        let q = request.uri.queryParameters
        func field(_ name: String) -> String? {
            q.get(name).map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : String($0.prefix(100)) }
        }
        var errors: [String] = []
        if let id = field("id") {
            return .redirect(to: "/console/messages/\(id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")", type: .normal)
        }
        let status = field("status").flatMap { MessageStatus(rawValue: $0) }
        if field("status") != nil && status == nil { errors.append("Choose a status from the list.") }
        let since = field("since").flatMap { Timestamp.parseDateTime($0) }
        if field("since") != nil && since == nil { errors.append("Write the date as YYYY-MM-DD.") }
        let searched = !q.isEmpty
        var rows: [[String: Any]] = []
        if searched && errors.isEmpty {
            let query = MessageQuery(
                mailbox: field("mailbox").map(MailboxID.init), workflowID: field("workflow"), status: status, since: since, limit: 1000)
            let localID = field("local_id")
            let found = try await store.searchMessages(query).filter { access.mayOpen($0) && (localID == nil || $0.localID == localID) }
            rows = messageRows(found, access)
        }
        let fields = [
            "mailbox": field("mailbox") ?? "", "workflow": field("workflow") ?? "", "localID": field("local_id") ?? "", "since": field("since") ?? "",
        ]
        return messagesPage(rows: searched && errors.isEmpty ? rows : nil, errors: errors, fields: fields, status: status, session, access)
    }

    /// Found messages as list rows: references, workflow, organisations, status and age, never who
    /// a message is about. At most 200.
    func messageRows(_ messages: [MessageRecord], _ access: ConsoleAccess) -> [[String: Any]] {
        let now = clock()
        return messages.prefix(200).map { message in
            [
                "id": message.id.rawValue, "workflow": message.workflowID, "status": message.status.rawValue,
                "from": organisationName(message.sender, access), "to": organisationName(message.recipient, access),
                "age": ConsoleAge.words(from: message.createdAt, to: now), "responsibility": responsibilityWords(message),
            ]
        }
    }

    /// The Messages page: both search forms, and the results when there are some (`rows` nil: no search yet).
    func messagesPage(
        rows: [[String: Any]]?, errors: [String], fields: [String: String] = [:], status: MessageStatus? = nil, byNHSNumber: Bool = false,
        httpStatus: HTTPResponse.Status = .ok, _ session: ConsoleSession, _ access: ConsoleAccess
    ) -> Response {
        var values: [String: Any] = [
            "searched": rows != nil, "messages": rows ?? [], "count": rows?.count ?? 0, "none": rows?.isEmpty ?? true,
            "errors": errors.map { ["text": $0] }, "hasErrors": !errors.isEmpty, "byNHSNumber": byNHSNumber,
            "statuses": MessageStatus.allCases.map { ["value": $0.rawValue, "selected": $0 == status] as [String: Any] },
        ]
        for (key, value) in fields { values[key] = value }
        return pages.page("messages", title: "Messages", values, section: .messages, access: access, session: session, status: httpStatus)
    }

    func messagePage(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, access) = try self.access(context, for: .messages)
        let message = try await openedMessage(context, access)
        try await audit(access.user, "console.message_viewed", subject: "message \(message.id.rawValue)")
        let now = clock()
        let receipt = try await receipts?(message)
        let responsibility = message.responsibility ?? (message.responsibilityRequired ? ResponsibilityRecord() : nil)
        let values: [String: Any] = [
            "id": message.id.rawValue, "workflow": message.workflowID, "status": message.status.rawValue,
            "localID": message.localID as Any,
            "sender": message.sender?.rawValue ?? "the broker", "senderOrganisation": organisationName(message.sender, access),
            "recipient": message.recipient.rawValue, "recipientOrganisation": organisationName(message.recipient, access),
            "createdAt": message.createdAt.isoUTC, "age": ConsoleAge.words(from: message.createdAt, to: now),
            "deliveredAt": message.deliveredAt?.isoUTC as Any, "downloadedAt": message.downloadedAt?.isoUTC as Any,
            "acknowledgedAt": message.acknowledgedAt?.isoUTC as Any, "expiresAt": message.expiresAt?.isoUTC as Any,
            "route": message.route.map { r in
                ["addressedBy": r.addressedBy.rawValue, "address": r.address, "service": r.service as Any, "version": r.directoryVersion]
                    as [String: Any]
            } as Any,
            "responsibility": responsibility.map { r in
                [
                    "state": r.state.rawValue, "by": r.decidedBy?.name as Any, "at": r.decidedAt?.isoUTC as Any,
                    "outcome": r.outcomeCode as Any, "declineReason": r.declineReason as Any,
                ] as [String: Any]
            } as Any,
            "hasPayload": message.type == .data && message.totalChunks > 0, "size": message.fileSize,
            "receipt": receipt.map { r in
                [
                    "verified": r.verified, "signatureVerified": r.signatureVerified, "payloadMatches": r.payloadMatches == true,
                    "payloadDiffers": r.payloadMatches == false, "noDigest": r.payloadMatches == nil, "text": r.receipt,
                    "notAfter": r.certificateNotAfter,
                ] as [String: Any]
            } as Any,
            "timeline": try await store.events(messageID: message.id).map { ["at": $0.at.isoUTC, "kind": $0.kind] as [String: Any] },
            "alerts": try await store.alerts(messageID: message.id).map { a in
                ["id": a.id, "state": a.state.rawValue, "condition": conditionWords(a.condition), "mayAct": access.mayActOnAlerts(about: message)]
                    as [String: Any]
            },
        ]
        return pages.page("message", title: "Message \(message.id.rawValue)", values, section: .messages, access: access, session: session)
    }

    /// Who holds responsibility, in the words lists use.
    func responsibilityWords(_ message: MessageRecord) -> String {
        if let state = message.responsibility?.state { return state.rawValue }
        return message.responsibilityRequired ? ResponsibilityState.pending.rawValue : "not required"
    }

    /// The payload as it was sent, as an attachment: never shown inline (it is untrusted: HTML, a
    /// script, anything), under a CSP that sandboxes it even if a browser were to render it. Chunks
    /// stream from the store segment by segment. Audited. For an operator or viewer it is not a MESH
    /// download, so the recipient's "not downloaded" clock is untouched.
    /// From the mailbox section (the recipient's practitioner) this is their reading of the message:
    /// it counts as downloaded, as a MESH download would.
    func payload(_ context: ConsoleRequestContext, section: ConsoleSection) async throws -> Response {
        let (_, access) = try self.access(context, for: section)
        let id = String((context.parameters.get("message") ?? "").prefix(100))
        let recipientReads = section == .mailbox
        guard let message = try await store.message(MessageID(id)),
            recipientReads ? access.user.mailboxes.contains(message.recipient) : access.mayOpen(message)
        else {
            try await audit(access.user, "console.message_refused", subject: "message \(id)")
            throw ConsoleRefusal.notFound
        }
        var chunks: [StoredChunk] = []
        for number in 1...max(1, message.totalChunks) {
            guard message.totalChunks > 0, let chunk = try await store.chunk(messageID: message.id, number: number) else {
                throw HTTPError(
                    .gone, message: "This message's payload is no longer held (it is removed once the message has been delivered and kept its time).")
            }
            chunks.append(chunk)
        }
        try await audit(access.user, "console.payload_downloaded", subject: "message \(message.id.rawValue)")
        if recipientReads && message.downloadedAt == nil { try await store.markDownloaded(messageID: message.id, now: clock()) }
        var headers = HTTPFields()
        let gzip = message.contentEncoding == .gzip
        headers[.contentType] = gzip ? "application/gzip" : "application/octet-stream"
        headers[.contentDisposition] = "attachment; filename=\"\(message.id.rawValue).dat\(gzip ? ".gz" : "")\""
        headers[.contentSecurityPolicy] = "sandbox; default-src 'none'"
        headers[.contentLength] = String(chunks.reduce(0) { $0 + $1.size })
        let (store, held) = (self.store, chunks)
        let body = ResponseBody { writer in
            for chunk in held {
                for index in 0..<chunk.segmentCount {
                    guard let segment = try await store.segment(of: chunk, index: index) else { throw HTTPError(.gone) }
                    try await writer.write(segment)
                }
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}
