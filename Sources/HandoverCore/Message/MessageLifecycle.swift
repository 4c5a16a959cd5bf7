/// The message state machine (reference §5.2), as pure functions returning the new state and what it
/// sets off (`MessageTransition`), so every backend makes the same decisions and the same effects.
///
///     send(total=1) ─────────────► accepted ──ack──► acknowledged
///     send(total=N) ─► uploading ─(all N chunks)─► accepted
///     accepted ──(expiry)──► error + REPORT(14) to the sender
///     uploading ──(upload timeout)──► error + REPORT to the sender
public enum MessageLifecycle {
    /// The effects of the usual delivery: no companion message (PostgreSQL writes it in one statement).
    public static let plainDelivery: [MessageEffect] = [.enterInbox, .event("delivered")]
    /// The effects of a first download and of an acknowledgement (PostgreSQL writes each in one
    /// statement when the message has no escalation policy, so no alert can need resolving).
    public static let downloadEffects: [MessageEffect] = [.event("downloaded"), .resolveAlerts(reason: "downloaded")]
    public static let acknowledgementEffects: [MessageEffect] = [.leaveInbox, .event("acknowledged"), .resolveAlerts(reason: "acknowledged")]

    /// A new message after its first chunk: delivered at once if it has one chunk.
    public static func created(
        _ message: MessageRecord, firstChunkSize: Int64, now: Timestamp,
        companion: MessageTransition.DeliveryCompanion? = nil
    ) -> MessageTransition {
        var m = message
        m.receivedChunks = 1
        m.fileSize = firstChunkSize
        m.status = .uploading
        return m.totalChunks == 1 ? delivered(m, now: now, companion: companion) : MessageTransition(m)
    }

    /// Accepts chunk `number` of `total`. `replacing` is true when that chunk was stored before (a client
    /// retry): its bytes are replaced and it is not counted twice. Delivers when every chunk is in,
    /// whatever order they came in.
    public static func addingChunk(
        _ message: MessageRecord, number: Int, total: Int, encoding: ContentEncoding,
        size: Int64, replacing previousSize: Int64?, now: Timestamp, companion: MessageTransition.DeliveryCompanion? = nil
    ) -> Result<MessageTransition, MeshError> {
        guard message.type == .data else { return .failure(.chunkNotAcceptable.with(messageID: message.id)) }
        guard total == message.totalChunks else { return .failure(.invalidChunks.with(messageID: message.id)) }
        guard number >= 2, number <= message.totalChunks else { return .failure(.chunkNotAcceptable.with(messageID: message.id)) }
        guard message.status == .uploading else { return .failure(.chunkLocked.with(messageID: message.id)) }
        guard encoding == message.contentEncoding else { return .failure(.cannotChangeEncoding.with(messageID: message.id)) }
        var m = message
        if let previousSize {
            m.fileSize += size - previousSize
        } else {
            m.receivedChunks += 1
            m.fileSize += size
        }
        return .success(m.receivedChunks == m.totalChunks ? delivered(m, now: now, companion: companion) : MessageTransition(m))
    }

    /// Into the recipient's inbox, with the companion message if the caller makes one.
    public static func delivered(_ message: MessageRecord, now: Timestamp, companion: MessageTransition.DeliveryCompanion? = nil) -> MessageTransition
    {
        var m = message
        m.status = .accepted
        m.statusEvent = m.statusEvent ?? .transferred(at: now)
        m.deliveredAt = now
        m.expiresAt = now.adding(seconds: m.expirySeconds)
        var effects = plainDelivery
        if let (made, body) = companion?(m) {
            effects.append(.deliverMessage(made, body: body, announcedAs: "delivery_ack_sent", detail: EventDetails.deliveryAckSent(made.id)))
        }
        return MessageTransition(m, effects)
    }

    /// The first download. The store applies it only where `downloaded_at` is still empty, in the
    /// same statement that sets it, so two downloads at once make one event.
    public static func downloaded(_ message: MessageRecord, now: Timestamp) -> MessageTransition {
        var m = message
        m.downloadedAt = now
        return MessageTransition(m, downloadEffects)
    }

    /// Acknowledgement is idempotent: only an `accepted` message changes.
    public static func acknowledged(_ message: MessageRecord, now: Timestamp) -> MessageTransition? {
        guard message.status == .accepted else { return nil }
        var m = message
        m.status = .acknowledged
        m.acknowledgedAt = now
        return MessageTransition(m, acknowledgementEffects)
    }

    /// An expired message: `error` with the not-collected event, and a non-delivery report to its
    /// sender, unless the sender withdrew or replaced it (they closed it; "not collected" would only
    /// be noise, and a replacement carries on under its own id).
    public static func expired(_ message: MessageRecord, policy: ExpiryPolicy, reportID: MessageID, now: Timestamp) -> MessageTransition? {
        guard message.status == .accepted else { return nil }
        var m = message
        m.status = .error
        m.statusEvent = policy.expiredEvent(for: message, now: now)
        let closedBySender = message.responsibility?.state.closedBySender == true
        var effects: [MessageEffect] = [
            .leaveInbox,
            .event("expired", detail: closedBySender ? "{\"code\":\"14\",\"report\":\"none: closed by its sender\"}" : "{\"code\":\"14\"}"),
        ]
        if !closedBySender, let report = policy.nonDeliveryReport(for: message, reportID: reportID, now: now) {
            effects.append(.deliverReport(report))
        }
        return MessageTransition(m, effects)
    }

    /// An upload never finished: `error`, its chunks discarded, audited, and a report to its sender.
    public static func abandoned(_ message: MessageRecord, policy: ExpiryPolicy, reportID: MessageID, now: Timestamp) -> MessageTransition? {
        guard let (abandoned, report) = policy.abandonedUpload(message, reportID: reportID, now: now) else { return nil }
        let detail = EventDetails.uploadAbandoned(received: message.receivedChunks, total: message.totalChunks)
        var effects: [MessageEffect] = [
            .discardChunks, .event("upload_abandoned", detail: detail),
            .audit(AuditRecord(actor: "system", action: "message.upload_abandoned", subject: "message \(message.id)", detail: detail)),
        ]
        if let report { effects.append(.deliverReport(report)) }
        return MessageTransition(abandoned, effects)
    }
}
