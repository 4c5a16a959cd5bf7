import HandoverStore
import Logging
import ServiceLifecycle

/// Picks up directory versions saved by another process (`handover routes import`, another broker
/// instance) within about a second. One cheap read per interval.
public struct DirectoryRefresher: Service, Sendable {
    let manager: DirectoryManager
    let interval: Duration
    let logger: Logger

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    if try await manager.refreshIfChanged() {
                        logger.notice("directory reloaded", metadata: ["handover.directory_version": "\(manager.holder.snapshot.version)"])
                    }
                } catch {
                    logger.error("directory refresh failed", metadata: ["handover.error_type": "\(type(of: error))"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
