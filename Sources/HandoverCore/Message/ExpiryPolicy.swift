/// What happens when a delivered message is not acknowledged in time (reference §8, contract §3):
/// the message becomes `error` with a code-14 event, and the sender receives an empty REPORT whose
/// `Mex-To` is the original recipient. Pure: the store applies the result in one transaction.
public struct ExpiryPolicy: Sendable {
    /// Payloads of delivered messages are purged this long after delivery.
    public var purgeAfterSeconds: Int64 = 30 * 86_400
    public var defaultExpirySeconds: Int64 = 5 * 86_400
    /// A chunked upload not completed this long after its first chunk is discarded, its segments
    /// purged, and the sender told by a report.
    public var uploadTimeoutSeconds: Int64 = 24 * 3600
    /// How long after a crossing closes its subject is kept before being reduced to a keyed hash.
    public var subjectRetentionSeconds: Int64 = 30 * 86_400

    public init(
        purgeAfterSeconds: Int64 = 30 * 86_400, defaultExpirySeconds: Int64 = 5 * 86_400, uploadTimeoutSeconds: Int64 = 24 * 3600,
        subjectRetentionSeconds: Int64 = 30 * 86_400
    ) {
        self.purgeAfterSeconds = purgeAfterSeconds
        self.defaultExpirySeconds = defaultExpirySeconds
        self.uploadTimeoutSeconds = uploadTimeoutSeconds
        self.subjectRetentionSeconds = subjectRetentionSeconds
    }

    /// An upload abandoned half-way: the message becomes `error`, and the sender gets a report
    /// linked to it. Nil unless the message is still uploading.
    public func abandonedUpload(_ message: MessageRecord, reportID: MessageID, now: Timestamp) -> (message: MessageRecord, report: MessageRecord?)? {
        guard message.status == .uploading else { return nil }
        var abandoned = message
        abandoned.status = .error
        abandoned.statusEvent = .uploadAbandoned(hours: uploadTimeoutSeconds / 3600, at: now)
        guard let sender = message.sender else { return (abandoned, nil) }
        let report = MessageRecord(
            id: reportID, type: .report, sender: nil, recipient: sender, workflowID: message.workflowID,
            subject: message.subject.map { "Upload incomplete: \($0)" } ?? "Upload incomplete", localID: message.localID,
            totalChunks: 0, status: .accepted, statusEvent: abandoned.statusEvent, linkedMessageID: message.id,
            createdAt: now, deliveredAt: now, expiresAt: now.adding(seconds: defaultExpirySeconds),
            route: RouteTaken(addressedBy: .system, address: message.recipient.rawValue, directoryVersion: message.route?.directoryVersion ?? 0))
        return (abandoned, report)
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
