import HandoverCore
import HandoverTestSupport
import Testing

@Suite("Limits that protect the service")
struct RateLimitTests {
    @Test func limiterRefillsAndKeepsMailboxesApart() {
        var limiter = RateLimiter<MailboxID>(ratePerSecond: 2, burst: 3)
        let t0 = Timestamp(secondsSinceEpoch: 1_000)
        let a = MailboxID("A"), b = MailboxID("B")
        for _ in 0..<3 { #expect(limiter.admit(a, now: t0) == nil) }
        #expect(limiter.admit(a, now: t0) == 1)
        #expect(limiter.admit(b, now: t0) == nil)
        #expect(limiter.admit(a, now: t0.adding(seconds: 1)) == nil)
        var unlimited = RateLimiter<MailboxID>(ratePerSecond: 0, burst: 1)
        for _ in 0..<100 { #expect(unlimited.admit(a, now: t0) == nil) }
    }

    @Test func aFloodFromOneMailboxIs429AndSlowsNoOther() async throws {
        let broker = try await TestBroker(ratePerSecond: 1, rateBurst: 5)
        try await MeshHarness.run(broker) { h in
            var statuses: [UInt] = []
            for _ in 0..<8 { statuses.append(UInt(try await h.call(.get, "/messageexchange/ALICE/inbox", as: "ALICE").status.code)) }
            #expect(statuses.prefix(5).allSatisfy { $0 == 200 } && statuses.suffix(3).allSatisfy { $0 == 429 })
            let limited = try await h.call(.get, "/messageexchange/ALICE/count", as: "ALICE")
            #expect(limited.status == .tooManyRequests && limited.header("retry-after") == "1")
            #expect(try await h.call(.get, "/messageexchange/BOB/inbox", as: "BOB").status == .ok)
            broker.clock.advance(seconds: 2)
            #expect(try await h.call(.get, "/messageexchange/ALICE/inbox", as: "ALICE").status == .ok)
        }
    }
}
