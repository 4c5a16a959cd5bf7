/// A few weeks of plausible traffic over a directory's boundaries, for `handover demo seed`: some
/// boundaries well governed, some not, a few crossings recorded off-system, so a newcomer sees a
/// meaningful scorecard on first run. The same seed plans the same traffic. Pure: the command writes
/// the plan through the store. NHS numbers come from the 999 test range only, names are invented,
/// and payloads say they are demonstration data with no clinical detail.
public enum DemoTraffic {
    /// One planned crossing and what happens to it afterwards.
    public struct Crossing: Sendable {
        public var message: MessageRecord
        public var payload: String
        public var downloadedAt: Timestamp?
        public var acknowledgedAt: Timestamp?
        public var decision: Decision?
        public var outcomeAt: Timestamp?
        public var offSystem: Bool
    }

    public struct Decision: Sendable {
        public var accept: Bool
        public var at: Timestamp
        public var person: Person
        public var receiverBasis: LawfulBasis?
    }

    /// One boundary as traffic flows over it: a sending mailbox, the workflow, where the directory
    /// routes it, and how well it is governed (the share of crossings that carry each part and are
    /// accepted in time).
    public struct Boundary: Sendable {
        public var sender: MailboxID
        public var workflow: Workflow
        public var route: RouteDecision
        public var quality: Double
    }

    /// History older than this is planned as settled (acknowledged, no escalation left to run), so
    /// a broker started on the seeded store raises alerts only for the last days' open crossings.
    public static let liveSeconds: Int64 = 2 * 86_400
    static let qualities = [0.97, 0.9, 0.75, 0.55, 0.3]
    static let people = ["Sam Patel", "Grace Mensah", "Tom Kowalski", "Aisha Rahman", "Bethan Lloyd", "Chidi Okoro"]
    static let authors = ["Dr Ada Okafor", "Nurse Lena Fischer", "Dr Rory Byrne", "Ward manager Priya Nair"]

    /// Every (sending mailbox, workflow, receiving organisation) the directory routes, each workflow
    /// from each of its sending organisations to each of its receiving ones; replies (`_ACK`) and
    /// the broker's own workflows are left out.
    public static func boundaries(_ index: DirectoryIndex, seed: UInt64) -> [Boundary] {
        var rng = SplitMix64(seed: seed)
        let offset = Int(rng.next() % UInt64(qualities.count))
        var found: [Boundary] = []
        for workflow in index.workflows.values.sorted(by: { $0.id.rawValue < $1.id.rawValue })
        where !workflow.id.rawValue.hasSuffix("_ACK") && !workflow.id.rawValue.hasPrefix("HANDOVER") {
            for sender in workflow.senders.sorted() {
                let mailboxes = index.mailboxes.values.filter { $0.organisation.rawValue == sender || $0.id.rawValue == sender }
                    .map(\.id).sorted { $0.rawValue < $1.rawValue }
                for receiver in workflow.receivers.sorted() {
                    for mailbox in mailboxes {
                        guard
                            case .success(let route) = index.resolve(
                                to: receiver, workflowID: workflow.id, sender: mailbox, allowUnknownWorkflows: false)
                        else { continue }
                        found.append(
                            Boundary(
                                sender: mailbox, workflow: workflow, route: route,
                                quality: qualities[(found.count + offset) % qualities.count]))
                        break
                    }
                }
            }
        }
        return found
    }

    /// `days` of traffic ending at `until`, in time order.
    public static func plan(_ index: DirectoryIndex, days: Int, until: Timestamp, seed: UInt64) -> [Crossing] {
        var rng = SplitMix64(seed: seed)
        var planned: [Crossing] = []
        let firstDay = until.secondsSinceEpoch / 86_400 - Int64(days)
        for boundary in boundaries(index, seed: seed) {
            for day in firstDay...(firstDay + Int64(days)) {
                let weekday = (day + 3) % 7 < 5  // day 0, 1 January 1970, was a Thursday: (day + 3) % 7 counts from Monday
                for _ in 0..<Int(rng.next() % (weekday ? 4 : 2)) {
                    let created = Timestamp(secondsSinceEpoch: day * 86_400 + 8 * 3_600 + Int64(rng.next() % (9 * 3_600)))
                    guard created < until.adding(seconds: -3_600) else { continue }
                    if let c = crossing(boundary, index: index, created: created, until: until, rng: &rng) { planned.append(c) }
                }
            }
        }
        // Ids in the real MESH shape and in time order, as the broker would have issued them.
        let ids = MessageIDGenerator()
        planned.sort { $0.message.createdAt < $1.message.createdAt }
        for i in planned.indices { planned[i].message.id = ids.next(now: planned[i].message.createdAt, using: &rng) }
        return planned
    }

    static func crossing(_ b: Boundary, index: DirectoryIndex, created: Timestamp, until: Timestamp, rng: inout SplitMix64) -> Crossing? {
        let id = MessageID("DEMO")  // replaced once the plan is in time order
        let q = b.quality
        func chance(_ p: Double) -> Bool { Double(rng.next() % 10_000) / 10_000 < p }
        let forInformation = b.workflow.responsibility != .required && chance(0.5)
        let declared = CrossingDeclaration(
            subjects: chance(q)
                ? [CrossingSubject(nhsNumber: testNHSNumber(&rng), nhsNumberStatus: "01")]
                : chance(0.34)
                    ? [CrossingSubject(nhsNumber: testNHSNumber(&rng), nhsNumberStatus: "03")]
                    : chance(0.5) ? [CrossingSubject(nhsNumberAbsentReason: "unknown")] : [],
            lawfulBasis: chance(q) ? LawfulBasis(article6: "A6-1e", article9: "A9-2h", schedule1: "S1-P1-2") : nil,
            provenance: chance(q)
                ? Provenance(
                    author: .init(name: authors[Int(rng.next() % UInt64(authors.count))]),
                    createdAt: created.adding(seconds: -600).isoUTC) : nil,
            intent: chance(q)
                ? ClinicalIntent(
                    purpose: purpose(b.workflow), action: forInformation ? "for-information" : "for-action",
                    priority: chance(0.3) ? "urgent" : "routine") : nil)
        var policy = b.workflow.crossing
        policy.testNHSNumbersAllowed = true
        let sender = index.mailboxes[b.sender].flatMap { index.organisations[$0.organisation] }
        var message: MessageRecord
        var payload: String
        let offSystem = b.workflow.responsibility == .required && chance(0.06)
        if offSystem {
            let channels = ["phone", "email", "fax", "paper"]
            guard
                case .success(let route) = index.resolve(
                    to: b.route.recipient.rawValue, workflowID: b.workflow.id,
                    sender: MailboxID(OffSystemFacts.workflow), allowUnknownWorkflows: false)
            else { return nil }
            let off = OffSystemCrossing(
                channel: channels[Int(rng.next() % 4)], occurredAt: created.adding(seconds: -1_800), from: sender,
                anonymous: nil, workflow: b.workflow, decision: route, summary: "Demonstration: a referral taken by phone",
                recordedBy: "Duty desk (demonstration)", declared: declared)
            guard case .success(let built) = off.message(id: id, index: index, now: created) else { return nil }
            (message, payload) = (built, off.notice)
        } else {
            let rules = CrossingRules.Context(
                policy: policy, safeguarding: b.workflow.safeguarding, senderIsPublicAuthority: sender?.publicAuthority ?? false,
                vocabulary: index.directory.vocabulary)
            // A declaration missing what the workflow requires is refused at the door: it never crosses.
            guard case .success(var record) = CrossingRules.record(declared: declared, payload: nil, context: rules) else { return nil }
            record.flags.removeAll { !$0.shown }
            record.derived = CrossingDerived(
                senderMailbox: nil, senderOrganisation: sender?.code.rawValue, senderDomain: sender?.domain.rawValue,
                senderAuthority: sender?.authority, senderPublicAuthority: sender?.publicAuthority, receivedAt: nil,
                payloadSHA256: nil, route: nil, certificateMatchesSender: nil, fhir: nil)
            record.derived?.receiverOrganisation = index.mailboxes[b.route.recipient]?.organisation.rawValue
            record.derived?.acceptBy = index.firstNotAcceptedDeadline(workflow: b.workflow, deliveredAt: created)?.isoUTC
            message = MessageRecord(
                id: id, sender: b.sender, recipient: b.route.recipient, workflowID: b.workflow.id.rawValue,
                subject: "Demonstration \(purpose(b.workflow))",
                contentType: "application/json", totalChunks: 1, status: .uploading, createdAt: created,
                expirySeconds: index.expirySeconds(workflow: b.workflow, deliveredAt: created, defaultSeconds: ExpiryPolicy().defaultExpirySeconds),
                route: b.route.route,
                escalationPolicy: b.workflow.escalation, responsibilityRequired: b.workflow.responsibility == .required, crossing: record)
            payload = #"{"demonstration":true,"note":"Demonstration data from handover demo seed; no patient or clinical detail."}"#
        }
        let settled = created < until.adding(seconds: -liveSeconds)
        if settled { message.escalationPolicy = nil }

        var planned = Crossing(message: message, payload: payload, offSystem: offSystem)
        let downloaded = created.adding(seconds: 300 + Int64(rng.next() % 7_200))
        if downloaded < until && (settled || chance(0.8)) { planned.downloadedAt = downloaded }
        if settled { planned.acknowledgedAt = downloaded.adding(seconds: 60) }
        guard message.responsibilityRequired, let downloadedAt = planned.downloadedAt else { return planned }
        let deadline = index.firstNotAcceptedDeadline(workflow: b.workflow, deliveredAt: created) ?? created.adding(seconds: 4 * 3_600)
        let roll = Double(rng.next() % 10_000) / 10_000
        let acceptAt: Timestamp? =
            if roll < q {
                max(
                    downloadedAt, created.adding(seconds: Int64(rng.next() % UInt64(max(60, deadline.secondsSinceEpoch - created.secondsSinceEpoch))))
                )
            } else if roll < q + (1 - q) / 2 {
                deadline.adding(seconds: 3_600 + Int64(rng.next() % (2 * 86_400)))
            } else {
                nil
            }
        guard let at = acceptAt, at < until else { return planned }
        let basis =
            b.workflow.crossing.receiverBasisRequired || chance(q) ? LawfulBasis(article6: "A6-1e", article9: "A9-2b", schedule1: "S1-P2-18") : nil
        planned.decision = Decision(
            accept: true, at: max(at, downloadedAt), person: Person(name: people[Int(rng.next() % UInt64(people.count))]),
            receiverBasis: basis)
        let outcome = at.adding(seconds: 86_400 + Int64(rng.next() % (4 * 86_400)))
        if outcome < until && chance(q) { planned.outcomeAt = outcome }
        return planned
    }

    static func purpose(_ workflow: Workflow) -> String {
        let id = workflow.id.rawValue
        if id.contains("SAFEGUARDING") { return "safeguarding-concern" }
        if id.hasPrefix("D2A") { return "discharge-to-assess" }
        if id.hasPrefix("TOC") { return "discharge-summary" }
        if id.contains("CARE_PACKAGE") { return "care-package" }
        return "referral"
    }

    /// A valid NHS number from the 999 test range (never issued to a person).
    static func testNHSNumber(_ rng: inout SplitMix64) -> String {
        while true {
            let digits = [9, 9, 9] + (0..<6).map { _ in Int(rng.next() % 10) }
            let sum = digits.enumerated().reduce(0) { $0 + $1.element * (10 - $1.offset) }
            let check = 11 - sum % 11
            if check == 10 { continue }
            return (digits + [check == 11 ? 0 : check]).map(String.init).joined()
        }
    }
}

/// A small seeded generator (SplitMix64), so the same seed plans the same traffic on any machine.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
