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
            if entry == "*" {
                directory.mailboxes.forEach(add)
                continue
            }
            if let m = mailboxes[MailboxID(entry)] {
                add(m)
                continue
            }
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
