import HandoverCore
import HandoverStore
import Hummingbird

/// The practitioner's mailbox: what reached their mailboxes, what needs action first (responsibility
/// pending, oldest on top). Acting on a message from the browser is still to come; the MESH API and
/// `handover client` do it today.
extension Console {
    func registerMailbox(on group: RouterGroup<ConsoleRequestContext>) {
        group.get("mailbox") { _, context in try await mailboxPage(context) }
    }

    func mailboxPage(_ context: ConsoleRequestContext) async throws -> Response {
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
            ["messages": rows, "none": rows.isEmpty, "mailboxes": access.user.mailboxes.map(\.rawValue).joined(separator: ", ")],
            section: .mailbox, access: access, session: session)
    }
}
