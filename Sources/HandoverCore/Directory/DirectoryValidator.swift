/// Checks a whole directory for broken references and duplicates, and reports every problem at
/// once (an invalid directory is rejected whole; the running one is left untouched).
public enum DirectoryValidator {
    public struct Problem: Hashable, Sendable, CustomStringConvertible {
        public var entry: String
        public var field: String
        public var message: String
        public var description: String { "\(entry) field '\(field)': \(message)" }
    }

    public static func problems(in d: Directory) -> [Problem] {
        var found: [Problem] = []
        func add(_ entry: String, _ field: String, _ message: String) { found.append(Problem(entry: entry, field: field, message: message)) }
        func duplicates<T: Hashable>(_ items: [T], _ kind: String, _ field: String) {
            var seen: Set<T> = []
            for item in items where !seen.insert(item).inserted { add("\(kind) \(item)", field, "is defined more than once") }
        }
        duplicates(d.organisations.map(\.code), "organisation", "code")
        duplicates(d.mailboxes.map(\.id), "mailbox", "id")
        duplicates(d.areas.map(\.code), "area", "code")
        duplicates(d.services.map(\.id), "service", "id")
        duplicates(d.workflows.map(\.id), "workflow", "id")
        duplicates(d.escalationPolicies.map(\.id), "escalation policy", "id")
        duplicates(d.calendars.map(\.id), "calendar", "id")
        duplicates(d.webhooks.map(\.id), "webhook", "id")
        duplicates(d.lawfulBasisCodes.map(\.code), "lawful basis code", "id")

        let orgs = Set(d.organisations.map(\.code))
        let boxes = Dictionary(d.mailboxes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let areas = Set(d.areas.map(\.code))
        let workflows = Set(d.workflows.map(\.id))
        let policies = Set(d.escalationPolicies.map(\.id))
        let calendars = Set(d.calendars.map(\.id))
        let webhooks = Set(d.webhooks.map(\.id))

        for m in d.mailboxes {
            if !orgs.contains(m.organisation) { add("mailbox \(m.id)", "organisation", "unknown organisation \(m.organisation)") }
            if m.id.rawValue.isEmpty || m.id.rawValue.count > 100 || m.id.rawValue.contains(where: { $0 == ":" || $0 == "/" || $0 == " " }) {
                add("mailbox \(m.id)", "id", "must be 1-100 characters without ':', '/' or spaces")
            }
        }
        func checkDuty(_ duty: DutyContacts, _ entry: String) {
            if let m = duty.mailbox, boxes[m] == nil { add(entry, "duty_mailbox", "unknown mailbox \(m)") }
            if let h = duty.webhook, !webhooks.contains(h) { add(entry, "duty_webhook", "unknown webhook \(h)") }
        }
        for o in d.organisations {
            checkDuty(o.duty, "organisation \(o.code)")
            if let lead = o.safeguardingLead, boxes[lead] == nil { add("organisation \(o.code)", "safeguarding_lead", "unknown mailbox \(lead)") }
        }
        for s in d.services {
            let entry = "service \(s.id)"
            checkDuty(s.duty, entry)
            if !orgs.contains(s.organisation) { add(entry, "organisation", "unknown organisation \(s.organisation)") }
            if let box = boxes[s.mailbox] {
                if box.organisation != s.organisation {
                    add(entry, "mailbox", "mailbox \(s.mailbox) belongs to \(box.organisation), not \(s.organisation)")
                }
            } else {
                add(entry, "mailbox", "unknown mailbox \(s.mailbox)")
            }
            for w in s.workflows where !workflows.contains(w) { add(entry, "workflows", "unknown workflow \(w)") }
            for a in s.areas where !areas.contains(a) { add(entry, "areas", "unknown area \(a)") }
        }
        for w in d.workflows {
            let entry = "workflow \(w.id)"
            for (field, list) in [("senders", w.senders), ("receivers", w.receivers)] {
                for name in list where name != "*" && !orgs.contains(ODSCode(name)) && boxes[MailboxID(name)] == nil {
                    add(entry, field, "\(name) is neither an organisation code nor a mailbox id")
                }
            }
            if let p = w.escalation, !policies.contains(p) { add(entry, "escalation", "unknown escalation policy \(p)") }
            // A concern must never bounce for a field its sender could not fill in.
            if w.safeguarding {
                for (flow, strength) in w.crossing.strengths where strength == .required {
                    add(entry, "crossing.\(flow)", "a safeguarding workflow cannot require the sender's \(flow); use flagged")
                }
            }
        }
        for p in d.escalationPolicies {
            let entry = "escalation policy \(p.id)"
            if let c = p.calendar, !calendars.contains(c) { add(entry, "calendar", "unknown calendar \(c)") }
            let needsCalendar =
                p.stages.contains { $0.after.elapsedSeconds == nil || ($0.repeatEvery.map { $0.elapsedSeconds == nil } ?? false) }
                || p.acknowledgementLapse.map { $0.elapsedSeconds == nil } ?? false
            if needsCalendar && p.calendar == nil { add(entry, "calendar", "working-time durations need a calendar") }
            for (i, stage) in p.stages.enumerated() {
                for target in stage.notify {
                    switch target {
                    case .mailbox(let m) where boxes[m] == nil: add(entry, "stages[\(i)].notify", "unknown mailbox \(m)")
                    case .webhook(let h) where !webhooks.contains(h): add(entry, "stages[\(i)].notify", "unknown webhook \(h)")
                    default: break
                    }
                }
            }
        }
        // Areas and districts as the ONS and Royal Mail write them; a district in one area only, or
        // live POSTCODE: addresses there would become ambiguous (EPL-150).
        var districtArea: [String: String] = [:]
        for a in d.areas {
            if !DirectoryPatterns.isGSSCode(a.code) {
                add("area \(a.code)", "code", "must be an ONS GSS code: a letter E, W, S or N and eight digits (E08000099)")
            }
            for district in a.postcodeDistricts {
                if !DirectoryPatterns.isPostcodeDistrict(district) {
                    add(
                        "area \(a.code)", "postcode_districts",
                        "'\(district.prefix(20))' is not a postcode district "
                            + "(one or two letters, a digit, then an optional letter or digit: RV1, NT12, EC1A)"
                    )
                } else if let other = districtArea[district], other != a.code {
                    add("area \(a.code)", "postcode_districts", "district \(district) is already in area \(other); a district belongs to one area")
                } else {
                    districtArea[district] = a.code
                }
            }
        }
        // A service can only receive what its organisation may receive: otherwise every send to it is refused (code 12).
        let workflowByID = Dictionary(d.workflows.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for s in d.services {
            for w in s.workflows {
                guard let workflow = workflowByID[w], let box = boxes[s.mailbox] else { continue }
                let receivers = Set(workflow.receivers)
                if !receivers.contains("*") && !receivers.contains(s.organisation.rawValue) && !receivers.contains(box.id.rawValue) {
                    add(
                        "service \(s.id)", "workflows",
                        "workflow \(w)'s receivers do not include organisation \(s.organisation) or mailbox \(box.id); add one of them there")
                }
            }
        }
        // Business replies travel back on <WORKFLOW>_ACK: whoever receives a workflow must be able to
        // send its _ACK, and whoever sends it to receive the _ACK, or acceptances cannot go back.
        func covers(_ list: [String], _ name: String) -> Bool {
            list.contains("*") || list.contains(name) || boxes[MailboxID(name)].map { list.contains($0.organisation.rawValue) } ?? false
        }
        for w in d.workflows {
            guard let ack = workflowByID[WorkflowID(w.id.rawValue + "_ACK")] else { continue }
            for name in w.receivers where name != "*" && !covers(ack.senders, name) {
                add("workflow \(ack.id)", "senders", "\(name) receives \(w.id) but may not send its replies on \(ack.id); add it here")
            }
            for name in w.senders where name != "*" && !covers(ack.receivers, name) {
                add("workflow \(ack.id)", "receivers", "\(name) sends \(w.id) but may not receive its replies on \(ack.id); add it here")
            }
        }
        for h in d.webhooks {
            let entry = "webhook \(h.id)"
            if h.id.isEmpty || h.id.count > 64 || !h.id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) {
                add(entry, "id", "must be 1 to 64 letters, digits, '-', '_' or '.'")
            }
            let lowered = h.url.lowercased()
            // A chat tool's URL is its credential: it may come from the environment, and is checked when sent.
            if case .environment = SecretReference(h.url) {
            } else if lowered.hasPrefix("http://") {
                if !h.allowPrivate {
                    add(entry, "url", "must be https:// (plain http:// only with allow_private: true, for a receiver on your own network)")
                }
            } else if !lowered.hasPrefix("https://") || h.url.count > 2048 || h.url.contains(where: { $0.isWhitespace }) {
                add(entry, "url", "must be an https:// URL, or ${VARIABLE} when the URL is itself the credential")
            }
            if h.secret == nil && h.format.needsSecret {
                add(
                    entry, "secret",
                    h.format == .pagerDuty
                        ? "is required: the PagerDuty integration's routing key (write ${VARIABLE})"
                        : "is required: every webhook POST is signed (write ${VARIABLE})")
            }
        }
        // Two services covering one area for one workflow would make AREA:/POSTCODE: routing ambiguous.
        var coverage: [String: String] = [:]
        for s in d.services {
            for w in s.workflows {
                for a in s.areas {
                    let key = "\(w)|\(a)"
                    if let other = coverage[key], other != s.id {
                        add("service \(s.id)", "areas", "area \(a) for workflow \(w) is already covered by service \(other)")
                    } else {
                        coverage[key] = s.id
                    }
                }
            }
        }
        return found
    }

    /// Entries nothing uses: not errors (an admin may be preparing them), but worth a look, since an
    /// unused escalation policy often means a workflow's `escalation:` was mistyped or dropped.
    public static func warnings(in d: Directory) -> [Problem] {
        let usedPolicies = Set(d.workflows.compactMap(\.escalation))
        let usedCalendars = Set(d.escalationPolicies.compactMap(\.calendar))
        var usedWebhooks: Set<String> = []
        for p in d.escalationPolicies {
            for stage in p.stages {
                for case .webhook(let id) in stage.notify { usedWebhooks.insert(id) }
            }
        }
        for duty in d.organisations.map(\.duty) + d.services.map(\.duty) { if let id = duty.webhook { usedWebhooks.insert(id) } }
        var found: [Problem] = []
        for p in d.escalationPolicies where !usedPolicies.contains(p.id) {
            found.append(Problem(entry: "escalation policy \(p.id)", field: "id", message: "no workflow uses this escalation policy"))
        }
        for c in d.calendars where !usedCalendars.contains(c.id) {
            found.append(Problem(entry: "calendar \(c.id)", field: "id", message: "no escalation policy uses this calendar"))
        }
        for w in d.webhooks where !usedWebhooks.contains(w.id) {
            found.append(Problem(entry: "webhook \(w.id)", field: "id", message: "no escalation policy notifies this webhook"))
        }
        // A policy that tells the receiver's duty team, on a workflow whose receiving organisation has none.
        let policiesByID = Dictionary(d.escalationPolicies.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        for w in d.workflows {
            guard let expiry = w.expiry, expiry.elapsedSeconds == nil, w.escalation.flatMap({ policiesByID[$0] })?.calendar == nil else { continue }
            let days = (expiry.longestExpirySeconds + 86_399) / 86_400
            found.append(
                Problem(
                    entry: "workflow \(w.id)", field: "expiry",
                    message: "\(expiry) is working time, but the workflow has no escalation policy with a calendar to count it on: "
                        + "it is read as \(days) calendar days"))
        }
        for w in d.workflows {
            guard let policy = w.escalation.flatMap({ policiesByID[$0] }), policy.stages.contains(where: { $0.notify.contains(.receiverDuty) }) else {
                continue
            }
            let receivingServices = d.services.filter { $0.workflows.contains(w.id) }
            for service in receivingServices where service.duty.isEmpty {
                let organisation = d.organisations.first { $0.code == service.organisation }
                if organisation?.duty.isEmpty ?? true {
                    found.append(
                        Problem(
                            entry: "service \(service.id)", field: "duty_mailbox",
                            message:
                                "workflow \(w.id) alerts the receiver's duty team, "
                                + "but neither this service nor organisation \(service.organisation) declares one"
                        ))
                }
            }
        }
        return found
    }
}

/// The shapes of codes the directory holds.
public enum DirectoryPatterns {
    /// An ONS GSS code: E, W, S or N and eight digits.
    public static func isGSSCode(_ code: String) -> Bool {
        let chars = Array(code)
        return chars.count == 9 && "EWSN".contains(chars[0]) && chars.dropFirst().allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// A UK postcode district (outward code): one or two letters, a digit, an optional letter or digit.
    public static func isPostcodeDistrict(_ text: String) -> Bool {
        let chars = Array(text)
        let letters = chars.prefix { $0.isASCII && $0.isUppercase }
        guard (1...2).contains(letters.count), letters.count < chars.count else { return false }
        let rest = chars.dropFirst(letters.count)
        guard let digit = rest.first, digit.isASCII, digit.isNumber else { return false }
        let tail = rest.dropFirst()
        return tail.count <= 1 && tail.allSatisfy { $0.isASCII && ($0.isNumber || $0.isUppercase) }
    }
}
