/// The routing directory (contract §2): who exists, who may send what to whom, and where each
/// workflow goes. A value type; the server swaps whole versions atomically.
public struct Directory: Hashable, Sendable {
    public var organisations: [Organisation] = []
    public var mailboxes: [Mailbox] = []
    public var areas: [Area] = []
    public var services: [DirectoryService] = []
    public var workflows: [Workflow] = []
    public var escalationPolicies: [EscalationPolicy] = []
    public var calendars: [WorkingCalendar] = []
    public var webhooks: [Webhook] = []
    /// The lawful-basis codes this boundary recognises, where it replaces a built-in list.
    public var lawfulBasisCodes: [LawfulBasisCode] = []

    public init(
        organisations: [Organisation] = [], mailboxes: [Mailbox] = [], areas: [Area] = [], services: [DirectoryService] = [],
        workflows: [Workflow] = [], escalationPolicies: [EscalationPolicy] = [], calendars: [WorkingCalendar] = [],
        webhooks: [Webhook] = []
    ) {
        self.organisations = organisations
        self.mailboxes = mailboxes
        self.areas = areas
        self.services = services
        self.workflows = workflows
        self.escalationPolicies = escalationPolicies
        self.calendars = calendars
        self.webhooks = webhooks
    }
}

public enum OrganisationDomain: String, Hashable, Sendable, Codable, CaseIterable {
    case nhs
    case localAuthority = "local-authority"
    case provider
    case police
    case education
    case voluntary
    case `public`

    /// Whether an organisation of this domain is a public authority unless the directory says otherwise.
    public var isPublicAuthorityByDefault: Bool { self != .provider && self != .voluntary }
}

public struct Organisation: Hashable, Sendable {
    public var code: ODSCode
    public var name: String
    public var domain: OrganisationDomain
    public var authority: String?
    /// Who is told when an alert concerns a message this organisation holds (`{receiver_duty: true}`).
    public var duty: DutyContacts
    /// The mailbox of this organisation's safeguarding lead (`{sender_lead: true}` when it sent).
    public var safeguardingLead: MailboxID?
    /// A public authority cannot rely on legitimate interests (6(1)(f)) or recognised legitimate
    /// interests (6(1)(ea)) for its tasks; defaults from the domain.
    public var publicAuthority: Bool

    public init(
        code: ODSCode, name: String, domain: OrganisationDomain, authority: String? = nil, duty: DutyContacts = DutyContacts(),
        safeguardingLead: MailboxID? = nil, publicAuthority: Bool? = nil
    ) {
        (self.code, self.name, self.domain, self.authority) = (code, name, domain, authority)
        (self.duty, self.safeguardingLead) = (duty, safeguardingLead)
        self.publicAuthority = publicAuthority ?? domain.isPublicAuthorityByDefault
    }
}

/// A duty team's mailbox and webhook, declared on an organisation or a service.
public struct DutyContacts: Hashable, Sendable {
    public var mailbox: MailboxID?
    public var webhook: String?
    public init(mailbox: MailboxID? = nil, webhook: String? = nil) { (self.mailbox, self.webhook) = (mailbox, webhook) }
    public var isEmpty: Bool { mailbox == nil && webhook == nil }
}

/// A mailbox's password as configured: a literal (sandbox only) or a `${VAR}` reference.
public enum SecretReference: Hashable, Sendable {
    case literal(String)
    case environment(String)

    public init(_ text: String) {
        if text.hasPrefix("${"), text.hasSuffix("}"), text.count > 3 {
            self = .environment(String(text.dropFirst(2).dropLast()))
        } else {
            self = .literal(text)
        }
    }

    public var written: String {
        switch self {
        case .literal(let v): v
        case .environment(let name): "${\(name)}"
        }
    }
}

public struct Mailbox: Hashable, Sendable {
    public var id: MailboxID
    public var organisation: ODSCode
    public var name: String
    public var password: SecretReference?
    public var active: Bool
    /// Client-certificate names (CN or DNS SAN, exact) that may act for this mailbox when the broker
    /// binds certificates explicitly (`--certificate-binding explicit`).
    public var certificateNames: [String]

    public init(
        id: MailboxID, organisation: ODSCode, name: String, password: SecretReference? = nil, active: Bool = true,
        certificateNames: [String] = []
    ) {
        (self.id, self.organisation, self.name, self.password, self.active) = (id, organisation, name, password, active)
        self.certificateNames = certificateNames
    }
}

public struct Area: Hashable, Sendable {
    public var code: String
    public var name: String
    public var postcodeDistricts: [String]

    public init(code: String, name: String, postcodeDistricts: [String] = []) {
        (self.code, self.name, self.postcodeDistricts) = (code.uppercased(), name, postcodeDistricts.map { $0.uppercased() })
    }
}

public struct DirectoryService: Hashable, Sendable {
    public var id: String
    public var organisation: ODSCode
    public var mailbox: MailboxID
    public var workflows: [WorkflowID]
    public var areas: [String]
    /// This service's own duty team, before its organisation's.
    public var duty: DutyContacts

    public init(
        id: String, organisation: ODSCode, mailbox: MailboxID, workflows: [WorkflowID], areas: [String] = [], duty: DutyContacts = DutyContacts()
    ) {
        (self.id, self.organisation, self.mailbox, self.workflows, self.areas) = (id, organisation, mailbox, workflows, areas.map { $0.uppercased() })
        self.duty = duty
    }
}

public enum ResponsibilityRequirement: String, Hashable, Sendable, CaseIterable {
    case required
    case none
}

public struct Workflow: Hashable, Sendable {
    public var id: WorkflowID
    /// Organisation codes or mailbox ids, uppercase; `*` for anyone.
    public var senders: [String]
    public var receivers: [String]
    public var expiry: DirectoryDuration?
    public var responsibility: ResponsibilityRequirement
    public var escalation: String?
    /// A safeguarding concern never bounces for a missing crossing field.
    public var safeguarding: Bool
    public var crossing: CrossingPolicy
    public var acks: AckStyle

    public init(
        id: WorkflowID, senders: [String], receivers: [String], expiry: DirectoryDuration? = nil,
        responsibility: ResponsibilityRequirement = .none, escalation: String? = nil, safeguarding: Bool = false,
        crossing: CrossingPolicy = .standard, acks: AckStyle? = nil
    ) {
        self.id = id
        self.senders = senders.map { $0.uppercased() }
        self.receivers = receivers.map { $0.uppercased() }
        self.expiry = expiry
        self.responsibility = responsibility
        self.escalation = escalation
        self.safeguarding = safeguarding
        self.crossing = crossing
        self.acks = acks ?? Self.defaultAcks(id)
    }

    /// Transfer of Care workflows (`TOC_…`) answer in ITK3 unless the directory says otherwise.
    public static func defaultAcks(_ id: WorkflowID) -> AckStyle {
        id.rawValue.hasPrefix("TOC_") && !id.rawValue.hasSuffix("_ACK") ? .fhirITK3 : .handover
    }
}

/// How business decisions reach the sender: Handover's `_ACK` message, or ITK3 response Bundles
/// (sent only when the original asked for them).
public enum AckStyle: String, Hashable, Sendable, CaseIterable {
    case handover
    case fhirITK3 = "fhir-itk3"
}

public enum EscalationCondition: String, Hashable, Sendable, CaseIterable {
    case notDownloaded = "not-downloaded"
    case notAcknowledged = "not-acknowledged"
    case notAccepted = "not-accepted"
    case noOutcome = "no-outcome"
}

public enum NotifyTarget: Hashable, Sendable {
    case mailbox(MailboxID)
    case webhook(String)
    case sender
    /// The duty team of whoever holds the message: its service's duty contacts, else its receiving
    /// organisation's (so a Hillside referral alerts Hillside, not Riverside).
    case receiverDuty
    /// The sending organisation's safeguarding lead.
    case senderLead
    /// A person or shared inbox by email, through the configured SMTP relay (`--smtp-url`).
    case email(String)
}

public struct EscalationStage: Hashable, Sendable {
    public var after: DirectoryDuration
    public var when: EscalationCondition
    public var notify: [NotifyTarget]
    public var repeatEvery: DirectoryDuration?

    public init(after: DirectoryDuration, when: EscalationCondition, notify: [NotifyTarget], repeatEvery: DirectoryDuration? = nil) {
        (self.after, self.when, self.notify, self.repeatEvery) = (after, when, notify, repeatEvery)
    }
}

public struct EscalationPolicy: Hashable, Sendable {
    public var id: String
    public var calendar: String?
    public var stages: [EscalationStage]
    /// How long an acknowledgement ("I'm on it") holds: after it, an alert whose condition still
    /// holds opens again and is re-notified. Nil: it holds until the alert resolves.
    public var acknowledgementLapse: DirectoryDuration?

    public init(id: String, calendar: String? = nil, stages: [EscalationStage], acknowledgementLapse: DirectoryDuration? = nil) {
        (self.id, self.calendar, self.stages, self.acknowledgementLapse) = (id, calendar, stages, acknowledgementLapse)
    }
}

public struct WorkingCalendar: Hashable, Sendable {
    public var id: String
    public var timezone: String
    /// Minutes after midnight, local time.
    public var workingStart: Int
    public var workingEnd: Int
    /// 0 = Monday ... 6 = Sunday.
    public var workingDays: Set<Int>
    public var holidays: Set<String>

    public init(id: String, timezone: String, workingStart: Int, workingEnd: Int, workingDays: Set<Int>, holidays: Set<String>) {
        (self.id, self.timezone, self.workingStart, self.workingEnd, self.workingDays, self.holidays) =
            (id, timezone, workingStart, workingEnd, workingDays, holidays)
    }
}

public struct Webhook: Hashable, Sendable {
    public var id: String
    public var url: String
    public var secret: SecretReference?
    /// Lets the webhook reach loopback, private or link-local addresses, and plain `http://` (an
    /// Alertmanager or relay on the same host or network). Off by default: a directory edit must not
    /// be able to aim the broker at its own network.
    public var allowPrivate: Bool
    /// What the receiver expects: Handover's signed JSON, or an on-call, monitoring or chat tool's own shape.
    public var format: WebhookFormat

    public init(id: String, url: String, secret: SecretReference? = nil, allowPrivate: Bool = false, format: WebhookFormat = .handover) {
        (self.id, self.url, self.secret, self.allowPrivate, self.format) = (id, url, secret, allowPrivate, format)
    }
}

/// The body a webhook receives (`format:` in the directory).
public enum WebhookFormat: String, Hashable, Sendable, CaseIterable {
    /// Handover's JSON, signed with the secret (`Handover-Signature`).
    case handover
    /// PagerDuty Events API v2: trigger, acknowledge and resolve with one `dedup_key` per alert; the
    /// secret is the integration's routing key.
    case pagerDuty = "pagerduty-events-v2"
    /// Prometheus Alertmanager's v2 alerts API, re-posted while the alert is open; an optional secret
    /// `user:password` is sent as basic authentication.
    case alertmanager
    /// A Microsoft Teams incoming webhook or workflow: an Adaptive Card. The URL is the credential.
    case teams
    /// A Slack incoming webhook: Block Kit. The URL is the credential.
    case slack

    /// Formats whose receiver authenticates Handover by a secret of its own kind, so one is required.
    public var needsSecret: Bool { self == .handover || self == .pagerDuty }
}
