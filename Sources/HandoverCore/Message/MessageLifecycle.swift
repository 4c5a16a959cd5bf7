/// The message state machine (reference §5.2), as pure functions the stores call inside their
/// transactions, so every backend makes the same decisions.
///
///     send(total=1) ─────────────► accepted ──ack──► acknowledged
///     send(total=N) ─► uploading ─(all N chunks)─► accepted
///     accepted ──(expiry)──► error + REPORT(14) to the sender
public enum MessageLifecycle {
    /// A new message after its first chunk: delivered at once if it has one chunk.
    public static func created(_ message: MessageRecord, firstChunkSize: Int64, now: Timestamp) -> MessageRecord {
        var m = message
        m.receivedChunks = 1
        m.fileSize = firstChunkSize
        m.status = .uploading
        return m.totalChunks == 1 ? delivered(m, now: now) : m
    }

    /// Accepts chunk `number` of `total`. `replacing` is true when that chunk was stored before (a client
    /// retry): its bytes are replaced and it is not counted twice. Delivers when every chunk is in,
    /// whatever order they came in.
    public static func addingChunk(
        _ message: MessageRecord, number: Int, total: Int, encoding: ContentEncoding,
        size: Int64, replacing previousSize: Int64?, now: Timestamp
    ) -> Result<MessageRecord, MeshError> {
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
        return .success(m.receivedChunks == m.totalChunks ? delivered(m, now: now) : m)
    }

    /// Into the recipient's inbox. The store assigns `inboxSequence`.
    public static func delivered(_ message: MessageRecord, now: Timestamp) -> MessageRecord {
        var m = message
        m.status = .accepted
        m.statusEvent = m.statusEvent ?? .transferred(at: now)
        m.deliveredAt = now
        m.expiresAt = now.adding(seconds: m.expirySeconds)
        return m
    }

    /// Acknowledgement is idempotent: only an `accepted` message changes.
    public static func acknowledged(_ message: MessageRecord, now: Timestamp) -> MessageRecord? {
        guard message.status == .accepted else { return nil }
        var m = message
        m.status = .acknowledged
        m.acknowledgedAt = now
        return m
    }

    /// An expired message: `error` with the not-collected event.
    public static func expired(_ message: MessageRecord, policy: ExpiryPolicy, now: Timestamp) -> MessageRecord? {
        guard message.status == .accepted else { return nil }
        var m = message
        m.status = .error
        m.statusEvent = policy.expiredEvent(for: message, now: now)
        return m
    }
}
