import HandoverCore
import HandoverStore
import Hummingbird

/// The practitioner's mailbox: what reached their mailboxes, what needs action first (responsibility
/// pending, oldest on top). Each message opens on its own page to act on (`Console+MailboxActions`).
extension Console {
    func registerMailbox(on group: RouterGroup<ConsoleRequestContext>) {
        group.get("mailbox") { request, context in try await mailboxPage(request, context) }
    }

    func mailboxPage(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, access) = try self.access(context, for: .mailbox)
        let now = clock()
        var received: [MessageRecord] = []
        var reports: [MessageRecord] = []
        for mailbox in access.user.mailboxes {
            let found = try await store.searchMessages(MessageQuery(mailbox: mailbox, limit: 500)).filter { $0.recipient == mailbox }
            received += found.filter { $0.type == .data }
            reports += found.filter { $0.type == .report }
        }
        // Pending responsibility first, then oldest first: what has waited longest is the most urgent.
        received.sort { a, b in
            let (pa, pb) = (responsibilityWords(a) == "pending", responsibilityWords(b) == "pending")
            return pa != pb ? pa : a.createdAt < b.createdAt
        }
        // After a redirect, where the message went, read from the message itself (a link cannot make
        // the page claim anything): only for a message one of this person's mailboxes sent on.
        var redirected: [String: String]?
        if let id = request.uri.queryParameters.get("redirected").map({ String($0.prefix(100)) }),
            let moved = try await store.message(MessageID(id)),
            let hop = moved.responsibility?.redirects?.last, access.user.mailboxes.contains(MailboxID(hop.from))
        {
            redirected = ["id": moved.id.rawValue, "to": hop.to]
        }
        let rows: [[String: Any]] = received.map { m in
            [
                "id": m.id.rawValue, "workflow": m.workflowID, "from": organisationName(m.sender, access), "mailbox": m.recipient.rawValue,
                "age": ConsoleAge.words(from: m.createdAt, to: now), "status": m.status.rawValue,
                "responsibility": responsibilityWords(m), "pending": responsibilityWords(m) == "pending",
            ]
        }
        return pages.page(
            "mailbox", title: "Mailbox",
            [
                "messages": rows, "none": rows.isEmpty,
                "reports": reports.sorted { $0.createdAt > $1.createdAt }.map {
                    ["words": Self.reportWords($0), "age": ConsoleAge.words(from: $0.createdAt, to: now)]
                },
                "hasReports": !reports.isEmpty, "mailboxes": access.user.mailboxes.map(\.rawValue).joined(separator: ", "),
                "redirected": redirected as Any,
            ],
            section: .mailbox, access: access, session: session)
    }

    /// What a MESH report says, in plain words: which message, to whom, and what to do.
    static func reportWords(_ report: MessageRecord) -> String {
        let message = report.linkedMessageID.map { "Message \($0.rawValue)" } ?? "A message"
        let reference = report.localID.map { " (your reference \($0))" } ?? ""
        let to = report.mexTo
        switch report.statusEvent?.code {
        case "14":
            return "\(message)\(reference) to \(to) was not collected in time and has expired: nobody there has read it. "
                + "Send it again or phone them."
        case HandoverErrorCode.uploadIncomplete.rawValue:
            return "\(message)\(reference) to \(to) never finished uploading, so it was discarded and nobody received it. Send it again."
        default:
            return "\(message)\(reference) to \(to): " + (report.statusEvent?.description ?? "a report with no description") + "."
        }
    }
}
