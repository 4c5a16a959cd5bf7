import HandoverCore
import Testing

@Suite("Message lifecycle and expiry")
struct MessageLifecycleTests {
    let t0 = CivilDateTime(year: 2026, month: 11, day: 25, hour: 12).timestamp

    func message(total: Int) -> MessageRecord {
        MessageRecord(id: MessageID("M1"), sender: MailboxID("A"), recipient: MailboxID("B"), workflowID: "WF",
                      subject: "s", localID: "l", totalChunks: total, status: .uploading, createdAt: t0)
    }

    @Test func singleChunkIsDeliveredAtOnce() {
        let m = MessageLifecycle.created(message(total: 1), firstChunkSize: 10, now: t0)
        #expect(m.status == .accepted)
        #expect(m.deliveredAt == t0)
        #expect(m.expiresAt == t0.adding(seconds: 5 * 86_400))
        #expect(m.statusEvent?.code == "00")
    }

    @Test func chunkedIsDeliveredWhenEveryChunkIsInWhateverTheOrder() throws {
        var m = MessageLifecycle.created(message(total: 3), firstChunkSize: 5, now: t0)
        #expect(m.status == .uploading)
        m = try MessageLifecycle.addingChunk(m, number: 3, total: 3, encoding: .identity, size: 2, replacing: nil, now: t0).get()
        #expect(m.status == .uploading)
        // A retried chunk replaces its bytes and is not counted twice.
        m = try MessageLifecycle.addingChunk(m, number: 3, total: 3, encoding: .identity, size: 3, replacing: 2, now: t0).get()
        #expect(m.receivedChunks == 2 && m.fileSize == 8)
        m = try MessageLifecycle.addingChunk(m, number: 2, total: 3, encoding: .identity, size: 5, replacing: nil, now: t0).get()
        #expect(m.status == .accepted && m.fileSize == 13)
    }

    @Test func chunkErrors() {
        let m = MessageLifecycle.created(message(total: 2), firstChunkSize: 5, now: t0)
        func add(_ n: Int, _ total: Int, _ enc: ContentEncoding = .identity, to msg: MessageRecord) -> MeshError? {
            if case .failure(let e) = MessageLifecycle.addingChunk(msg, number: n, total: total, encoding: enc, size: 1, replacing: nil, now: t0) { return e }
            return nil
        }
        #expect(add(2, 3, to: m)?.code == "InvalidHeaderChunks")
        #expect(add(3, 2, to: m)?.statusCode == 406)
        #expect(add(1, 2, to: m)?.statusCode == 406)
        #expect(add(2, 2, .gzip, to: m)?.message == "cannot change content encoding")
        let delivered = MessageLifecycle.delivered(m, now: t0)
        #expect(add(2, 2, to: delivered)?.statusCode == 423)
        #expect(add(2, 2, to: m)?.messageID == nil)
    }

    @Test func acknowledgementIsIdempotent() throws {
        let m = MessageLifecycle.created(message(total: 1), firstChunkSize: 1, now: t0)
        let acked = try #require(MessageLifecycle.acknowledged(m, now: t0.adding(seconds: 5)))
        #expect(acked.status == .acknowledged && acked.acknowledgedAt == t0.adding(seconds: 5))
        #expect(MessageLifecycle.acknowledged(acked, now: t0) == nil)
    }

    @Test func expiryMakesAnErrorAndANonDeliveryReport() throws {
        var m = MessageLifecycle.created(message(total: 1), firstChunkSize: 1, now: t0)
        m.route = RouteTaken(addressedBy: .mailbox, address: "B", directoryVersion: 3)
        let policy = ExpiryPolicy()
        let later = t0.adding(seconds: 5 * 86_400 + 1)
        let expired = try #require(MessageLifecycle.expired(m, policy: policy, now: later))
        #expect(expired.status == .error)
        #expect(expired.statusEvent == StatusEvent(code: "14", event: "SEND", description: "Message not collected by recipient after 5 days", success: false, at: later))
        let report = try #require(policy.nonDeliveryReport(for: m, reportID: MessageID("R1"), now: later))
        #expect(report.type == .report && report.recipient == MailboxID("A") && report.sender == nil)
        #expect(report.mexTo == "B")
        #expect(report.linkedMessageID == MessageID("M1") && report.localID == "l" && report.subject == "NDR: s")
        #expect(report.totalChunks == 0 && report.status == .accepted)
        // A report is never itself reported.
        #expect(policy.nonDeliveryReport(for: report, reportID: MessageID("R2"), now: later) == nil)
        #expect(MessageLifecycle.expired(expired, policy: policy, now: later) == nil)
    }
}
