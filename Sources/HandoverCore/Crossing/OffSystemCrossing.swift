/// A crossing that happened by phone, fax, email or on paper, made into the `HANDOVER_OFFSYSTEM`
/// notice that carries it into the receiving mailbox under its workflow's responsibility and
/// escalation (`POST /admin/crossings`; `handover demo seed`). Pure: routing is decided beforehand.
public struct OffSystemCrossing: Sendable {
    public var channel: String
    public var occurredAt: Timestamp
    /// nil when a member of the public referred (`anonymous`).
    public var from: Organisation?
    public var anonymous: Bool?
    public var workflow: Workflow
    public var decision: RouteDecision
    /// A short summary with no clinical detail.
    public var summary: String?
    public var recordedBy: String
    public var declared: CrossingDeclaration?

    public init(
        channel: String, occurredAt: Timestamp, from: Organisation?, anonymous: Bool?, workflow: Workflow, decision: RouteDecision,
        summary: String?, recordedBy: String, declared: CrossingDeclaration?
    ) {
        (self.channel, self.occurredAt, self.from, self.anonymous, self.workflow) = (channel, occurredAt, from, anonymous, workflow)
        (self.decision, self.summary, self.recordedBy, self.declared) = (decision, summary, recordedBy, declared)
    }

    /// The notice (its payload is `notice`) recorded at `now`, or why the declared record is refused.
    public func message(id: MessageID, index: DirectoryIndex, now: Timestamp) -> Result<MessageRecord, CrossingProblem> {
        // A crossing that already happened is recorded whatever it lacks: gaps are flagged, never refused.
        var policy = workflow.crossing
        for keyPath in [\CrossingPolicy.identity, \.lawfulBasis, \.intent, \.provenance] where policy[keyPath: keyPath] == .required {
            policy[keyPath: keyPath] = .flagged
        }
        let rules = CrossingRules.Context(
            policy: policy, safeguarding: workflow.safeguarding, senderIsPublicAuthority: from?.publicAuthority ?? false,
            vocabulary: index.directory.vocabulary)
        var record: CrossingRecord
        switch CrossingRules.record(declared: declared, payload: nil, context: rules) {
        case .success(let built): record = built
        case .failure(let problem): return .failure(problem)
        }
        record.flags.removeAll { !$0.shown }
        var derived = CrossingDerived(
            senderMailbox: nil, senderOrganisation: from?.code.rawValue, senderDomain: from?.domain.rawValue,
            senderAuthority: from?.authority, senderPublicAuthority: from?.publicAuthority, receivedAt: nil,
            payloadSHA256: nil, route: nil, certificateMatchesSender: nil, fhir: nil)
        derived.offSystem = OffSystemFacts(
            channel: channel, occurredAt: occurredAt.isoUTC, workflowID: workflow.id.rawValue, recordedBy: recordedBy,
            anonymous: anonymous)
        derived.receiverOrganisation = index.mailboxes[decision.recipient]?.organisation.rawValue
        derived.acceptBy = index.firstNotAcceptedDeadline(workflow: workflow, deliveredAt: now)?.isoUTC
        record.derived = derived
        return .success(
            MessageRecord(
                id: id, sender: nil, recipient: decision.recipient, workflowID: OffSystemFacts.workflow,
                subject: "Off-system \(channel) crossing: \(workflow.id.rawValue)", contentType: "application/json", totalChunks: 1,
                status: .uploading, createdAt: now,
                expirySeconds: index.expirySeconds(workflow: workflow, deliveredAt: now, defaultSeconds: ExpiryPolicy().defaultExpirySeconds),
                route: decision.route, escalationPolicy: workflow.escalation, responsibilityRequired: workflow.responsibility == .required,
                crossing: record))
    }

    /// The notice's body: what was recorded, without the record itself.
    public var notice: String {
        JSONValue.compact([
            ("event", "offsystem_crossing"), ("channel", .string(channel)), ("occurred_at", .string(occurredAt.isoUTC)),
            ("from_organisation", from.map { .string($0.code.rawValue) }), ("anonymous", anonymous.map(JSONValue.bool)),
            ("workflow_id", .string(workflow.id.rawValue)), ("summary", summary.map(JSONValue.string)), ("recorded_by", .string(recordedBy)),
        ]).serialized
    }
}
