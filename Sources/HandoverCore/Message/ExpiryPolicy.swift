/// What happens when a delivered message is not acknowledged in time (reference §8, contract §3):
/// the message becomes `error` with a code-14 event, and the sender receives an empty REPORT whose
/// `Mex-To` is the original recipient. Pure: the store applies the result in one transaction.
public struct ExpiryPolicy: Sendable {
    /// Payloads of delivered messages are purged this long after delivery.
    public var purgeAfterSeconds: Int64 = 30 * 86_400
    public var defaultExpirySeconds: Int64 = 5 * 86_400

    public init(purgeAfterSeconds: Int64 = 30 * 86_400, defaultExpirySeconds: Int64 = 5 * 86_400) {
        self.purgeAfterSeconds = purgeAfterSeconds
        self.defaultExpirySeconds = defaultExpirySeconds
    }

    /// The event the expired message gets.
    public func expiredEvent(for message: MessageRecord, now: Timestamp) -> StatusEvent {
        let delivered = message.deliveredAt ?? message.createdAt
        let expiry = message.expiresAt ?? delivered.adding(seconds: message.expirySeconds)
        let days = max(1, Int((expiry.secondsSinceEpoch - delivered.secondsSinceEpoch + 43_200) / 86_400))
        return .notCollected(days: days, at: now)
    }

    /// The non-delivery report for the sender, or nil when there is no sender (a report never begets a report).
    public func nonDeliveryReport(for message: MessageRecord, reportID: MessageID, now: Timestamp) -> MessageRecord? {
        guard message.type == .data, let sender = message.sender else { return nil }
        let event = expiredEvent(for: message, now: now)
        return MessageRecord(
            id: reportID, type: .report, sender: nil, recipient: sender, workflowID: message.workflowID,
            subject: message.subject.map { "NDR: \($0)" } ?? "NDR", localID: message.localID,
            totalChunks: 0, status: .accepted, statusEvent: event, linkedMessageID: message.id,
            createdAt: now, deliveredAt: now, expiresAt: now.adding(seconds: defaultExpirySeconds),
            route: RouteTaken(addressedBy: .system, address: message.recipient.rawValue, directoryVersion: message.route?.directoryVersion ?? 0))
    }
}
