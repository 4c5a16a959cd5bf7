/// A directory version with the lookups the broker needs on every request, built once per version.
public struct DirectoryIndex: Sendable {
    public let directory: Directory
    public let version: Int64
    public let mailboxes: [MailboxID: Mailbox]
    public let organisations: [ODSCode: Organisation]
    public let workflows: [WorkflowID: Workflow]
    public let areasByPostcodeDistrict: [String: [String]]
    /// Mailbox passwords resolved from their references (environment or literal).
    private let passwords: [MailboxID: String]

    public init(directory: Directory, version: Int64, passwords: [MailboxID: String]) {
        self.directory = directory
        self.version = version
        self.passwords = passwords
        mailboxes = Dictionary(directory.mailboxes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        organisations = Dictionary(directory.organisations.map { ($0.code, $0) }, uniquingKeysWith: { a, _ in a })
        workflows = Dictionary(directory.workflows.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var byDistrict: [String: [String]] = [:]
        for area in directory.areas { for d in area.postcodeDistricts { byDistrict[d, default: []].append(area.code) } }
        areasByPostcodeDistrict = byDistrict
    }

    /// What the token verifier needs: the password (nil if unset, so nobody can log in) and the active flag.
    public func credentials(for id: MailboxID) -> (password: String?, active: Bool)? {
        guard let mailbox = mailboxes[id] else { return nil }
        return (passwords[id], mailbox.active)
    }

    /// Whether `party` (a mailbox) is named by a sender or receiver list of organisation codes and mailbox ids.
    func listNames(_ list: [String], _ party: Mailbox) -> Bool {
        list.contains("*") || list.contains(party.id.rawValue) || list.contains(party.organisation.rawValue)
    }

    public func mayReceive(_ mailbox: Mailbox, workflow: Workflow) -> Bool { listNames(workflow.receivers, mailbox) }
    public func maySend(_ mailbox: Mailbox, workflow: Workflow) -> Bool { listNames(workflow.senders, mailbox) }

    /// The mailboxes that receive `workflow` (the receivers of endpoint lookup and workflow search):
    /// named mailboxes, and for a named organisation the mailboxes of its services for that workflow,
    /// or all its mailboxes if it has no such service.
    public func receivingMailboxes(of workflowID: WorkflowID) -> [Mailbox] {
        guard let workflow = workflows[workflowID] else { return [] }
        var result: [Mailbox] = []
        var seen: Set<MailboxID> = []
        func add(_ m: Mailbox) { if m.active, seen.insert(m.id).inserted { result.append(m) } }
        for entry in workflow.receivers {
            if entry == "*" { directory.mailboxes.forEach(add); continue }
            if let m = mailboxes[MailboxID(entry)] { add(m); continue }
            let org = ODSCode(entry)
            let serviceBoxes = directory.services.filter { $0.organisation == org && $0.workflows.contains(workflowID) }
                .compactMap { mailboxes[$0.mailbox] }
            if serviceBoxes.isEmpty {
                directory.mailboxes.filter { $0.organisation == org }.forEach(add)
            } else {
                serviceBoxes.forEach(add)
            }
        }
        return result
    }
}

/// The outcome of addressing a send (contract §3): a recipient and the route taken, or a MESH error.
public struct RouteDecision: Hashable, Sendable {
    public var recipient: MailboxID
    public var route: RouteTaken
    public var workflow: Workflow?
}

extension DirectoryIndex {
    /// Resolves `Mex-To` for `sender` on `workflowID`, in the contract's order of precedence: a mailbox
    /// id, an organisation code, then `AREA:`/`POSTCODE:`. Permissions are enforced (16: sender not
    /// allowed; 17: recipient not registered). `allowUnknownWorkflows` is sandbox mode.
    public func resolve(to: String, workflowID: WorkflowID, sender: MailboxID, allowUnknownWorkflows: Bool) -> Result<RouteDecision, MeshError> {
        let workflow = workflows[workflowID]
        if workflow == nil && !allowUnknownWorkflows { return .failure(.workflowNotRegistered) }
        if let workflow, let senderBox = mailboxes[sender], !maySend(senderBox, workflow: workflow) {
            return .failure(.senderNotAllowed)
        }
        func permitted(_ m: Mailbox) -> Bool { workflow.map { mayReceive(m, workflow: $0) } ?? true }

        if let target = mailboxes[MailboxID(to)] {
            guard target.active else { return .failure(.unregisteredRecipient) }
            guard permitted(target) else { return .failure(.workflowNotRegistered) }
            return .success(RouteDecision(recipient: target.id, route: RouteTaken(addressedBy: .mailbox, address: to, directoryVersion: version), workflow: workflow))
        }

        let upper = to.uppercased()
        let candidates: [(DirectoryService, RouteTaken.AddressedBy)]
        if upper.hasPrefix("AREA:") {
            let code = String(upper.dropFirst(5))
            candidates = directory.services.filter { $0.workflows.contains(workflowID) && $0.areas.contains(code) }.map { ($0, .area) }
        } else if upper.hasPrefix("POSTCODE:") {
            let district = String(upper.dropFirst(9)).trimmingWhitespace()
            let areas = Set(areasByPostcodeDistrict[district] ?? [])
            candidates = directory.services.filter { $0.workflows.contains(workflowID) && !areas.isDisjoint(with: $0.areas) }.map { ($0, .postcode) }
        } else if organisations[ODSCode(to)] != nil {
            let org = ODSCode(to)
            let services = directory.services.filter { $0.organisation == org && $0.workflows.contains(workflowID) }
            if services.isEmpty {
                // No service declared: the organisation's single mailbox that may receive the workflow.
                let boxes = directory.mailboxes.filter { $0.organisation == org && $0.active && permitted($0) }
                if boxes.count == 1 {
                    return .success(RouteDecision(recipient: boxes[0].id, route: RouteTaken(addressedBy: .organisation, address: org.rawValue, directoryVersion: version), workflow: workflow))
                }
                return .failure(boxes.isEmpty ? .unregisteredRecipient : .multipleMailboxesMatched)
            }
            candidates = services.map { ($0, .organisation) }
        } else {
            return .failure(.unregisteredRecipient)
        }
        let usable = candidates.filter { mailboxes[$0.0.mailbox].map { $0.active && permitted($0) } ?? false }
        guard let first = usable.first else { return .failure(.unregisteredRecipient) }
        guard Set(usable.map { $0.0.mailbox }).count == 1 else { return .failure(.multipleMailboxesMatched) }
        return .success(RouteDecision(
            recipient: first.0.mailbox,
            route: RouteTaken(addressedBy: first.1, address: upper, service: first.0.id, directoryVersion: version), workflow: workflow))
    }
}
