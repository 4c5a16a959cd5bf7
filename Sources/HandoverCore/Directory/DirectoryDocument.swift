/// The routing directory as users write it (contract §2): YAML files in `Routes/`, the admin API's
/// JSON or YAML, and each stored version. Every top-level key is an optional list; files are merged.
public struct DirectoryDocument: Codable, Hashable, Sendable {
    public var organisations: [OrganisationEntry]?
    public var mailboxes: [MailboxEntry]?
    public var areas: [AreaEntry]?
    public var services: [ServiceEntry]?
    public var workflows: [WorkflowEntry]?
    public var escalation_policies: [PolicyEntry]?
    public var calendars: [CalendarEntry]?
    public var webhooks: [WebhookEntry]?
    public var lawful_basis_codes: [LawfulBasisCodeEntry]?

    public init() {}

    /// A lawful-basis code the boundary recognises: `id` is the code, `list` the part it belongs to.
    public struct LawfulBasisCodeEntry: Codable, Hashable, Sendable {
        public var id: String
        public var list: String
        public var name: String?
        public init(id: String, list: String, name: String? = nil) { (self.id, self.list, self.name) = (id, list, name) }
    }

    public struct OrganisationEntry: Codable, Hashable, Sendable {
        public var code: String
        public var name: String
        public var domain: String
        public var authority: String?
        public var duty_mailbox: String?
        public var duty_webhook: String?
        public var safeguarding_lead: String?
        public var public_authority: Bool?
        public init(
            code: String, name: String, domain: String, authority: String?, duty_mailbox: String? = nil, duty_webhook: String? = nil,
            safeguarding_lead: String? = nil, public_authority: Bool? = nil
        ) {
            (self.code, self.name, self.domain, self.authority) = (code, name, domain, authority)
            (self.duty_mailbox, self.duty_webhook, self.safeguarding_lead) = (duty_mailbox, duty_webhook, safeguarding_lead)
            self.public_authority = public_authority
        }
    }
    public struct MailboxEntry: Codable, Hashable, Sendable {
        public var id: String
        public var organisation: String
        public var name: String
        public var password: String?
        public var active: Bool?
        public var certificates: [String]?
    }
    public struct AreaEntry: Codable, Hashable, Sendable {
        public var code: String
        public var name: String
        public var postcode_districts: [String]?
        public init(code: String, name: String, postcode_districts: [String]?) {
            (self.code, self.name, self.postcode_districts) = (code, name, postcode_districts)
        }
    }
    public struct ServiceEntry: Codable, Hashable, Sendable {
        public var id: String
        public var organisation: String
        public var mailbox: String
        public var workflows: [String]
        public var areas: [String]?
        public var duty_mailbox: String?
        public var duty_webhook: String?
    }
    public struct WorkflowEntry: Codable, Hashable, Sendable {
        public var id: String
        public var senders: [String]?
        public var receivers: [String]?
        public var expiry: String?
        public var responsibility: String?
        public var escalation: String?
        public var safeguarding: Bool?
        public var crossing: CrossingEntry?
        public var acks: String?
        public init(
            id: String, senders: [String]?, receivers: [String]?, expiry: String? = nil, responsibility: String? = nil, escalation: String? = nil,
            safeguarding: Bool? = nil, crossing: CrossingEntry? = nil, acks: String? = nil
        ) {
            (self.id, self.senders, self.receivers, self.expiry, self.responsibility, self.escalation) = (
                id, senders, receivers, expiry, responsibility, escalation
            )
            (self.safeguarding, self.crossing, self.acks) = (safeguarding, crossing, acks)
        }
    }
    /// A workflow's `crossing:` policy as written.
    public struct CrossingEntry: Codable, Hashable, Sendable {
        public var identity: String?
        public var lawful_basis: String?
        public var intent: String?
        public var provenance: String?
        public var receiver_basis: String?
        public var test_nhs_numbers: String?
        public var defaults: CrossingDefaults?
        public init(
            identity: String? = nil, lawful_basis: String? = nil, intent: String? = nil, provenance: String? = nil,
            receiver_basis: String? = nil, test_nhs_numbers: String? = nil, defaults: CrossingDefaults? = nil
        ) {
            (self.identity, self.lawful_basis, self.intent, self.provenance) = (identity, lawful_basis, intent, provenance)
            (self.receiver_basis, self.test_nhs_numbers, self.defaults) = (receiver_basis, test_nhs_numbers, defaults)
        }
    }
    public struct CrossingDefaults: Codable, Hashable, Sendable {
        public var intent: ClinicalIntent?
        public init(intent: ClinicalIntent?) { self.intent = intent }
    }
    public struct PolicyEntry: Codable, Hashable, Sendable {
        public var id: String
        public var calendar: String?
        public var stages: [StageEntry]
        public var acknowledgement_lapses_after: String?
    }
    public struct StageEntry: Codable, Hashable, Sendable {
        public var after: String
        public var when: String
        public var notify: [[String: StringOrBool]]
        public var `repeat`: String?
    }
    public struct CalendarEntry: Codable, Hashable, Sendable {
        public var id: String
        public var timezone: String
        public var working_hours: String
        public var working_days: [String]
        public var holidays: [String]?
    }
    public struct WebhookEntry: Codable, Hashable, Sendable {
        public var id: String
        public var url: String
        public var secret: String?
        public var allow_private: Bool?
        public var format: String?
        public init(id: String, url: String, secret: String?, allow_private: Bool? = nil, format: String? = nil) {
            (self.id, self.url, self.secret, self.allow_private, self.format) = (id, url, secret, allow_private, format)
        }
    }

    /// `notify` entries mix strings (`mailbox: X`) and booleans (`sender: true`).
    public enum StringOrBool: Codable, Hashable, Sendable {
        case string(String), bool(Bool)
        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .bool(b) } else { self = .string(try c.decode(String.self)) }
        }
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .string(let s): try c.encode(s)
            case .bool(let b): try c.encode(b)
            }
        }
    }
}

extension DirectoryDocument {
    /// The document that builds back to `directory` (export, storage and the admin API).
    public init(_ d: Directory) {
        organisations = d.organisations.map {
            OrganisationEntry(
                code: $0.code.rawValue, name: $0.name, domain: $0.domain.rawValue, authority: $0.authority, duty_mailbox: $0.duty.mailbox?.rawValue,
                duty_webhook: $0.duty.webhook, safeguarding_lead: $0.safeguardingLead?.rawValue,
                public_authority: $0.publicAuthority == $0.domain.isPublicAuthorityByDefault ? nil : $0.publicAuthority)
        }
        mailboxes = d.mailboxes.map {
            MailboxEntry(
                id: $0.id.rawValue, organisation: $0.organisation.rawValue, name: $0.name, password: $0.password?.written, active: $0.active,
                certificates: $0.certificateNames.isEmpty ? nil : $0.certificateNames)
        }
        areas = d.areas.map { AreaEntry(code: $0.code, name: $0.name, postcode_districts: $0.postcodeDistricts) }
        services = d.services.map {
            ServiceEntry(
                id: $0.id, organisation: $0.organisation.rawValue, mailbox: $0.mailbox.rawValue, workflows: $0.workflows.map(\.rawValue),
                areas: $0.areas, duty_mailbox: $0.duty.mailbox?.rawValue, duty_webhook: $0.duty.webhook)
        }
        workflows = d.workflows.map {
            WorkflowEntry(
                id: $0.id.rawValue, senders: $0.senders, receivers: $0.receivers, expiry: $0.expiry?.description,
                responsibility: $0.responsibility.rawValue, escalation: $0.escalation, safeguarding: $0.safeguarding ? true : nil,
                crossing: CrossingEntry($0.crossing), acks: $0.acks == Workflow.defaultAcks($0.id) ? nil : $0.acks.rawValue)
        }
        escalation_policies = d.escalationPolicies.map { p in
            PolicyEntry(
                id: p.id, calendar: p.calendar,
                stages: p.stages.map { s in
                    StageEntry(
                        after: s.after.description, when: s.when.rawValue,
                        notify: s.notify.map { t in
                            switch t {
                            case .mailbox(let m): ["mailbox": .string(m.rawValue)]
                            case .webhook(let w): ["webhook": .string(w)]
                            case .sender: ["sender": .bool(true)]
                            case .receiverDuty: ["receiver_duty": .bool(true)]
                            case .senderLead: ["sender_lead": .bool(true)]
                            case .email(let address): ["email": .string(address)]
                            }
                        }, repeat: s.repeatEvery?.description)
                }, acknowledgement_lapses_after: p.acknowledgementLapse?.description)
        }
        let dayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        func hhmm(_ minutes: Int) -> String {
            let h = minutes / 60, m = minutes % 60
            return (h < 10 ? "0" : "") + String(h) + ":" + (m < 10 ? "0" : "") + String(m)
        }
        calendars = d.calendars.map {
            CalendarEntry(
                id: $0.id, timezone: $0.timezone, working_hours: hhmm($0.workingStart) + "-" + hhmm($0.workingEnd),
                working_days: $0.workingDays.sorted().map { dayNames[$0] }, holidays: $0.holidays.sorted())
        }
        lawful_basis_codes =
            d.lawfulBasisCodes.isEmpty ? nil : d.lawfulBasisCodes.map { LawfulBasisCodeEntry(id: $0.code, list: $0.list, name: $0.name) }
        webhooks = d.webhooks.map {
            WebhookEntry(
                id: $0.id, url: $0.url, secret: $0.secret?.written, allow_private: $0.allowPrivate ? true : nil,
                format: $0.format == .handover ? nil : $0.format.rawValue)
        }
    }
}

extension DirectoryDocument.CrossingEntry {
    /// The entry that builds back to `policy`; nil for the default policy, so documents stay short.
    public init?(_ policy: CrossingPolicy) {
        guard policy != .standard else { return nil }
        func written(_ s: CrossingStrength) -> String? { s == .recorded ? nil : s.rawValue }
        self.init(
            identity: written(policy.identity), lawful_basis: written(policy.lawfulBasis), intent: written(policy.intent),
            provenance: written(policy.provenance), receiver_basis: policy.receiverBasisRequired ? "required" : nil,
            test_nhs_numbers: policy.testNHSNumbersAllowed ? "allowed" : nil,
            defaults: policy.defaultIntent.map { DirectoryDocument.CrossingDefaults(intent: $0) })
    }
}
