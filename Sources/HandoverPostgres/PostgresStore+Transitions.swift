import HandoverCore
import HandoverStore
import NIOCore

extension PostgresStore {
    /// Carries out a transition inside the caller's transaction: the message's row, then each effect
    /// in order. The SQLite store's `apply` reads the same, effect for effect.
    @discardableResult
    static func apply(_ transition: MessageTransition, row: TransitionRow, now: Timestamp, _ tx: SQLTransaction) async throws -> MessageRecord {
        var message = transition.message
        if transition.effects.contains(.enterInbox) { message.inboxSequence = try await enterInbox(message.recipient, tx) }
        switch row {
        case .insert: try await message.insert(tx)
        case .update: try await message.update(tx)
        case .written: break
        }
        for effect in transition.effects {
            switch effect {
            case .enterInbox: break  // taken above: the row carries its position
            case .leaveInbox: try await leaveInbox(message.recipient, tx)
            case .leaveInboxOf(let mailbox): try await leaveInbox(mailbox, tx)
            case .readdressed:
                try await tx.execute(
                    "UPDATE messages SET recipient = $1, route_by = $2, route_address = $3, route_service = $4, route_version = $5"
                        + " WHERE message_id = $6",
                    [
                        message.recipient.rawValue, message.route?.addressedBy.rawValue, message.route?.address, message.route?.service,
                        message.route?.directoryVersion, message.id.rawValue,
                    ])
                try await ScorecardRow(message: message)?.upsert(tx)
            case .event(let kind, let detail): try await addEvent(message.id, kind, detail, now, tx)
            case .resolveAlerts(let reason): try await resolveClearedAlerts(message, reason: reason, now: now, tx)
            case .discardChunks:
                try await tx.execute(
                    "DELETE FROM segments WHERE upload_id IN (SELECT upload_id FROM chunks WHERE message_id = $1)", [message.id.rawValue])
                try await tx.execute("DELETE FROM chunks WHERE message_id = $1", [message.id.rawValue])
            case .audit(let record): tx.audit(record, now: now)
            case .deliverReport(var report):
                report.inboxSequence = try await enterInbox(report.recipient, tx)
                try await report.insert(tx)
            case .deliverMessage(let made, let body, let kind, let detail):
                try await insertDelivered(made, body: body, now: now, tx)
                try await addEvent(message.id, kind, detail, now, tx)
            }
        }
        return message
    }

    /// Stores a message the broker wrote (business ack, alert, notice) with its body, delivered at once.
    static func insertDelivered(_ made: MessageRecord, body: [UInt8], now: Timestamp, _ tx: SQLTransaction) async throws {
        let record = try await apply(MessageLifecycle.created(made, firstChunkSize: Int64(body.count), now: now), row: .insert, now: now, tx)
        try await attach(
            StagedChunk(
                uploadID: made.id.rawValue + "-1", size: Int64(body.count), segmentCount: 1, sha256: sha256Hex(body),
                inlineSegment: ByteBuffer(bytes: body)), to: record.id, number: 1, now: now, tx)
    }
}
