import HandoverCore

/// The calls that move a message on rather than decide it, the same for every door: the receiver
/// redirects it to the right service or council; the sender withdraws or amends it.
extension ResponsibilityDesk {
    /// The recipient sends the message on to `address`, routed as if the original sender had
    /// addressed it there (so the sender's permissions and the directory's rules still apply).
    public func redirect(
        messageID id: MessageID, recipient: MailboxID, to address: String, by person: Person, note: String?, index: DirectoryIndex,
        now: Timestamp, allowUnknownWorkflows: Bool = false
    ) async throws -> MessageRecord {
        let ackID = idGenerator.next(now: now)
        return try await store.transform(messageID: id, now: now) { message in
            guard message.recipient == recipient, let sender = message.sender else { throw MeshError.forbidden }
            let decision = try index.resolve(
                to: address, workflowID: WorkflowID(message.workflowID), sender: sender, allowUnknownWorkflows: allowUnknownWorkflows
            ).get()
            return try ResponsibilityMachine.redirect(message, to: decision, address: address, by: person, note: note, now: now) { moved, record in
                // ITK3 has no redirect response; the sender sees the new recipient in tracking.
                if index.workflows[WorkflowID(moved.workflowID)]?.acks == .fhirITK3, moved.crossing?.derived?.fhir != nil { return nil }
                return BusinessAck.message(for: moved, event: "redirected", record: record, id: ackID, now: now, directoryVersion: index.version)
            }.get()
        }
    }

    /// The sender takes the message back; the recipient gets a `HANDOVER_NOTICE`.
    public func withdraw(
        messageID id: MessageID, sender: MailboxID, by person: Person, reason: String?, index: DirectoryIndex, now: Timestamp
    ) async throws -> MessageRecord {
        let noticeID = idGenerator.next(now: now)
        return try await store.transform(messageID: id, now: now) { message in
            guard message.sender == sender else { throw MeshError.forbidden }
            return try ResponsibilityMachine.withdraw(
                message, by: person, reason: reason, now: now, noticeID: noticeID, directoryVersion: index.version
            ).get()
        }
    }

    /// The largest replacement an amendment carries: it is held in memory and committed in one
    /// transaction with the original's change. Larger ones are withdrawn and sent again.
    public static let maximumAmendmentBytes = 20 * 1024 * 1024

    /// What the sender gives to replace a message.
    public struct Replacement: Sendable {
        public var body: [UInt8]
        public var subject: String?
        public var localID: String?
        public var contentType: String?
        public var fileName: String?

        public init(body: [UInt8], subject: String? = nil, localID: String? = nil, contentType: String? = nil, fileName: String? = nil) {
            (self.body, self.subject, self.localID, self.contentType, self.fileName) = (body, subject, localID, contentType, fileName)
        }
    }

    /// The sender replaces the message with a linked one, delivered at once to the same recipient.
    /// Returns the original (now `amended`) and the replacement's id.
    public func amend(
        messageID id: MessageID, sender: MailboxID, with replacement: Replacement, by person: Person, reason: String?, now: Timestamp
    ) async throws -> (original: MessageRecord, replacement: MessageID) {
        let newID = idGenerator.next(now: now)
        let original = try await store.transform(messageID: id, now: now) { message in
            guard message.sender == sender else { throw MeshError.forbidden }
            let made = ResponsibilityMachine.replacement(
                for: message, id: newID, body: replacement.body, subject: replacement.subject, localID: replacement.localID,
                contentType: replacement.contentType,
                fileName: replacement.fileName, now: now)
            return try ResponsibilityMachine.amend(message, with: made, body: replacement.body, by: person, reason: reason, now: now).get()
        }
        return (original, newID)
    }
}
