import Foundation
import GRDB
import HandoverCore
import HandoverStore
import NIOCore

extension SQLiteStore {
    /// Carries out a transition inside the caller's write transaction: the message's row, then each
    /// effect in order. The PostgreSQL store's `apply` reads the same, effect for effect.
    @discardableResult
    static func apply(
        _ transition: MessageTransition, row: TransitionRow, now: Timestamp, crossingText: CrossingText? = nil, _ db: Database
    ) throws -> MessageRecord {
        var message = transition.message
        if transition.effects.contains(.enterInbox) { message.inboxSequence = try enterInbox(message.recipient, db) }
        switch row {
        case .insert: try message.insert(db, crossingText: crossingText)
        case .update: try message.update(db)
        case .written: break
        }
        for effect in transition.effects {
            switch effect {
            case .enterInbox: break  // taken above: the row carries its position
            case .leaveInbox: try leaveInbox(message.recipient, db)
            case .leaveInboxOf(let mailbox): try leaveInbox(mailbox, db)
            case .readdressed:
                try db.run(
                    sql:
                        "UPDATE messages SET recipient = ?, route_by = ?, route_address = ?, route_service = ?, route_version = ?"
                        + " WHERE message_id = ?",
                    arguments: [
                        message.recipient.rawValue, message.route?.addressedBy.rawValue, message.route?.address, message.route?.service,
                        message.route?.directoryVersion, message.id.rawValue,
                    ])
                try ScorecardRow(message: message)?.upsert(db)
            case .event(let kind, let detail): try addEvent(message.id, kind, detail, now, db)
            case .resolveAlerts(let reason): try resolveClearedAlerts(message, reason: reason, now: now, db)
            case .discardChunks:
                try db.run(
                    sql: "DELETE FROM segments WHERE upload_id IN (SELECT upload_id FROM chunks WHERE message_id = ?)",
                    arguments: [message.id.rawValue])
                try db.run(sql: "DELETE FROM chunks WHERE message_id = ?", arguments: [message.id.rawValue])
            case .audit(let record): try appendAudit(record, now: now, db)
            case .deliverReport(var report):
                report.inboxSequence = try enterInbox(report.recipient, db)
                try report.insert(db)
            case .deliverMessage(let made, let body, let kind, let detail):
                try insertDelivered(made, body: body, now: now, db)
                try addEvent(message.id, kind, detail, now, db)
            }
        }
        return message
    }

    /// Stores a message the broker wrote (business ack, alert, notice) with its body, delivered at once.
    static func insertDelivered(_ made: MessageRecord, body: [UInt8], now: Timestamp, _ db: Database) throws {
        let record = try apply(MessageLifecycle.created(made, firstChunkSize: Int64(body.count), now: now), row: .insert, now: now, db)
        try attach(
            StagedChunk(
                uploadID: made.id.rawValue + "-1", size: Int64(body.count), segmentCount: 1, sha256: sha256Hex(body),
                inlineSegment: ByteBuffer(bytes: body)),
            to: record.id, number: 1, now: now, db)
    }
}
