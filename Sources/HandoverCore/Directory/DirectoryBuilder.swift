/// Turns directory documents into the model, recording a `DirectoryProblem` for each field it
/// cannot accept; `build` adds the validator's reference checks, each named by its source file.
public struct DirectoryBuilder {
    public var directory = Directory()
    public var problems: [DirectoryProblem] = []
    /// Which file each entry came from, keyed as the validator names entries ("mailbox X").
    public var origin: [String: String] = [:]

    public init() {}

    /// The directory from documents (each with the name it came from), and every problem in it.
    public static func build(_ documents: [(source: String, document: DirectoryDocument)]) -> (Directory, [DirectoryProblem]) {
        var builder = DirectoryBuilder()
        for (source, document) in documents { builder.add(document, from: source) }
        var problems = builder.problems
        for p in DirectoryValidator.problems(in: builder.directory) {
            problems.append(
                DirectoryProblem(
                    file: builder.origin[p.entry] ?? documents.first?.source ?? "directory", entry: p.entry, field: p.field, message: p.message))
        }
        return (builder.directory, problems)
    }

    public mutating func add(_ file: DirectoryDocument, from name: String) {
        func problem(_ entry: String, _ field: String, _ message: String) {
            problems.append(DirectoryProblem(file: name, entry: entry, field: field, message: message))
        }
        func duration(_ text: String?, _ entry: String, _ field: String) -> DirectoryDuration? {
            guard let text else { return nil }
            guard let d = DirectoryDuration(text) else {
                problem(entry, field, "'\(text)' is not a duration (use 30s, 15m, 4h, 5d, 3wh or 1wd; at most 10 years)")
                return nil
            }
            return d
        }
        for o in file.organisations ?? [] {
            let entry = "organisation \(o.code)"
            guard let domain = OrganisationDomain(rawValue: o.domain) else {
                problem(entry, "domain", "must be one of " + OrganisationDomain.allCases.map(\.rawValue).joined(separator: ", "))
                continue
            }
            directory.organisations.append(
                Organisation(
                    code: ODSCode(o.code), name: o.name, domain: domain, authority: o.authority,
                    duty: DutyContacts(mailbox: o.duty_mailbox.map(MailboxID.init), webhook: o.duty_webhook),
                    safeguardingLead: o.safeguarding_lead.map(MailboxID.init), publicAuthority: o.public_authority))
            origin["organisation \(ODSCode(o.code))"] = name
        }
        for m in file.mailboxes ?? [] {
            directory.mailboxes.append(
                Mailbox(
                    id: MailboxID(m.id), organisation: ODSCode(m.organisation), name: m.name,
                    password: m.password.map(SecretReference.init), active: m.active ?? true,
                    certificateNames: m.certificates ?? []))
            origin["mailbox \(MailboxID(m.id))"] = name
        }
        for a in file.areas ?? [] {
            directory.areas.append(Area(code: a.code, name: a.name, postcodeDistricts: (a.postcode_districts ?? []).map { $0.uppercased() }))
            origin["area \(a.code.uppercased())"] = name
        }
        for s in file.services ?? [] {
            directory.services.append(
                DirectoryService(
                    id: s.id, organisation: ODSCode(s.organisation), mailbox: MailboxID(s.mailbox),
                    workflows: s.workflows.map(WorkflowID.init), areas: s.areas ?? [],
                    duty: DutyContacts(mailbox: s.duty_mailbox.map(MailboxID.init), webhook: s.duty_webhook)))
            origin["service \(s.id)"] = name
        }
        for w in file.workflows ?? [] {
            let entry = "workflow \(w.id)"
            let responsibility = w.responsibility.map { ResponsibilityRequirement(rawValue: $0) } ?? ResponsibilityRequirement.none
            if responsibility == nil { problem(entry, "responsibility", "must be required or none") }
            let acks = w.acks.map { AckStyle(rawValue: $0) }
            if acks == .some(nil) { problem(entry, "acks", "must be handover or fhir-itk3") }
            directory.workflows.append(
                Workflow(
                    id: WorkflowID(w.id), senders: w.senders ?? [], receivers: w.receivers ?? [],
                    expiry: duration(w.expiry, entry, "expiry"),
                    responsibility: responsibility ?? .none, escalation: w.escalation,
                    safeguarding: w.safeguarding ?? false,
                    crossing: w.crossing.map { crossingPolicy($0, entry: entry, problem: problem) } ?? .standard,
                    acks: acks ?? nil))
            origin["workflow \(WorkflowID(w.id))"] = name
        }
        for p in file.escalation_policies ?? [] {
            let entry = "escalation policy \(p.id)"
            var stages: [EscalationStage] = []
            for (i, s) in p.stages.enumerated() {
                let field = "stages[\(i)]"
                guard let after = duration(s.after, entry, field + ".after") else { continue }
                guard let when = EscalationCondition(rawValue: s.when) else {
                    problem(entry, field + ".when", "must be not-downloaded, not-acknowledged, not-accepted or no-outcome")
                    continue
                }
                var targets: [NotifyTarget] = []
                for target in s.notify {
                    switch (target.count, target["mailbox"], target["webhook"], target["sender"], target["receiver_duty"], target["sender_lead"]) {
                    case (1, .string(let m)?, _, _, _, _): targets.append(.mailbox(MailboxID(m)))
                    case (1, _, .string(let w)?, _, _, _): targets.append(.webhook(w))
                    case (1, _, _, .bool(true)?, _, _): targets.append(.sender)
                    case (1, _, _, _, .bool(true)?, _): targets.append(.receiverDuty)
                    case (1, _, _, _, _, .bool(true)?): targets.append(.senderLead)
                    default:
                        if target.count == 1, case .string(let address)? = target["email"] {
                            if EmailAddress.isValid(address) {
                                targets.append(.email(address))
                            } else {
                                problem(
                                    entry, field + ".notify",
                                    "\(String(reflecting: String(address.prefix(80)))) is not an email address (name@example.org)")
                            }
                        } else {
                            problem(
                                entry, field + ".notify",
                                "each target is {mailbox: ID}, {webhook: ID}, {email: ADDRESS}, {sender: true}, "
                                    + "{receiver_duty: true} or {sender_lead: true}")
                        }
                    }
                }
                stages.append(EscalationStage(after: after, when: when, notify: targets, repeatEvery: duration(s.repeat, entry, field + ".repeat")))
            }
            directory.escalationPolicies.append(
                EscalationPolicy(
                    id: p.id, calendar: p.calendar, stages: stages,
                    acknowledgementLapse: duration(p.acknowledgement_lapses_after, entry, "acknowledgement_lapses_after")))
            origin[entry] = name
        }
        for c in file.calendars ?? [] {
            let entry = "calendar \(c.id)"
            let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
            let hours = c.working_hours.split(separator: "-").map { $0.split(separator: ":").compactMap { Int($0) } }
            guard hours.count == 2, hours.allSatisfy({ $0.count == 2 && $0[0] < 24 && $0[1] < 60 }) else {
                problem(entry, "working_hours", "must look like 09:00-17:00")
                continue
            }
            let workingDays = Set(c.working_days.compactMap { days.firstIndex(of: $0.lowercased()) })
            if workingDays.count != c.working_days.count { problem(entry, "working_days", "days are mon, tue, wed, thu, fri, sat, sun") }
            directory.calendars.append(
                WorkingCalendar(
                    id: c.id, timezone: c.timezone, workingStart: hours[0][0] * 60 + hours[0][1],
                    workingEnd: hours[1][0] * 60 + hours[1][1], workingDays: workingDays,
                    holidays: Set(c.holidays ?? [])))
            origin[entry] = name
        }
        for c in file.lawful_basis_codes ?? [] {
            let entry = "lawful basis code \(c.id)"
            guard LawfulBasisVocabulary.listNames.contains(c.list) else {
                problem(entry, "list", "must be one of " + LawfulBasisVocabulary.listNames.joined(separator: ", "))
                continue
            }
            guard !c.id.isEmpty, c.id.count <= 40, c.id.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }) else {
                problem(entry, "id", "a code is 1 to 40 printable ASCII characters without spaces")
                continue
            }
            directory.lawfulBasisCodes.append(LawfulBasisCode(code: c.id, list: c.list, name: c.name))
            origin[entry] = name
        }
        for w in file.webhooks ?? [] {
            let format = w.format.map { WebhookFormat(rawValue: $0) } ?? .handover
            if format == nil {
                problem(
                    "webhook \(w.id)", "format",
                    "must be one of " + WebhookFormat.allCases.map(\.rawValue).joined(separator: ", ")
                        + " (it is '\(w.format?.prefix(40) ?? "")')")
            }
            directory.webhooks.append(
                Webhook(
                    id: w.id, url: w.url, secret: w.secret.map(SecretReference.init), allowPrivate: w.allow_private ?? false,
                    format: format ?? .handover))
            origin["webhook \(w.id)"] = name
        }
    }
}

/// A problem in the directory files, named by file, entry and field so an admin can find it.
public struct DirectoryProblem: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var entry: String
    public var field: String
    public var message: String

    public init(file: String, entry: String, field: String, message: String) {
        (self.file, self.entry, self.field, self.message) = (file, entry, field, message)
    }

    public var description: String { "\(file): \(entry)\(field.isEmpty ? "" : " field '\(field)'"): \(message)" }
}

extension DirectoryBuilder {
    /// A workflow's `crossing:` block; each bad value is a problem naming its field.
    func crossingPolicy(_ entry: DirectoryDocument.CrossingEntry, entry name: String, problem: (String, String, String) -> Void) -> CrossingPolicy {
        func strength(_ text: String?, _ field: String) -> CrossingStrength {
            guard let text else { return .recorded }
            guard let s = CrossingStrength(rawValue: text) else {
                problem(name, "crossing." + field, "must be one of " + CrossingStrength.allCases.map(\.rawValue).joined(separator: ", "))
                return .recorded
            }
            return s
        }
        var policy = CrossingPolicy(
            identity: strength(entry.identity, "identity"), lawfulBasis: strength(entry.lawful_basis, "lawful_basis"),
            intent: strength(entry.intent, "intent"), provenance: strength(entry.provenance, "provenance"))
        switch entry.receiver_basis {
        case nil, "recorded", "off": break
        case "required": policy.receiverBasisRequired = true
        default: problem(name, "crossing.receiver_basis", "must be required or recorded")
        }
        switch entry.test_nhs_numbers {
        case nil, "refused": break
        case "allowed": policy.testNHSNumbersAllowed = true
        default: problem(name, "crossing.test_nhs_numbers", "must be refused or allowed")
        }
        if let intent = entry.defaults?.intent {
            if let action = intent.action, !ClinicalIntent.actions.contains(action) {
                problem(name, "crossing.defaults.intent.action", "must be one of " + ClinicalIntent.actions.joined(separator: ", "))
            }
            if let priority = intent.priority, !ClinicalIntent.priorities.contains(priority) {
                problem(name, "crossing.defaults.intent.priority", "must be one of " + ClinicalIntent.priorities.joined(separator: ", "))
            }
            policy.defaultIntent = intent
        }
        return policy
    }
}
