import Foundation
import HandoverCore
import HandoverStore
import Logging
import ServiceLifecycle

/// Raises escalation alerts when their deadlines fall due. Deadlines live in the store, so a restart
/// loses none, and one that fell due while the broker was down is raised when it returns. Between
/// passes it sleeps until the next deadline or repeat (at most `maxSleep`), or until a delivery wakes it.
public struct EscalationScheduler: Service, Sendable {
    let store: any EscalationStore
    let directory: DirectoryHolder
    let clock: @Sendable () -> Timestamp
    let logger: Logger
    public let wake: WakeSignal
    let afterRaise: @Sendable () -> Void
    let onRaised: @Sendable (Alert) -> Void
    let maxSleep: Duration

    public init(
        store: any EscalationStore, directory: DirectoryHolder, clock: @escaping @Sendable () -> Timestamp, logger: Logger,
        wake: WakeSignal = WakeSignal(), maxSleep: Duration = .seconds(30), afterRaise: @escaping @Sendable () -> Void = {},
        onRaised: @escaping @Sendable (Alert) -> Void = { _ in }
    ) {
        (self.store, self.directory, self.clock, self.logger, self.wake, self.maxSleep, self.afterRaise, self.onRaised) =
            (store, directory, clock, logger, wake, maxSleep, afterRaise, onRaised)
    }

    public struct TickResult: Equatable, Sendable {
        public var planned = 0
        public var raised: [String] = []
        public var renotified = 0
        /// Acknowledgement and resolution notices sent.
        public var notices = 0
    }

    /// One pass at `now`: plan new deliveries' deadlines, raise due alerts, repeat due notifications.
    @discardableResult
    public func tick(now: Timestamp) async throws -> TickResult {
        let planner = AlertPlanner(
            index: directory.snapshot, newID: { UUID().uuidString.lowercased() },
            newMessageID: { MessageIDGenerator.shared.next(now: $0) })
        var result = TickResult()
        repeat {
            let n = try await store.planDeadlines(limit: 500) { planner.deadlines(for: $0) }
            result.planned += n
            if n < 500 { break }
        } while true
        repeat {
            let alerts = try await store.fireDueDeadlines(now: now, limit: 200) { message, stage, due in
                planner.raise(message: message, stage: stage, dueAt: due, now: now)
            }
            result.raised += alerts.map(\.id)
            for alert in alerts {
                onRaised(alert)
                logger.notice(
                    "alert raised",
                    metadata: [
                        "handover.alert_id": "\(alert.id)", "handover.message_id": "\(alert.messageID)", "handover.workflow": "\(alert.workflowID)",
                        "handover.stage": "\(alert.stage + 1)", "handover.condition": "\(alert.condition.rawValue)",
                        "handover.lag_seconds": "\(alert.raisedAt.secondsSinceEpoch - alert.dueAt.secondsSinceEpoch)",
                    ])
            }
            if alerts.count < 200 { break }
        } while true
        result.renotified = try await store.renotifyDueAlerts(now: now, limit: 500) { alert, message in
            planner.renotify(alert, message: message, now: now)
        }
        // Acknowledgements and resolutions, told to everyone each alert reached.
        repeat {
            let n = try await store.sendAlertNotices(now: now, limit: 200) { notice, alert, message in
                planner.notice(notice, alert: alert, message: message, now: now)
            }
            result.notices += n
            if n < 200 { break }
        } while true
        if !result.raised.isEmpty || result.renotified > 0 || result.notices > 0 { afterRaise() }
        return result
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                var sleep = maxSleep
                do {
                    let now = clock()
                    try await tick(now: now)
                    if let next = try await store.nextEscalationWork(now: clock()) {
                        let micros = max(0, next.microsecondsSinceEpoch - clock().microsecondsSinceEpoch)
                        sleep = min(maxSleep, .microseconds(micros))
                    }
                } catch {
                    logger.error("escalation pass failed", metadata: ["handover.error_type": "\(type(of: error))"])
                    sleep = .seconds(1)
                }
                await wake.wait(upTo: sleep)
            }
        }
    }
}

extension EscalationScheduler: CustomStringConvertible {
    /// Service-lifecycle logs name a service by its description; the default would print every
    /// stored property, the environment with its secrets included.
    public var description: String { "EscalationScheduler" }
}
