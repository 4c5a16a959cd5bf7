import HandoverCore
import HandoverStore
import Hummingbird

/// Message search and a message's timeline for operators and viewers, scoped to their organisations'
/// crossings. Opening a message is audited; opening one that is not theirs is a 404, audited too.
extension Console {
    func registerMessages(on group: RouterGroup<ConsoleRequestContext>) {
        group.get("messages") { request, context in try await messageSearch(request, context) }
        group.get("messages/:message") { request, context in try await messagePage(request, context) }
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
            let now = clock()
            for message in try await store.searchMessages(query) where access.mayOpen(message) && (localID == nil || message.localID == localID) {
                rows.append([
                    "id": message.id.rawValue, "workflow": message.workflowID, "status": message.status.rawValue,
                    "from": organisationName(message.sender, access), "to": organisationName(message.recipient, access),
                    "age": ConsoleAge.words(from: message.createdAt, to: now), "responsibility": responsibilityWords(message),
                ])
                if rows.count == 200 { break }
            }
        }
        let values: [String: Any] = [
            "searched": searched && errors.isEmpty, "messages": rows, "count": rows.count, "none": rows.isEmpty,
            "errors": errors.map { ["text": $0] }, "hasErrors": !errors.isEmpty,
            "mailbox": field("mailbox") ?? "", "workflow": field("workflow") ?? "", "localID": field("local_id") ?? "", "since": field("since") ?? "",
            "statuses": MessageStatus.allCases.map { ["value": $0.rawValue, "selected": $0 == status] as [String: Any] },
        ]
        return pages.page("messages", title: "Messages", values, section: .messages, access: access, session: session)
    }

    func messagePage(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, access) = try self.access(context, for: .messages)
        let id = String((context.parameters.get("message") ?? "").prefix(100))
        guard let message = try await store.message(MessageID(id)), access.mayOpen(message) else {
            try await audit(access.user, "console.message_refused", subject: "message \(id)")
            throw ConsoleRefusal.notFound
        }
        try await audit(access.user, "console.message_viewed", subject: "message \(message.id.rawValue)")
        let now = clock()
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
}
