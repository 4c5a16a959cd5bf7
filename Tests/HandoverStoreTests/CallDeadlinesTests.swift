import Synchronization
import Testing

@testable import HandoverPostgres

@Suite("PostgreSQL call deadlines, watched by one task")
struct CallDeadlinesTests {
    final class Expiries: Sendable {
        let count = Atomic(0)
        func expire() { count.add(1, ordering: .relaxed) }
        var value: Int { count.load(ordering: .relaxed) }
    }

    @Test func aCallExpiresOnceItsLimitHasPassedAndNotBefore() throws {
        let deadlines = CallDeadlines(limit: .seconds(10))
        let expiries = Expiries()
        let start = ContinuousClock.now
        _ = try #require(deadlines.watch(for: .seconds(10), expire: expiries.expire))
        deadlines.expireDue(at: start + .seconds(9))
        #expect(expiries.value == 0 && deadlines.watching == 1)
        deadlines.expireDue(at: start + .seconds(11))
        deadlines.expireDue(at: start + .seconds(12))
        #expect(expiries.value == 1, "expired once")
        #expect(deadlines.watching == 0)
    }

    @Test func aCallThatAnsweredIsForgotten() throws {
        let deadlines = CallDeadlines(limit: .seconds(10))
        let expiries = Expiries()
        let id = try #require(deadlines.watch(for: .seconds(1), expire: expiries.expire))
        deadlines.forget(id)
        deadlines.expireDue(at: .now + .seconds(5))
        #expect(expiries.value == 0 && deadlines.watching == 0)
    }

    @Test func theTickFollowsTheLimitWithinBounds() {
        #expect(CallDeadlines(limit: .seconds(10)).tick == .milliseconds(250))
        #expect(CallDeadlines(limit: .seconds(2)).tick == .milliseconds(100))
        #expect(CallDeadlines(limit: .milliseconds(50)).tick == .milliseconds(10))
    }

    /// Waits on the expiry itself, not a clock: under the whole suite's parallel load the watcher
    /// may not run for many seconds (a deadline is a bound on waiting, not a promise of punctuality).
    @Test(.timeLimit(.minutes(2))) func theWatcherExpiresDueCallsAndEverythingWhenItStops() async throws {
        let deadlines = CallDeadlines(limit: .milliseconds(200))
        let long = Expiries()
        let (expired, signal) = AsyncStream<Void>.makeStream()
        let watcher = Task { await deadlines.run() }
        _ = deadlines.watch(for: .milliseconds(50)) { signal.yield() }
        _ = deadlines.watch(for: .seconds(600), expire: long.expire)
        var iterator = expired.makeAsyncIterator()
        #expect(await iterator.next() != nil, "the running watcher expired the due call")
        #expect(long.value == 0 && deadlines.watching == 1, "and only that one")
        watcher.cancel()
        await watcher.value
        #expect(long.value == 1, "a stopped watcher leaves no call waiting")
        let late = Expiries()
        #expect(deadlines.watch(for: .seconds(600), expire: late.expire) == nil)
        #expect(late.value == 1, "a call after the store closed expires at once")
    }
}
