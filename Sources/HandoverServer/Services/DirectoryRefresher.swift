import HandoverStore
import Logging
import ServiceLifecycle

/// Picks up directory versions saved by another process (`handover routes import`, another broker
/// instance). On PostgreSQL a LISTEN/NOTIFY feed brings each change at once; the one cheap read per
/// interval stays as the fallback (SQLite, or while the feed reconnects).
public struct DirectoryRefresher: Service, Sendable {
    let manager: DirectoryManager
    let interval: Duration
    let feed: (any DirectoryChangeFeed)?
    let logger: Logger
    let wake = WakeSignal()

    public init(manager: DirectoryManager, interval: Duration, feed: (any DirectoryChangeFeed)? = nil, logger: Logger) {
        (self.manager, self.interval, self.feed, self.logger) = (manager, interval, feed, logger)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                if let feed {
                    group.addTask { await listen(feed) }
                }
                group.addTask { await refreshLoop() }
                await group.next()
                group.cancelAll()
            }
        }
    }

    private func refreshLoop() async {
        while !Task.isCancelled {
            do {
                if try await manager.refreshIfChanged() {
                    logger.notice("directory reloaded", metadata: ["handover.directory_version": "\(manager.holder.snapshot.version)"])
                }
            } catch {
                logger.error("directory refresh failed", metadata: ["handover.error_type": "\(type(of: error))"])
            }
            await wake.wait(upTo: interval)
        }
    }

    /// Keeps the change feed open, reconnecting after a second if it drops.
    private func listen(_ feed: any DirectoryChangeFeed) async {
        while !Task.isCancelled {
            do {
                try await feed.watchDirectoryChanges { wake.signal() }
            } catch {
                logger.warning("directory change feed lost; polling until it returns", metadata: ["handover.error_type": "\(type(of: error))"])
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }
}

extension DirectoryRefresher: CustomStringConvertible {
    /// Service-lifecycle logs name a service by its description; the default would print every
    /// stored property, the environment with its secrets included.
    public var description: String { "DirectoryRefresher" }
}
