import HandoverHTTP
import HandoverStore
import Logging
import ServiceLifecycle
import Synchronization

/// Probes the database every few seconds, so an operator's log says when it was lost and when it came
/// back (once each, at notice level), and `/metrics` says whether it answers (`handover_store_up`).
public final class StoreWatch: Service, Sendable, CustomStringConvertible {
    let store: any BrokerStore
    let metrics: BrokerMetrics
    let logger: Logger
    let interval: Duration
    let wasUp = Mutex(true)

    public init(store: any BrokerStore, metrics: BrokerMetrics, logger: Logger, interval: Duration = .seconds(5)) {
        (self.store, self.metrics, self.logger, self.interval) = (store, metrics, logger, interval)
    }

    public var description: String { "StoreWatch" }

    /// One probe; returns whether the store answered.
    @discardableResult
    public func probe() async -> Bool {
        let up = await StoreProbe.answers(store, within: .seconds(3))
        metrics.storeUp(up)
        let changed = wasUp.withLock { was in
            defer { was = up }
            return was != up
        }
        if changed {
            if up {
                logger.notice("database restored: requests are served again")
            } else {
                logger.notice("database lost: requests that need it get 503 until it answers again")
            }
        }
        return up
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.probe()
                try await Task.sleep(for: self.interval)
            }
        }
    }
}
