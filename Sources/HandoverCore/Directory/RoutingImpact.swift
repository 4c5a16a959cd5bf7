/// What an edit does to live routing: every address people can write (mailbox ids, organisation
/// codes, `AREA:` codes, `POSTCODE:` districts) resolved on every workflow before and after, and the
/// ones whose destination changes listed. An edit that makes a routable address unroutable or
/// ambiguous needs an explicit confirmation, and the audit records that it was given.
public struct RoutingImpact: Hashable, Sendable {
    public enum Effect: String, Hashable, Sendable {
        /// Now goes to another mailbox.
        case moved
        /// Was refused, now routes.
        case opened
        /// Was routable, now refused (code 12, 16 or 17).
        case unroutable
        /// Was routable, now matches several mailboxes (EPL-150).
        case ambiguous
    }

    public struct Change: Hashable, Sendable {
        public var workflow: String
        public var address: String
        public var before: String
        public var after: String
        public var effect: Effect
    }

    public var changes: [Change]
    /// False when the directories were too large to compare address by address (then nothing is listed).
    public var complete: Bool

    public init(changes: [Change], complete: Bool) { (self.changes, self.complete) = (changes, complete) }

    /// The changes that stop an address routing.
    public var breaking: [Change] { changes.filter { $0.effect == .unroutable || $0.effect == .ambiguous } }

    /// Whether the edit breaks addresses that route today, and so needs confirming.
    public var needsConfirmation: Bool { !breaking.isEmpty }

    /// Resolutions compared at most; past it the impact is reported as not computed.
    public static let maximumComparisons = 200_000

    public static func between(_ old: Directory, _ new: Directory) -> RoutingImpact {
        let before = DirectoryIndex(directory: old, version: 0, passwords: [:])
        let after = DirectoryIndex(directory: new, version: 0, passwords: [:])
        var addresses = Set(old.mailboxes.map(\.id.rawValue) + new.mailboxes.map(\.id.rawValue))
        addresses.formUnion(old.organisations.map(\.code.rawValue) + new.organisations.map(\.code.rawValue))
        addresses.formUnion((old.areas + new.areas).map { "AREA:" + $0.code.uppercased() })
        addresses.formUnion((old.areas + new.areas).flatMap(\.postcodeDistricts).map { "POSTCODE:" + $0.uppercased() })
        let workflows = Set(old.workflows.map(\.id) + new.workflows.map(\.id))
        guard addresses.count * workflows.count <= maximumComparisons else { return RoutingImpact(changes: [], complete: false) }
        var changes: [Change] = []
        for workflow in workflows.sorted(by: { $0.rawValue < $1.rawValue }) {
            // Routing is judged for a sender that may send the workflow (permissions are not routing).
            guard let sender = sender(for: workflow, in: before) ?? sender(for: workflow, in: after) else { continue }
            for address in addresses.sorted() {
                let was = describe(before.resolve(to: address, workflowID: workflow, sender: sender, allowUnknownWorkflows: false))
                let now = describe(after.resolve(to: address, workflowID: workflow, sender: sender, allowUnknownWorkflows: false))
                guard was != now else { continue }
                let effect: Effect
                switch (was.routed, now.routed) {
                case (true, true): effect = .moved
                case (false, true): effect = .opened
                case (true, false): effect = now.text == "refused EPL-150" ? .ambiguous : .unroutable
                case (false, false): continue  // refused either way, for another reason: not a routing change
                }
                changes.append(Change(workflow: workflow.rawValue, address: address, before: was.text, after: now.text, effect: effect))
            }
        }
        return RoutingImpact(changes: changes, complete: true)
    }

    static func sender(for workflow: WorkflowID, in index: DirectoryIndex) -> MailboxID? {
        guard let flow = index.workflows[workflow] else { return nil }
        return index.directory.mailboxes.first { index.maySend($0, workflow: flow) }?.id
    }

    static func describe(_ result: Result<RouteDecision, MeshError>) -> (routed: Bool, text: String) {
        switch result {
        case .success(let decision): (true, decision.recipient.rawValue)
        case .failure(let error): (false, "refused " + error.code)
        }
    }

    /// One line per change, for CLI output and problem details.
    public var lines: [String] {
        changes.map { "\($0.effect.rawValue): \($0.workflow) to \($0.address): \($0.before) → \($0.after)" }
    }
}
