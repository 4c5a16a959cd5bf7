/// A declined safeguarding referral hands responsibility back to the sender, and its sending
/// organisation's safeguarding lead (else its duty mailbox) must know at once, not at the next
/// escalation stage: a `HANDOVER_ALERT` message naming the message, the reason code and who declined,
/// delivered in the same transaction as the decision. The note stays out (it may name the person).
public enum DeclineAlert {
    public static func message(
        for declined: MessageRecord, index: DirectoryIndex, id: MessageID, now: Timestamp
    ) -> (MessageRecord, [UInt8])? {
        guard index.workflows[WorkflowID(declined.workflowID)]?.safeguarding == true, let sender = declined.sender,
            let organisation = index.mailboxes[sender].flatMap({ index.organisations[$0.organisation] }),
            let lead = organisation.safeguardingLead ?? organisation.duty.mailbox
        else { return nil }
        let record = declined.responsibility ?? ResponsibilityRecord()
        let body = JSONValue.compact([
            ("event", "safeguarding_referral_declined"), ("message_id", .string(declined.id.rawValue)),
            ("workflow_id", .string(declined.workflowID)), ("sender", .string(sender.rawValue)),
            ("recipient", .string(declined.recipient.rawValue)), ("reason", record.declineReason.map { .string($0) }),
            ("declined_by", record.decidedBy.map(personJSON)), ("declined_at", record.decidedAt.map { .string($0.isoUTC) }),
            ("action", "responsibility is back with the sender: find the right service today, and phone it if there is immediate risk"),
        ]).serialized
        let alert = MessageRecord(
            id: id, sender: nil, recipient: lead, workflowID: AlertPlanner.alertWorkflow,
            subject: "Safeguarding referral declined: \(declined.workflowID)", contentType: "application/json", totalChunks: 1,
            status: .uploading, linkedMessageID: declined.id, createdAt: now,
            route: RouteTaken(addressedBy: .system, address: lead.rawValue, directoryVersion: index.version))
        return (alert, Array(body.utf8))
    }
}
