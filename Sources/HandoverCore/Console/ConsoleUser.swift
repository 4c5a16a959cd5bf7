/// What a person signed in to the console may do. Roles combine: a duty manager may be an operator
/// and a practitioner at once.
public enum ConsoleRole: String, Hashable, Sendable, Codable, CaseIterable, Comparable {
    /// Keeps the directory and the console's users; sees no patient identifiers.
    case admin
    /// A duty team: alerts and off-system crossings of their organisations.
    case `operator`
    /// Reads their organisations' crossings and the scorecard.
    case viewer
    /// Acts for one or more mailboxes: reads, accepts, declines and records outcomes.
    case practitioner

    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }

    /// The order roles are listed in.
    var rank: Int {
        switch self {
        case .admin: 0
        case .operator: 1
        case .viewer: 2
        case .practitioner: 3
        }
    }
}

/// A console user as the console shows them: never a password hash or a TOTP secret.
public struct ConsoleUser: Hashable, Sendable {
    public var id: Int64
    /// Lowercased; people sign in with it.
    public var email: String
    public var name: String
    public var roles: Set<ConsoleRole>
    /// ODS codes whose crossings an operator or viewer sees.
    public var organisations: [String]
    /// Mailboxes a practitioner acts for.
    public var mailboxes: [MailboxID]
    public var disabled: Bool
    /// Set for a one-time password: the next sign-in must choose a new one.
    public var mustChangePassword: Bool

    public init(
        id: Int64 = 0, email: String, name: String, roles: Set<ConsoleRole>, organisations: [String] = [], mailboxes: [MailboxID] = [],
        disabled: Bool = false, mustChangePassword: Bool = true
    ) {
        (self.id, self.email, self.name, self.roles) = (id, ConsoleUser.normalise(email: email), name, roles)
        (self.organisations, self.mailboxes, self.disabled, self.mustChangePassword) = (organisations, mailboxes, disabled, mustChangePassword)
    }

    public func has(_ role: ConsoleRole) -> Bool { roles.contains(role) }

    /// Roles as stored and shown: sorted, comma-separated.
    public var roleList: String { roles.sorted().map(\.rawValue).joined(separator: ",") }

    public static func normalise(email: String) -> String { email.trimmingWhitespace().lowercased() }

    /// Roles from a comma-separated list; nil names the first unknown one.
    public static func parseRoles(_ text: String) -> Result<Set<ConsoleRole>, ConsoleUserProblem> {
        var roles: Set<ConsoleRole> = []
        for part in text.split(separator: ",") {
            let name = String(part).trimmingWhitespace()
            guard let role = ConsoleRole(rawValue: name) else { return .failure(.unknownRole(name)) }
            roles.insert(role)
        }
        return roles.isEmpty ? .failure(.noRole) : .success(roles)
    }

    /// What a new account must satisfy, whichever door creates it.
    public func problems() -> [ConsoleUserProblem] {
        var problems: [ConsoleUserProblem] = []
        if !EmailAddress.isValid(email) { problems.append(.badEmail) }
        if name.trimmingWhitespace().isEmpty || name.count > 200 { problems.append(.badName) }
        if roles.isEmpty { problems.append(.noRole) }
        if has(.practitioner) && mailboxes.isEmpty { problems.append(.practitionerWithoutMailbox) }
        if (has(.operator) || has(.viewer)) && organisations.isEmpty { problems.append(.noOrganisation) }
        return problems
    }
}

public enum ConsoleUserProblem: Error, Hashable, Sendable, CustomStringConvertible {
    case unknownRole(String)
    case noRole
    case badEmail
    case badName
    case practitionerWithoutMailbox
    case noOrganisation
    case duplicateEmail

    public var description: String {
        switch self {
        case .unknownRole(let name): "unknown role \"\(name.prefix(40))\" (roles are admin, operator, viewer, practitioner)"
        case .noRole: "give at least one role: admin, operator, viewer or practitioner"
        case .badEmail: "the email address is not valid"
        case .badName: "the name must be 1 to 200 characters"
        case .practitionerWithoutMailbox: "a practitioner acts for at least one mailbox (--mailbox)"
        case .noOrganisation: "an operator or viewer sees the crossings of at least one organisation (--organisation, an ODS code)"
        case .duplicateEmail: "a console user with that email already exists"
        }
    }
}

/// A console account as the store keeps it, for signing in.
public struct ConsoleAccount: Sendable {
    public var user: ConsoleUser
    /// bcrypt.
    public var passwordHash: String
    /// The TOTP secret sealed with the master key (`SecretBox`), bound to the email.
    public var sealedTOTPSecret: String
    public init(user: ConsoleUser, passwordHash: String, sealedTOTPSecret: String) {
        (self.user, self.passwordHash, self.sealedTOTPSecret) = (user, passwordHash, sealedTOTPSecret)
    }
}
