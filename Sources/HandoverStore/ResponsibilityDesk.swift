import Foundation
import HandoverCore

/// Accepting, declining and recording outcomes, the same for every door (the MESH API and the
/// console): the state machine decides, the store applies it with the business acknowledgement to the
/// sender in one transaction. Refusals are `ResponsibilityMachine.Refusal`s; each door words them.
public struct ResponsibilityDesk: Sendable {
    let store: any BrokerStore
    let idGenerator: MessageIDGenerator

    public init(store: any BrokerStore, idGenerator: MessageIDGenerator = .shared) { (self.store, self.idGenerator) = (store, idGenerator) }

    public struct Decision: Sendable {
        public var decision: ResponsibilityMachine.Decision
        public var by: Person
        public var note: String?
        public var declineReason: String?
        public var receiverBasis: LawfulBasis?
        /// On `acks: fhir-itk3` workflows: the ITK business code of the response.
        public var itkResponseCode: String

        public init(
            _ decision: ResponsibilityMachine.Decision, by: Person, note: String? = nil, declineReason: String? = nil,
            receiverBasis: LawfulBasis? = nil,
            itkResponseCode: String = "30001"
        ) {
            (self.decision, self.by, self.note, self.declineReason, self.receiverBasis) = (decision, by, note, declineReason, receiverBasis)
            self.itkResponseCode = itkResponseCode
        }
    }

    /// Why a receiver's lawful basis cannot stand for this mailbox's organisation, or nil.
    public static func basisProblem(_ basis: LawfulBasis, mailbox: MailboxID, index: DirectoryIndex) -> CrossingProblem? {
        let receiver = index.mailboxes[mailbox].flatMap { index.organisations[$0.organisation] }
        let rules = CrossingRules.Context(
            policy: .standard, safeguarding: false, senderIsPublicAuthority: receiver?.publicAuthority ?? false,
            vocabulary: index.directory.vocabulary)
        return CrossingRules.invalidBasis(basis, field: "lawful_basis", context: rules)
    }

    /// The recipient's decision, by name. `itkDisplay` is the display text of the ITK code (the
    /// caller has checked the code is known).
    public func decide(
        _ d: Decision, messageID id: MessageID, recipient: MailboxID, index: DirectoryIndex, now: Timestamp
    ) async throws
        -> MessageRecord
    {
        let version = index.version
        let ackID = idGenerator.next(now: now)
        let event = d.decision == .accept ? "responsibility_accepted" : "responsibility_declined"
        let alertID = idGenerator.next(now: now)
        let itk = Self.itkResponse(code: d.itkResponseCode, display: ITK3Response.businessCodes[d.itkResponseCode] ?? "", now: now)
        return try await store.transform(messageID: id, now: now) { message in
            guard message.recipient == recipient else { throw MeshError.forbidden }
            let record = try ResponsibilityMachine.decide(
                message.responsibility ?? ResponsibilityRecord(), decision: d.decision, by: d.by, note: d.note,
                downloaded: message.downloadedAt != nil, now: now, receiverBasis: d.receiverBasis,
                receiverBasisRequired: index.workflows[WorkflowID(message.workflowID)]?.crossing.receiverBasisRequired ?? false,
                declineReason: d.declineReason
            ).get()
            var transition = ResponsibilityMachine.applied(record, to: message, event: event) { message, record in
                // A Transfer of Care message is answered in ITK3, and only if it asked.
                if index.workflows[WorkflowID(message.workflowID)]?.acks == .fhirITK3, let facts = message.crossing?.derived?.fhir {
                    guard facts.busAckRequested == true else { return nil }
                    var answer = itk
                    answer.sourceEndpoint = message.recipient.rawValue
                    return ITK3Response.message(answering: message, answer, id: ackID, directoryVersion: version)
                }
                return BusinessAck.message(for: message, event: event, record: record, id: ackID, now: now, directoryVersion: version)
            }
            if d.decision == .decline, let (alert, body) = DeclineAlert.message(for: transition.message, index: index, id: alertID, now: now) {
                transition.effects.append(
                    .deliverMessage(alert, body: body, announcedAs: "decline_alert_sent", detail: EventDetails.businessAckSent(alert.id)))
            }
            return transition
        }
    }

    /// What became of the message, reported back to the sender.
    public func recordOutcome(
        messageID id: MessageID, recipient: MailboxID, code: String, detail: String?, by person: Person, index: DirectoryIndex, now: Timestamp
    ) async throws -> MessageRecord {
        let version = index.version
        let ackID = idGenerator.next(now: now)
        return try await store.updateResponsibility(
            messageID: id, recipient: recipient, event: "outcome", now: now,
            change: { message in
                ResponsibilityMachine.recordOutcome(
                    message.responsibility ?? ResponsibilityRecord(), code: code, detail: detail, by: person, now: now)
            },
            ack: { message, record in
                // ITK3 has one business response, sent on the decision; outcomes show in tracking.
                if index.workflows[WorkflowID(message.workflowID)]?.acks == .fhirITK3, message.crossing?.derived?.fhir != nil { return nil }
                return BusinessAck.message(for: message, event: "outcome", record: record, id: ackID, now: now, directoryVersion: version)
            })
    }

    /// An ITK3 response's identifiers and time.
    public static func itkResponse(code: String, display: String, now: Timestamp) -> ITK3Response.Response {
        func uuid() -> String { UUID().uuidString.lowercased() }
        return ITK3Response.Response(
            code: code, display: display, bundleID: uuid(), headerID: uuid(), outcomeID: uuid(), timestamp: now, sourceEndpoint: "")
    }
}
