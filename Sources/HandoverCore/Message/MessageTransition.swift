/// A change to a message and everything it sets off, decided in the core and carried out by a store
/// in one transaction (`apply` in each backend, the same effects in the same order). The state
/// machines (`MessageLifecycle`, `ResponsibilityMachine`) return these; the stores only interpret.
public struct MessageTransition: Hashable, Sendable {
    public var message: MessageRecord
    public var effects: [MessageEffect]

    public init(_ message: MessageRecord, _ effects: [MessageEffect] = []) { (self.message, self.effects) = (message, effects) }
}

public enum MessageEffect: Hashable, Sendable {
    /// The message takes the next position in its recipient's inbox (written with its row).
    case enterInbox
    /// The message leaves its recipient's inbox (acknowledged, expired).
    case leaveInbox
    /// The message leaves the inbox of a mailbox that is no longer its recipient (a redirect).
    case leaveInboxOf(MailboxID)
    /// The message's recipient and route changed (a redirect): written beside its row, which
    /// otherwise keeps its addressing from the send.
    case readdressed
    /// An entry on the message's timeline, audited with the change.
    case event(String, detail: String = "{}")
    /// The message's unresolved alerts whose condition no longer holds are resolved, for `reason`.
    case resolveAlerts(reason: String)
    /// The message's chunks and their bytes are deleted (an abandoned upload).
    case discardChunks
    /// An audit entry of its own (beside the events' entries).
    case audit(AuditRecord)
    /// A REPORT the broker made (non-delivery, abandoned upload) into the sender's inbox; no payload.
    case deliverReport(MessageRecord)
    /// A message the broker wrote (a business or ITK3 acknowledgement), delivered at once with its
    /// body, and an event on this message naming it.
    case deliverMessage(MessageRecord, body: [UInt8], announcedAs: String, detail: String)
}

extension MessageTransition {
    /// Builds, for a delivered message, the message delivered with it (an ITK3 infrastructure
    /// acknowledgement) and its body; nil when there is none.
    public typealias DeliveryCompanion = @Sendable (MessageRecord) -> (MessageRecord, [UInt8])?
}
