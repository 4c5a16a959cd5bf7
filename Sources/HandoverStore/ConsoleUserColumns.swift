import HandoverCore

/// How console users are stored, the same by every backend: roles, organisations and mailboxes as
/// comma-separated lists (none of them can hold a comma), and the audit entries their changes write.
public enum ConsoleUserColumns {
    public static func list(_ items: [String]) -> String { items.joined(separator: ",") }

    static func items(_ text: String) -> [String] { text.split(separator: ",").map(String.init) }

    public static func user(
        id: Int64, email: String, name: String, roles: String, organisations: String, mailboxes: String, disabled: Bool, mustChange: Bool
    ) -> ConsoleUser {
        ConsoleUser(
            id: id, email: email, name: name, roles: Set(items(roles).compactMap(ConsoleRole.init(rawValue:))), organisations: items(organisations),
            mailboxes: items(mailboxes).map(MailboxID.init), disabled: disabled, mustChangePassword: mustChange)
    }

    public static func createdAudit(_ user: ConsoleUser, actor: String) -> AuditRecord {
        AuditRecord(
            actor: actor, action: "console.user_created", subject: "console user \(user.id)",
            detail: JSONValue.object([
                ("roles", .string(user.roleList)), ("organisations", .string(list(user.organisations))),
                ("mailboxes", .string(list(user.mailboxes.map(\.rawValue)))),
            ]).serialized)
    }

    public static func passwordAudit(userID: Int64, mustChange: Bool, actor: String) -> AuditRecord {
        AuditRecord(
            actor: actor, action: mustChange ? "console.password_reset" : "console.password_changed", subject: "console user \(userID)")
    }
}
