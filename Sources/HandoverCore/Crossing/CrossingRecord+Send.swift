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
