import HandoverCore
import HandoverStore
import Prometheus
import Synchronization

/// The broker's Prometheus metrics (`GET /metrics`). Label values come only from the directory
/// (workflow ids, stage numbers) and HTTP status codes, so cardinality stays bounded.
public final class BrokerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let acceptance: DurationHistogram
    let escalationLag: DurationHistogram
    private let openAlertLabels = Mutex<Set<[String]>>([])

    public init() {
        acceptance = registry.makeDurationHistogram(
            name: "handover_acceptance_seconds",
            buckets: [.seconds(300), .seconds(900), .seconds(3600), .seconds(4 * 3600), .seconds(8 * 3600), .seconds(86_400), .seconds(2 * 86_400), .seconds(5 * 86_400)],
            help: "Time from delivery into the inbox to a named person accepting responsibility")
        escalationLag = registry.makeDurationHistogram(
            name: "handover_escalation_lag_seconds",
            buckets: [.milliseconds(100), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(30), .seconds(60), .seconds(300), .seconds(3600)],
            help: "How late an alert was raised after its stage fell due")
    }

    public func messageAccepted(workflow: String) {
        registry.makeCounter(name: "handover_messages_accepted_total", labels: [("workflow", workflow)], help: "Messages accepted for delivery").increment()
    }

    public func downloaded() { registry.makeCounter(name: "handover_downloads_total", help: "Chunk downloads").increment() }
    public func acknowledged() { registry.makeCounter(name: "handover_acknowledgements_total", help: "Messages acknowledged").increment() }

    public func meshError(status: Int) {
        registry.makeCounter(name: "handover_mesh_errors_total", labels: [("status", String(status))], help: "MESH error responses").increment()
    }

    public func responsibilityAccepted(afterSeconds seconds: Int64) {
        acceptance.record(.seconds(max(0, seconds)))
    }

    public func alertRaised(_ alert: Alert) {
        registry.makeCounter(name: "handover_alerts_raised_total", labels: [("workflow", alert.workflowID), ("stage", String(alert.stage + 1))],
                             help: "Escalation alerts raised").increment()
        escalationLag.record(.microseconds(max(0, alert.raisedAt.microsecondsSinceEpoch - alert.dueAt.microsecondsSinceEpoch)))
    }

    /// The Prometheus text, with the open-alert gauges read from the store at scrape time.
    public func render(store: any EscalationStore) async throws -> String {
        var counts: [[String]: Int] = [:]
        for group in try await store.unresolvedAlertCounts() { counts[[group.workflowID, String(group.stage + 1)], default: 0] += group.count }
        let stale = openAlertLabels.withLock { previous -> Set<[String]> in
            let gone = previous.subtracting(counts.keys)
            previous = Set(counts.keys)
            return gone
        }
        for labels in stale.union(counts.keys) {
            registry.makeGauge(name: "handover_alerts_open", labels: [("workflow", labels[0]), ("stage", labels[1])],
                               help: "Alerts not yet resolved").set(to: Double(counts[labels] ?? 0))
        }
        return registry.emitToString()
    }
}
