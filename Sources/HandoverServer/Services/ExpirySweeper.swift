import HandoverCore
import HandoverStore
import Logging
import ServiceLifecycle

/// Expires messages nobody acknowledged in time (NDR code 14 to the sender), purges payloads 30 days
/// after delivery and removes segments of aborted uploads. Each pass is bounded, and a pass that
/// found a full batch runs again at once, so a backlog drains without one huge transaction.
public struct ExpirySweeper: Service, Sendable {
    let store: any MessageStore
    let policy: ExpiryPolicy
    let subjectHasher: CrossingSubjectHasher
    let interval: Duration
    let clock: @Sendable () -> Timestamp
    let logger: Logger
    static let batch = 500

    public init(
        store: any MessageStore, policy: ExpiryPolicy, subjectHasher: CrossingSubjectHasher, interval: Duration,
        clock: @escaping @Sendable () -> Timestamp, logger: Logger
    ) {
        (self.store, self.policy, self.subjectHasher, self.interval, self.clock, self.logger) = (
            store, policy, subjectHasher, interval, clock, logger
        )
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    while try await sweepOnce() == Self.batch, !Task.isCancelled {}
                } catch {
                    logger.error("expiry sweep failed", metadata: ["handover.error_type": "\(type(of: error))"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }

    /// One bounded pass; returns how many messages expired.
    @discardableResult
    public func sweepOnce() async throws -> Int {
        let now = clock()
        let expired = try await store.expireDue(now: now, policy: policy, limit: Self.batch)
        let purged = try await store.purgePayloads(deliveredBefore: now.adding(seconds: -policy.purgeAfterSeconds), limit: Self.batch, now: now)
        let abandoned = try await store.discardAbandonedUploads(stagedBefore: now.adding(seconds: -policy.uploadTimeoutSeconds))
        let incomplete = try await store.abandonIncompleteUploads(now: now, policy: policy, limit: Self.batch)
        let hasher = subjectHasher
        let reduced = try await store.reduceCrossingSubjects(
            closedBefore: now.adding(seconds: -policy.subjectRetentionSeconds), limit: Self.batch,
            now: now, reduce: { hasher.reduced($0) })
        if let replayCache = store as? any SharedReplayCache { _ = try await replayCache.forgetExpiredTokens(now: now) }
        if expired + purged + abandoned + incomplete + reduced > 0 {
            logger.info(
                "expiry sweep",
                metadata: [
                    "handover.expired": "\(expired)", "handover.purged": "\(purged)", "handover.abandoned_segments": "\(abandoned)",
                    "handover.abandoned_uploads": "\(incomplete)", "handover.subjects_reduced": "\(reduced)",
                ])
        }
        return expired
    }
}

extension ExpirySweeper: CustomStringConvertible {
    /// Service-lifecycle logs name a service by its description; the default would print every
    /// stored property, the environment with its secrets included.
    public var description: String { "ExpirySweeper" }
}
