/// A named person acting at the boundary (contract §4): a decision is never anonymous.
public struct Person: Hashable, Sendable, Codable {
    public var name: String
    public var role: String?
    public var team: String?

    public init(name: String, role: String? = nil, team: String? = nil) { (self.name, self.role, self.team) = (name, role, team) }
}

public enum ResponsibilityState: String, Hashable, Sendable, Codable {
    case pending, accepted, declined
    /// The sender took the message back (`withdrawn`) or replaced it with a linked one (`amended`):
    /// nothing more is decided on it and its escalation stops.
    case withdrawn, amended

    /// Whether the sender has closed the message (withdrawn or amended it).
    public var closedBySender: Bool { self == .withdrawn || self == .amended }
}

/// Who holds responsibility for a message and what became of it. Delivery is not acceptance: until a
/// named person accepts, responsibility stays with the sender.
public struct ResponsibilityRecord: Hashable, Sendable, Codable {
    public var state: ResponsibilityState = .pending
    public var decidedBy: Person?
    public var decidedAt: Timestamp?
    public var note: String?
    /// Why it was declined, one of `ResponsibilityMachine.declineReasons` (the note says more).
    public var declineReason: String?
    public var outcomeCode: String?
    public var outcomeDetail: String?
    public var outcomeBy: Person?
    public var outcomeAt: Timestamp?
    /// How many times an outcome was recorded (each one is a business ack to the sender).
    public var outcomeCount: Int?
    /// The receiver's own lawful basis, stated when it accepted (each controller needs its own).
    public var receiverBasis: LawfulBasis?
    /// Each time the message was sent on to the right service or council, oldest first.
    public var redirects: [Redirection]?
    /// Who withdrew or amended it, when and why (the sender's side).
    public var closedBy: Person?
    public var closedAt: Timestamp?
    public var closedReason: String?
    /// The linked message that replaced this one (`amended`).
    public var replacedBy: String?

    public init() {}
}

/// The responsibility state machine, pure:
///
///     pending ──accept(person)──► accepted ──outcome──► (outcome recorded; may be updated)
///     pending ──decline(person, note)──► declined   (responsibility stays with the sender)
///
/// A decision needs the message to have been downloaded (acknowledged is fine); it is made once.
public enum ResponsibilityMachine {
    public enum Decision: String, Sendable, Codable { case accept, decline }

    public enum Refusal: Error, Hashable, Sendable {
        case notDownloaded
        case alreadyDecided(ResponsibilityState)
        case personRequired
        case noteRequired
        case receiverBasisRequired
        case unknownOutcome(String)
        case unknownDeclineReason
        case notAccepted
        case tooManyOutcomes
        case closedBySender(ResponsibilityState)
        case redirectRefused(String)
        case notDelivered

        public var message: String {
            switch self {
            case .notDownloaded: "the message has not been downloaded yet; download it before deciding on responsibility"
            case .alreadyDecided(let s): "responsibility was already \(s.rawValue)"
            case .personRequired: "a named person is required: by.name"
            case .noteRequired: "a note saying why is required (to decline, redirect or withdraw)"
            case .receiverBasisRequired: "this workflow needs the receiver's own lawful basis to accept: lawful_basis.article6 (and article9)"
            case .unknownOutcome(let code): "unknown outcome code '\(code)'; use one of \(ResponsibilityMachine.outcomeCodes.joined(separator: ", "))"
            case .unknownDeclineReason:
                // The value is not repeated: it came from the caller and goes back into logs and tools.
                "unknown decline reason; use one of \(ResponsibilityMachine.declineReasons.joined(separator: ", "))"
            case .notAccepted: "an outcome can be recorded only once responsibility has been accepted"
            case .tooManyOutcomes:
                "this message's outcome was updated \(ResponsibilityMachine.maximumOutcomes) "
                    + "times, the most allowed; send a new message for what follows"
            case .closedBySender(let s): "the sender has \(s.rawValue) this message; nothing more can be done with it"
            case .redirectRefused(let why): why
            case .notDelivered: "the message is not in its recipient's mailbox (still uploading, or expired), so it cannot be moved or changed"
            }
        }

        /// Handover's stable code for the refusal (its status: 409 for state, 400 for input, 417 for policy).
        public var code: HandoverErrorCode {
            switch self {
            case .notDownloaded: .notDownloaded
            case .alreadyDecided: .alreadyDecided
            case .personRequired: .personRequired
            case .noteRequired: .noteRequired
            case .receiverBasisRequired: .receiverBasisRequired
            case .unknownOutcome: .unknownOutcome
            case .unknownDeclineReason: .unknownDeclineReason
            case .notAccepted: .notAccepted
            case .tooManyOutcomes: .tooManyOutcomes
            case .closedBySender: .closedBySender
            case .redirectRefused: .redirectRefused
            case .notDelivered: .notDelivered
            }
        }
    }

    /// Why a receiver declines: the crossing went to the wrong service or area, the person is not
    /// eligible, more is needed before anyone can decide, it duplicates another, or something else.
    public static let declineReasons = ["wrong-service", "wrong-area", "not-eligible", "needs-more-information", "duplicate", "other"]

    /// The outcome codes of contract §4 and the Seven Flows' Outcome flow.
    public static let outcomeCodes = [
        "assessed", "services-arranged", "no-further-action", "s42-enquiry", "s47-initiated",
        "referred-elsewhere", "closed",
    ]

    public static func decide(
        _ record: ResponsibilityRecord, decision: Decision, by person: Person, note: String?,
        downloaded: Bool, now: Timestamp, receiverBasis: LawfulBasis? = nil,
        receiverBasisRequired: Bool = false, declineReason: String? = nil
    ) -> Result<ResponsibilityRecord, Refusal> {
        guard !person.name.trimmingWhitespace().isEmpty else { return .failure(.personRequired) }
        guard downloaded else { return .failure(.notDownloaded) }
        if record.state.closedBySender { return .failure(.closedBySender(record.state)) }
        guard record.state == .pending else { return .failure(.alreadyDecided(record.state)) }
        if decision == .decline && (note ?? "").trimmingWhitespace().isEmpty { return .failure(.noteRequired) }
        if let declineReason, !declineReasons.contains(declineReason) { return .failure(.unknownDeclineReason) }
        if decision == .accept && receiverBasisRequired && (receiverBasis?.article6 == nil || receiverBasis?.article9 == nil) {
            return .failure(.receiverBasisRequired)
        }
        var r = record
        if decision == .accept { r.receiverBasis = receiverBasis }
        r.state = decision == .accept ? .accepted : .declined
        r.decidedBy = person
        r.decidedAt = now
        r.note = note
        if decision == .decline { r.declineReason = declineReason }
        return .success(r)
    }

    /// Each outcome update reaches the sender as a message, so updates per message are bounded.
    public static let maximumOutcomes = 20

    public static func recordOutcome(
        _ record: ResponsibilityRecord, code: String, detail: String?, by person: Person,
        now: Timestamp
    ) -> Result<ResponsibilityRecord, Refusal> {
        guard !person.name.trimmingWhitespace().isEmpty else { return .failure(.personRequired) }
        guard outcomeCodes.contains(code) else { return .failure(.unknownOutcome(code)) }
        if record.state.closedBySender { return .failure(.closedBySender(record.state)) }
        guard record.state == .accepted else { return .failure(.notAccepted) }
        guard (record.outcomeCount ?? (record.outcomeAt == nil ? 0 : 1)) < maximumOutcomes else { return .failure(.tooManyOutcomes) }
        var r = record
        r.outcomeCount = (record.outcomeCount ?? (record.outcomeAt == nil ? 0 : 1)) + 1
        r.outcomeCode = code
        r.outcomeDetail = detail
        r.outcomeBy = person
        r.outcomeAt = now
        return .success(r)
    }
}

extension ResponsibilityMachine {
    /// A decision or outcome (`record`, from `decide` or `recordOutcome`) applied to its message: the
    /// timeline event, the acknowledgement to the sender where the workflow makes one, and the alerts
    /// the change ends.
    public static func applied(
        _ record: ResponsibilityRecord, to message: MessageRecord, event: String,
        acknowledgement: (MessageRecord, ResponsibilityRecord) -> (MessageRecord, [UInt8])?
    ) -> MessageTransition {
        var m = message
        m.responsibility = record
        var effects: [MessageEffect] = [.event(event, detail: EventDetails.responsibility(record, event: event))]
        if let (ack, body) = acknowledgement(m, record) {
            effects.append(.deliverMessage(ack, body: body, announcedAs: "business_ack_sent", detail: EventDetails.businessAckSent(ack.id)))
        }
        effects.append(.resolveAlerts(reason: event))
        return MessageTransition(m, effects)
    }
}

extension MessageRecord {
    /// Who resolved the message's alerts: the person who accepted responsibility, else who recorded
    /// the outcome; nil when an alert resolves for another reason (a download, an acknowledgement).
    public var resolvingPerson: Person? {
        guard let r = responsibility else { return nil }
        return r.state == .accepted ? (r.decidedBy ?? r.outcomeBy) : r.outcomeBy
    }
}
