import Foundation
import HandoverCore
import HandoverStore
import NIOCore
import Testing

/// A transition that changes a stored message writes every mutable field back (SQLite binds the
/// update's sixteen values one by one, in the order of its SQL), and leaves the fixed ones alone.
@Suite("Message update")
struct MessageUpdateTests {
    let t0 = CivilDateTime(year: 2026, month: 12, day: 3, hour: 6).timestamp

    @Test(arguments: StoreFactory.all)
    func everyMutableFieldIsWrittenBack(factory: StoreFactory) async throws {
        let store = try await factory.make()
        let sent = MessageRecord(
            id: MessageID("UPD1"), sender: MailboxID("ALICE"), recipient: MailboxID("BOB"), workflowID: "WF",
            totalChunks: 2, status: .uploading, createdAt: t0, expirySeconds: 86_400)
        _ = try await store.createMessage(
            sent, firstChunk: StagedChunk(uploadID: "u-upd1", size: 3, segmentCount: 1, sha256: "", inlineSegment: ByteBuffer(bytes: [1, 2, 3])),
            now: t0)
        var responsibility = ResponsibilityRecord()
        responsibility.state = .accepted
        responsibility.decidedBy = Person(name: "Sam Duty", role: "social worker")
        responsibility.decidedAt = t0.adding(seconds: 60)
        responsibility.note = "taken on"
        let decided = responsibility
        let changed = try await store.transform(messageID: sent.id, now: t0.adding(seconds: 90)) { current in
            var m = current
            m.receivedChunks = 2
            m.fileSize = 4_321
            m.status = .acknowledged
            m.statusEvent = StatusEvent(code: "00", event: "ACCEPTED", description: "taken", success: false, at: t0.adding(seconds: 5))
            m.deliveredAt = t0.adding(seconds: 10)
            m.acknowledgedAt = t0.adding(seconds: 20)
            m.expiresAt = t0.adding(seconds: 30)
            m.inboxSequence = 77
            m.responsibility = decided
            m.downloadedAt = t0.adding(seconds: 40)
            return MessageTransition(m)
        }
        let stored = try #require(try await store.message(sent.id))
        #expect(stored == changed)
        #expect(stored.receivedChunks == 2 && stored.fileSize == 4_321 && stored.status == .acknowledged)
        #expect(stored.statusEvent == StatusEvent(code: "00", event: "ACCEPTED", description: "taken", success: false, at: t0.adding(seconds: 5)))
        #expect(stored.deliveredAt == t0.adding(seconds: 10) && stored.acknowledgedAt == t0.adding(seconds: 20))
        #expect(stored.expiresAt == t0.adding(seconds: 30) && stored.inboxSequence == 77 && stored.downloadedAt == t0.adding(seconds: 40))
        #expect(stored.responsibility == responsibility)
        // The fixed fields are the send's.
        #expect(stored.sender == sent.sender && stored.recipient == sent.recipient && stored.createdAt == t0 && stored.totalChunks == 2)
    }
}
