import HandoverStore
import Logging
import ServiceLifecycle

/// The store's lifetime under the service group: its maintenance (WAL checkpoints, audit sealing)
/// runs until graceful shutdown, then the store closes. It is the first service, so the service
/// group stops it last, after the listener and every service that writes.
public struct StoreService: Service, CustomStringConvertible {
    let store: any BrokerStore
    let logger: Logger

    public init(store: any BrokerStore, logger: Logger) { (self.store, self.logger) = (store, logger) }

    public var description: String { "StoreService" }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await store.runMaintenance() }
        logger.notice("stopped: closing the store")
        await store.close()
    }
}
