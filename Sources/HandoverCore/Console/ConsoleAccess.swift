/// What a console user may see and do, decided from their roles and scope alone (no I/O), so every
/// page asks the same question the same way. Payloads and identities go to the people of the
/// organisations on either end of a crossing: practitioners through their mailboxes, operators and
/// viewers through their organisations. Admins keep the directory and see no patient identifiers.
public struct ConsoleAccess: Sendable {
    public let user: ConsoleUser
    public let directory: DirectoryIndex

    public init(user: ConsoleUser, directory: DirectoryIndex) { (self.user, self.directory) = (user, directory) }

    /// The pages in the top navigation, in order, that this person may open.
    public var sections: [ConsoleSection] {
        ConsoleSection.allCases.filter { section in
            switch section {
            case .mailbox: user.has(.practitioner)
            case .alerts: user.has(.operator)
            case .messages: user.has(.operator) || user.has(.viewer)
            case .directory: true
            case .boundaries: user.has(.admin) || user.has(.operator) || user.has(.viewer)
            }
        }
    }

    /// The organisations at either end of a message, from the directory in force.
    public func organisations(of message: MessageRecord) -> Set<String> {
        Set([message.sender, message.recipient].compactMap { $0.flatMap { directory.mailboxes[$0]?.organisation.rawValue } })
    }

    /// Whether this person may open the message's record (and so its identities).
    public func mayOpen(_ message: MessageRecord) -> Bool {
        if user.has(.practitioner), [message.sender, message.recipient].contains(where: { $0.map(user.mailboxes.contains) ?? false }) {
            return true
        }
        if user.has(.operator) || user.has(.viewer) { return !organisations(of: message).isDisjoint(with: user.organisations) }
        return false
    }

    /// Whether this person acts on alerts about the message (operators of either end's organisation).
    public func mayActOnAlerts(about message: MessageRecord) -> Bool {
        user.has(.operator) && !organisations(of: message).isDisjoint(with: user.organisations)
    }

    public var mayEditDirectory: Bool { user.has(.admin) }
    /// Webhook addresses and secrets name systems an attacker could target: admins only.
    public var maySeeDirectorySecrets: Bool { user.has(.admin) }
}

/// The console's top-level pages.
public enum ConsoleSection: String, Sendable, CaseIterable {
    case mailbox, alerts, messages, directory, boundaries

    public var title: String {
        switch self {
        case .mailbox: "Mailbox"
        case .alerts: "Alerts"
        case .messages: "Messages"
        case .directory: "Directory"
        case .boundaries: "Boundaries"
        }
    }
}
