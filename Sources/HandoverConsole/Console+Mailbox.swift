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
        for mailbox in access.user.mailboxes {
            received += try await store.searchMessages(MessageQuery(mailbox: mailbox, limit: 500)).filter {
                $0.recipient == mailbox && $0.type == .data
            }
        }
        // Pending responsibility first, then oldest first: what has waited longest is the most urgent.
        received.sort { a, b in
            let (pa, pb) = (responsibilityWords(a) == "pending", responsibilityWords(b) == "pending")
            return pa != pb ? pa : a.createdAt < b.createdAt
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
                "messages": rows, "none": rows.isEmpty, "mailboxes": access.user.mailboxes.map(\.rawValue).joined(separator: ", "),
                // After a redirect: which message went where (the person's own action, shown back to them).
                "redirected": request.uri.queryParameters.get("redirected").map { String($0.prefix(100)) } as Any,
                "redirectedTo": request.uri.queryParameters.get("to").map { String($0.prefix(100)) } as Any,
            ],
            section: .mailbox, access: access, session: session)
    }
}
