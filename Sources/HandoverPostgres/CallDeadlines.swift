import Synchronization

/// The deadlines of the store's calls in flight, watched by one task. A timer task for every call
/// (created, its sleep registered with the clock, then cancelled when the call answered) was about
/// 5 % of the broker's CPU in a profile of full cycles on PostgreSQL, which makes several calls a
/// request. A call can now overrun its limit by one `tick` at most.
final class CallDeadlines: Sendable {
    private struct Call {
        let deadline: ContinuousClock.Instant
        let expire: @Sendable () -> Void
    }
    private struct State {
        var calls: [Int: Call] = [:]
        var nextID = 0
        var stopped = false
    }
    private let state = Mutex(State())
    let tick: Duration

    /// Checks every twentieth of `limit`, at least every 10 ms and at most every 250 ms.
    init(limit: Duration) {
        tick = min(max(limit / 20, .milliseconds(10)), .milliseconds(250))
    }

    /// Watches a call: `expire` runs once `limit` has passed, unless `forget` came first. Once the
    /// watcher has stopped (the store closed) it runs at once.
    func watch(for limit: Duration, expire: @escaping @Sendable () -> Void) -> Int? {
        let id: Int? = state.withLock { s in
            guard !s.stopped else { return nil }
            s.nextID += 1
            s.calls[s.nextID] = Call(deadline: .now + limit, expire: expire)
            return s.nextID
        }
        if id == nil { expire() }
        return id
    }

    func forget(_ id: Int) { _ = state.withLock { $0.calls.removeValue(forKey: id) } }

    var watching: Int { state.withLock { $0.calls.count } }

    /// Expires the calls past their deadline at `now`.
    func expireDue(at now: ContinuousClock.Instant = .now) {
        let due: [Call] = state.withLock { s in
            let ids = s.calls.filter { $0.value.deadline <= now }.map(\.key)
            return ids.compactMap { s.calls.removeValue(forKey: $0) }
        }
        for call in due { call.expire() }
    }

    /// Expires due calls every `tick` until cancelled; then expires every call still watched, and
    /// any later one at once, so nothing waits on a store that has closed.
    func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: tick)
            expireDue()
        }
        let left: [Call] = state.withLock { s in
            s.stopped = true
            defer { s.calls = [:] }
            return Array(s.calls.values)
        }
        for call in left { call.expire() }
    }
}
