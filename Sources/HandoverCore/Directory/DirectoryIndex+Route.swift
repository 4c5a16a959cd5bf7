/// The outcome of addressing a send (contract §3): a recipient and the route taken, or a MESH error.
public struct RouteDecision: Hashable, Sendable {
    public var recipient: MailboxID
    public var route: RouteTaken
    public var workflow: Workflow?
}

/// How an address was resolved, rule by rule, for `GET /admin/route` and `handover routes explain`.
public struct RouteExplanation: Sendable {
    public var outcome: Result<RouteDecision, MeshError>
    /// Every rule consulted, in order, in plain words.
    public var steps: [String]
}

/// `POSTCODE:` addresses as people write them: a district (`NT1`) or a full postcode (`nt1 4ab`,
/// `NT14AB`), in any case and spacing; a full postcode resolves through its district.
public enum PostcodeAddress {
    /// The postcode district (outward code) of `text`, uppercase.
    public static func district(_ text: String) -> String {
        let compact = text.uppercased().filter { !$0.isWhitespace }
        // An inward code is a digit and two letters; a full postcode is 5 to 7 characters.
        let chars = Array(compact)
        if (5...7).contains(chars.count), chars[chars.count - 3].isASCII, chars[chars.count - 3].isNumber,
            chars.suffix(2).allSatisfy({ $0.isASCII && $0.isLetter })
        {
            return String(chars.dropLast(3))
        }
        return compact
    }
}

extension DirectoryIndex {
    /// Resolves `Mex-To` for `sender` on `workflowID`, in the contract's order of precedence: a mailbox
    /// id, an organisation code, then `AREA:`/`POSTCODE:`. Permissions are enforced (16: sender not
    /// allowed; 17: recipient not registered). `allowUnknownWorkflows` is sandbox mode. A refusal's
    /// message names the rule that refused it, after MESH's own text.
    public func resolve(to: String, workflowID: WorkflowID, sender: MailboxID, allowUnknownWorkflows: Bool) -> Result<RouteDecision, MeshError> {
        var trace = RouteTrace(recording: false)
        return resolve(to: to, workflowID: workflowID, sender: sender, allowUnknownWorkflows: allowUnknownWorkflows, trace: &trace)
    }

    /// The same, with every rule consulted written down.
    public func explain(to: String, workflowID: WorkflowID, sender: MailboxID, allowUnknownWorkflows: Bool = false) -> RouteExplanation {
        var trace = RouteTrace(recording: true)
        let outcome = resolve(to: to, workflowID: workflowID, sender: sender, allowUnknownWorkflows: allowUnknownWorkflows, trace: &trace)
        return RouteExplanation(outcome: outcome, steps: trace.steps)
    }

    func resolve(
        to: String, workflowID: WorkflowID, sender: MailboxID, allowUnknownWorkflows: Bool,
        trace: inout RouteTrace
    ) -> Result<RouteDecision, MeshError> {
        func refuse(_ error: MeshError, _ reason: String) -> Result<RouteDecision, MeshError> {
            trace.note("refused: \(reason)")
            return .failure(error.because(reason))
        }
        let workflow = workflows[workflowID]
        if workflow == nil && !allowUnknownWorkflows {
            return refuse(.workflowNotRegistered, "workflow \(workflowID) is not in directory version \(version)")
        }
        trace.note("workflow \(workflowID): \(workflow == nil ? "unknown (sandbox mode accepts it)" : "found in directory version \(version)")")
        if let workflow, let senderBox = mailboxes[sender] {
            guard maySend(senderBox, workflow: workflow) else {
                return refuse(.senderNotAllowed, "\(sender) (organisation \(senderBox.organisation)) is not among the workflow's senders")
            }
            trace.note("sender \(sender) may send \(workflowID)")
        }
        func permitted(_ m: Mailbox) -> Bool { workflow.map { mayReceive(m, workflow: $0) } ?? true }

        if let target = mailboxes[MailboxID(to)] {
            trace.note("\(to) is a mailbox id")
            guard target.active else { return refuse(.unregisteredRecipient, "mailbox \(target.id) is inactive") }
            guard permitted(target) else { return refuse(.workflowNotRegistered, "mailbox \(target.id) is not among the workflow's receivers") }
            return .success(
                RouteDecision(
                    recipient: target.id, route: RouteTaken(addressedBy: .mailbox, address: to, directoryVersion: version), workflow: workflow))
        }

        let upper = to.uppercased()
        let candidates: [(DirectoryService, RouteTaken.AddressedBy)]
        let address: String
        if upper.hasPrefix("AREA:") {
            let code = String(upper.dropFirst(5)).trimmingWhitespace()
            address = "AREA:" + code
            candidates = directory.services.filter { $0.workflows.contains(workflowID) && $0.areas.contains(code) }.map { ($0, .area) }
            trace.note("area \(code): services for \(workflowID) covering it: \(names(candidates))")
            if candidates.isEmpty { return refuse(.unregisteredRecipient, "no service for \(workflowID) covers area \(code)") }
        } else if upper.hasPrefix("POSTCODE:") {
            let written = String(to.dropFirst(9))
            let district = PostcodeAddress.district(written)
            address = "POSTCODE:" + district
            let areas = areasByPostcodeDistrict[district] ?? []
            trace.note(
                "postcode \(written.trimmingWhitespace()): district \(district), in area(s) \(areas.isEmpty ? "none" : areas.joined(separator: ", "))"
            )
            if areas.isEmpty { return refuse(.unregisteredRecipient, "postcode district \(district) is in no area of the directory") }
            let set = Set(areas)
            candidates = directory.services.filter { $0.workflows.contains(workflowID) && !set.isDisjoint(with: $0.areas) }.map { ($0, .postcode) }
            trace.note("services for \(workflowID) covering those areas: \(names(candidates))")
            if candidates.isEmpty { return refuse(.unregisteredRecipient, "no service for \(workflowID) covers postcode district \(district)") }
        } else if organisations[ODSCode(to)] != nil {
            let org = ODSCode(to)
            address = upper
            let services = directory.services.filter { $0.organisation == org && $0.workflows.contains(workflowID) }
            trace.note("\(to) is an organisation code; its services for \(workflowID): \(names(services.map { ($0, .organisation) }))")
            if services.isEmpty {
                // No service declared: the organisation's single mailbox that may receive the workflow.
                let boxes = directory.mailboxes.filter { $0.organisation == org && $0.active && permitted($0) }
                trace.note("no service: its active mailboxes that receive \(workflowID): \(boxes.map(\.id.rawValue).joined(separator: ", "))")
                if boxes.count == 1 {
                    return .success(
                        RouteDecision(
                            recipient: boxes[0].id, route: RouteTaken(addressedBy: .organisation, address: org.rawValue, directoryVersion: version),
                            workflow: workflow))
                }
                return boxes.isEmpty
                    ? refuse(.unregisteredRecipient, "organisation \(org) has no service and no mailbox that receives \(workflowID)")
                    : refuse(
                        .multipleMailboxesMatched,
                        "organisation \(org) has \(boxes.count) mailboxes that receive \(workflowID) and no service to choose one")
            }
            candidates = services.map { ($0, .organisation) }
        } else {
            return refuse(
                .unregisteredRecipient, "\(to.prefix(60)) is not a mailbox id, organisation code, AREA: or POSTCODE: address in the directory")
        }
        let usable = candidates.filter { mailboxes[$0.0.mailbox].map { $0.active && permitted($0) } ?? false }
        guard let first = usable.first else {
            return refuse(.unregisteredRecipient, "the matching services' mailboxes are inactive or do not receive \(workflowID)")
        }
        guard Set(usable.map { $0.0.mailbox }).count == 1 else {
            return refuse(.multipleMailboxesMatched, "services \(names(usable)) all match; the directory must make one of them the route")
        }
        trace.note("route: service \(first.0.id), mailbox \(first.0.mailbox)")
        return .success(
            RouteDecision(
                recipient: first.0.mailbox,
                route: RouteTaken(addressedBy: first.1, address: address, service: first.0.id, directoryVersion: version), workflow: workflow))
    }

    private func names(_ candidates: [(DirectoryService, RouteTaken.AddressedBy)]) -> String {
        candidates.isEmpty ? "none" : candidates.map { "\($0.0.id) (\($0.0.mailbox))" }.joined(separator: ", ")
    }
}

/// The steps of a resolution, written only when explaining (sends pay nothing for it).
struct RouteTrace {
    let recording: Bool
    var steps: [String] = []

    mutating func note(_ step: @autoclosure () -> String) {
        if recording { steps.append(step()) }
    }
}
