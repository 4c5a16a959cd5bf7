extension CrossingRules.Context {
    /// The rules a send is checked by, whichever door it came in by: the workflow's policy and
    /// safeguarding flag, and whether the sending mailbox's organisation is a public authority.
    public static func forSend(workflow: Workflow?, sender: MailboxID, index: DirectoryIndex) -> Self {
        let organisation = index.mailboxes[sender].flatMap { index.organisations[$0.organisation] }
        return Self(
            policy: workflow?.crossing ?? .standard, safeguarding: workflow?.safeguarding ?? false,
            senderIsPublicAuthority: organisation?.publicAuthority ?? false, vocabulary: index.directory.vocabulary)
    }
}

extension CrossingRecord {
    /// What the broker itself adds to a record at send, whichever door the message came in by: who
    /// sent it (the sender organisation's domain, authority and public-authority status), the
    /// payload's digest, what a Transfer of Care payload said, the receiving organisation and the
    /// acceptance deadline. The sender mailbox, received time and route are the message's own.
    public mutating func deriveAtSend(
        sender: MailboxID, recipient: MailboxID, workflow: Workflow?, index: DirectoryIndex, payloadSHA256: String?,
        certificateMatchesSender: Bool?, fhir: FHIRMessageFacts?, now: Timestamp
    ) {
        let organisation = index.mailboxes[sender].flatMap { index.organisations[$0.organisation] }
        derived = CrossingDerived(
            senderMailbox: nil, senderOrganisation: organisation?.code.rawValue, senderDomain: organisation?.domain.rawValue,
            senderAuthority: organisation?.authority, senderPublicAuthority: organisation?.publicAuthority, receivedAt: nil,
            payloadSHA256: payloadSHA256, route: nil, certificateMatchesSender: certificateMatchesSender, fhir: fhir)
        derived?.receiverOrganisation = index.mailboxes[recipient]?.organisation.rawValue
        derived?.acceptBy = index.firstNotAcceptedDeadline(workflow: workflow, deliveredAt: now)?.isoUTC
    }
}
