import Foundation
import HandoverCore
import HandoverServer
import HandoverTestSupport
import Testing

/// The wall clock stepped back and forward by an hour while messages are in flight.
@Suite("A wall clock stepped by an hour")
struct ClockStepTests {
    // A Wednesday morning, so the 4h stage falls in plain elapsed time.
    let start = CivilDateTime(year: 2026, month: 11, day: 25, hour: 9, minute: 30).timestamp

    @Test func messageIdsStayUniqueAndInOrder() async throws {
        let broker = try await TestBroker(start: start)
        try await MeshHarness.run(broker) { h in
            var ids: [String] = []
            for step: Int64 in [0, -3600, 7200, -3600] {
                broker.clock.advance(seconds: step)
                for _ in 0..<5 { ids.append(try await h.send()) }
            }
            #expect(Set(ids).count == ids.count && ids == ids.sorted(), "\(ids)")
            #expect(try await h.inbox().count == ids.count)
        }
    }

    @Test func aTokenForgottenWhileTheClockRanAheadIsStillRefusedOnceItIsCorrected() async throws {
        let broker = try await TestBroker(start: start)
        try await MeshHarness.run(broker) { h in
            // Dated 90 minutes ago: inside MESH's two-hour window, so it stays replayable for 32 more minutes.
            let old = MeshTokenFactory.header(
                mailbox: "ALICE", password: "alice-secret", sharedKey: TestBroker.sharedKey,
                now: broker.clock.now.adding(seconds: -90 * 60))
            #expect(try await h.call(.get, "/messageexchange/ALICE/inbox", authorization: old).status == .ok)
            broker.clock.advance(seconds: 3600)
            #expect(try await h.call(.get, "/messageexchange/ALICE/inbox", as: "ALICE").status == .ok)
            #expect(try await h.call(.get, "/messageexchange/ALICE/inbox", authorization: old).status == .forbidden, "outside the window while ahead")
            broker.clock.advance(seconds: -3600)
            let replay = try await h.call(.get, "/messageexchange/ALICE/inbox", authorization: old)
            #expect(replay.status == .forbidden, "a spent token accepted again after the clock was corrected")
        }
    }

    @Test func deadlinesFireOnceAndExpiryReportsOnceWhicheverWayTheClockSteps() async throws {
        let broker = try await TestBroker(routesYAML: escalationRoutes(), environment: escalationEnvironment, start: start)
        let scheduler = broker.parts.scheduler
        try await MeshHarness.run(broker) { h in
            let safe = try await h.send(workflow: "SAFE")
            let expiring = try await h.send(workflow: "WF")
            try await scheduler.tick(now: broker.clock.now)
            var raised: [String] = []
            var expired = 0
            // Back an hour, forward five (past the 4h deadline and the 1h expiry), back one, forward one.
            for step: Int64 in [-3600, 5 * 3600, -3600, 3600] {
                broker.clock.advance(seconds: step)
                raised += try await scheduler.tick(now: broker.clock.now).raised
                expired += try await broker.parts.sweeper.sweepOnce()
            }
            #expect(raised.count == 1, "raised \(raised.count) alerts for one stage")
            let alert = try #require(try await broker.parts.store.alerts(messageID: MessageID(safe)).first)
            #expect(alert.raisedAt >= alert.dueAt && alert.dueAt == start.adding(seconds: 4 * 3600))
            #expect(expired == 1, "expired \(expired) times")
            #expect(try await broker.parts.store.message(MessageID(expiring))?.status == .error, "expired messages are in error (not collected)")
            let reports = try await h.inbox("ALICE")
            var nonDelivery = 0
            for id in reports {
                let r = try await h.call(.get, "/messageexchange/ALICE/inbox/\(id)", as: "ALICE")
                if r.header("mex-messagetype") == "REPORT" { nonDelivery += 1 }
            }
            #expect(nonDelivery == 1, "\(nonDelivery) non-delivery reports")
        }
    }
}
