import HandoverCore
import Testing

@Suite("Message lifecycle and expiry")
struct MessageLifecycleTests {
    let t0 = CivilDateTime(year: 2026, month: 11, day: 25, hour: 12).timestamp

    func message(total: Int) -> MessageRecord {
        MessageRecord(
            id: MessageID("M1"), sender: MailboxID("A"), recipient: MailboxID("B"), workflowID: "WF",
            subject: "s", localID: "l", totalChunks: total, status: .uploading, createdAt: t0)
    }

    @Test func singleChunkIsDeliveredAtOnce() {
        let t = MessageLifecycle.created(message(total: 1), firstChunkSize: 10, now: t0)
        #expect(t.message.status == .accepted)
        #expect(t.message.deliveredAt == t0)
        #expect(t.message.expiresAt == t0.adding(seconds: 5 * 86_400))
        #expect(t.message.statusEvent?.code == "00")
        #expect(t.effects == [.enterInbox, .event("delivered")])
    }

    @Test func aDeliveryCompanionIsDeliveredWithTheMessageAndNamedOnItsTimeline() throws {
        let ack = MessageRecord(
            id: MessageID("ACK1"), sender: MailboxID("B"), recipient: MailboxID("A"), workflowID: "WF_ACK",
            subject: nil, localID: nil, totalChunks: 1, status: .uploading, createdAt: t0)
        let t = MessageLifecycle.created(message(total: 1), firstChunkSize: 10, now: t0) { delivered in
            delivered.status == .accepted ? (ack, [1, 2, 3]) : nil
        }
        #expect(
            t.effects == [
                .enterInbox, .event("delivered"),
                .deliverMessage(ack, body: [1, 2, 3], announcedAs: "delivery_ack_sent", detail: EventDetails.deliveryAckSent(ack.id)),
            ])
        // A message still uploading has no companion yet.
        #expect(MessageLifecycle.created(message(total: 2), firstChunkSize: 10, now: t0) { _ in (ack, []) }.effects == [])
    }

    @Test func chunkedIsDeliveredWhenEveryChunkIsInWhateverTheOrder() throws {
        var t = MessageLifecycle.created(message(total: 3), firstChunkSize: 5, now: t0)
        #expect(t.message.status == .uploading && t.effects.isEmpty)
        t = try MessageLifecycle.addingChunk(t.message, number: 3, total: 3, encoding: .identity, size: 2, replacing: nil, now: t0).get()
        #expect(t.message.status == .uploading && t.effects.isEmpty)
        // A retried chunk replaces its bytes and is not counted twice.
        t = try MessageLifecycle.addingChunk(t.message, number: 3, total: 3, encoding: .identity, size: 3, replacing: 2, now: t0).get()
        #expect(t.message.receivedChunks == 2 && t.message.fileSize == 8)
        t = try MessageLifecycle.addingChunk(t.message, number: 2, total: 3, encoding: .identity, size: 5, replacing: nil, now: t0).get()
        #expect(t.message.status == .accepted && t.message.fileSize == 13)
        #expect(t.effects == MessageLifecycle.plainDelivery)
    }

    @Test func chunkErrors() {
        let m = MessageLifecycle.created(message(total: 2), firstChunkSize: 5, now: t0).message
        func add(_ n: Int, _ total: Int, _ enc: ContentEncoding = .identity, to msg: MessageRecord) -> MeshError? {
            if case .failure(let e) = MessageLifecycle.addingChunk(msg, number: n, total: total, encoding: enc, size: 1, replacing: nil, now: t0) {
                return e
            }
            return nil
        }
        #expect(add(2, 3, to: m)?.code == "InvalidHeaderChunks")
        #expect(add(3, 2, to: m)?.statusCode == 406)
        #expect(add(1, 2, to: m)?.statusCode == 406)
        #expect(add(2, 2, .gzip, to: m)?.message == "cannot change content encoding")
        let delivered = MessageLifecycle.delivered(m, now: t0).message
        #expect(add(2, 2, to: delivered)?.statusCode == 423)
        #expect(add(2, 2, to: m)?.messageID == nil)
    }

    @Test func aFirstDownloadIsOnTheTimelineAndEndsAlertsItSatisfies() {
        let m = MessageLifecycle.created(message(total: 1), firstChunkSize: 1, now: t0).message
        let t = MessageLifecycle.downloaded(m, now: t0.adding(seconds: 9))
        #expect(t.message.downloadedAt == t0.adding(seconds: 9))
        #expect(t.effects == [.event("downloaded"), .resolveAlerts(reason: "downloaded")])
    }

    @Test func acknowledgementIsIdempotent() throws {
        let m = MessageLifecycle.created(message(total: 1), firstChunkSize: 1, now: t0).message
        let acked = try #require(MessageLifecycle.acknowledged(m, now: t0.adding(seconds: 5)))
        #expect(acked.message.status == .acknowledged && acked.message.acknowledgedAt == t0.adding(seconds: 5))
        #expect(acked.effects == [.leaveInbox, .event("acknowledged"), .resolveAlerts(reason: "acknowledged")])
        #expect(MessageLifecycle.acknowledged(acked.message, now: t0) == nil)
    }

    @Test func expiryMakesAnErrorAndANonDeliveryReport() throws {
        var m = MessageLifecycle.created(message(total: 1), firstChunkSize: 1, now: t0).message
        m.route = RouteTaken(addressedBy: .mailbox, address: "B", directoryVersion: 3)
        let policy = ExpiryPolicy()
        let later = t0.adding(seconds: 5 * 86_400 + 1)
        let expired = try #require(MessageLifecycle.expired(m, policy: policy, reportID: MessageID("R1"), now: later))
        #expect(expired.message.status == .error)
        #expect(
            expired.message.statusEvent
                == StatusEvent(
                    code: "14", event: "SEND", description: "Message not collected by recipient after 5 days",
                    success: false, at: later))
        let report = try #require(policy.nonDeliveryReport(for: m, reportID: MessageID("R1"), now: later))
        #expect(expired.effects == [.leaveInbox, .event("expired", detail: "{\"code\":\"14\"}"), .deliverReport(report)])
        #expect(report.type == .report && report.recipient == MailboxID("A") && report.sender == nil)
        #expect(report.mexTo == "B")
        #expect(report.linkedMessageID == MessageID("M1") && report.localID == "l" && report.subject == "NDR: s")
        #expect(report.totalChunks == 0 && report.status == .accepted)
        // A report is never itself reported.
        #expect(policy.nonDeliveryReport(for: report, reportID: MessageID("R2"), now: later) == nil)
        #expect(MessageLifecycle.expired(expired.message, policy: policy, reportID: MessageID("R3"), now: later) == nil)
    }

    /// A message its sender withdrew (or replaced) expires like any other, but its sender, who closed
    /// it, gets no non-delivery report.
    @Test func aMessageClosedByItsSenderExpiresWithoutAReport() throws {
        var m = MessageLifecycle.created(message(total: 1), firstChunkSize: 1, now: t0).message
        let later = t0.adding(seconds: 5 * 86_400 + 1)
        for state in [ResponsibilityState.withdrawn, .amended] {
            var record = ResponsibilityRecord()
            record.state = state
            m.responsibility = record
            let expired = try #require(MessageLifecycle.expired(m, policy: ExpiryPolicy(), reportID: MessageID("R1"), now: later))
            #expect(expired.message.status == .error)
            #expect(!expired.effects.contains { if case .deliverReport = $0 { true } else { false } }, "\(state)")
        }
        m.responsibility = ResponsibilityRecord()
        let pending = try #require(MessageLifecycle.expired(m, policy: ExpiryPolicy(), reportID: MessageID("R1"), now: later))
        #expect(pending.effects.contains { if case .deliverReport = $0 { true } else { false } })
    }

    @Test func anAbandonedUploadDiscardsItsChunksAndTellsTheSender() throws {
        let uploading = MessageLifecycle.created(message(total: 3), firstChunkSize: 5, now: t0).message
        let later = t0.adding(seconds: 25 * 3600)
        let t = try #require(MessageLifecycle.abandoned(uploading, policy: ExpiryPolicy(), reportID: MessageID("R1"), now: later))
        #expect(t.message.status == .error && t.message.statusEvent?.code == HandoverErrorCode.uploadIncomplete.rawValue)
        let detail = EventDetails.uploadAbandoned(received: 1, total: 3)
        guard case .deliverReport(let report) = t.effects.last else {
            Issue.record("no report to the sender")
            return
        }
        #expect(report.recipient == MailboxID("A") && report.linkedMessageID == MessageID("M1"))
        #expect(
            Array(t.effects.dropLast()) == [
                .discardChunks, .event("upload_abandoned", detail: detail),
                .audit(AuditRecord(actor: "system", action: "message.upload_abandoned", subject: "message M1", detail: detail)),
            ])
        #expect(MessageLifecycle.abandoned(t.message, policy: ExpiryPolicy(), reportID: MessageID("R2"), now: later) == nil)
    }

    @Test func aDecisionIsOnTheTimelineAcknowledgedToTheSenderAndEndsAlerts() throws {
        let m = MessageLifecycle.created(message(total: 1), firstChunkSize: 1, now: t0).message
        let record = try ResponsibilityMachine.decide(
            ResponsibilityRecord(), decision: .accept, by: Person(name: "Sam"), note: nil,
            downloaded: true, now: t0
        ).get()
        let ack = MessageRecord(
            id: MessageID("ACK"), sender: MailboxID("B"), recipient: MailboxID("A"), workflowID: "WF_ACK",
            subject: nil, localID: nil, totalChunks: 1, status: .uploading, createdAt: t0)
        let t = ResponsibilityMachine.applied(record, to: m, event: "responsibility_accepted") { message, decided in
            message.responsibility == decided ? (ack, [7]) : nil
        }
        #expect(t.message.responsibility == record)
        #expect(
            t.effects == [
                .event("responsibility_accepted", detail: EventDetails.responsibility(record, event: "responsibility_accepted")),
                .deliverMessage(ack, body: [7], announcedAs: "business_ack_sent", detail: EventDetails.businessAckSent(ack.id)),
                .resolveAlerts(reason: "responsibility_accepted"),
            ])
        let silent = ResponsibilityMachine.applied(record, to: m, event: "outcome") { _, _ in nil }
        #expect(silent.effects.count == 2)
    }
}
