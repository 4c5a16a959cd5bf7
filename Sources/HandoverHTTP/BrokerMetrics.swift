import HandoverCore
import HandoverStore
import Prometheus
import Synchronization

/// The broker's Prometheus metrics (`GET /metrics`). Label values come only from the directory
/// (workflow ids, stage numbers, mailbox ids), router path patterns and HTTP status codes, so
/// cardinality stays bounded.
public final class BrokerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    let acceptance: DurationHistogram
    let escalationLag: DurationHistogram
    /// Made once: every full cycle counts one of each (the registry's lookup showed in its profile).
    private let downloads: Counter
    private let acknowledgements: Counter
    private let openAlertLabels = Mutex<Set<[String]>>([])
    private let inboxLabels = Mutex<Set<String>>([])
    /// The scorecard's gauges are recomputed at most once a minute (an aggregate over 30 days of crossings).
    private let scorecardComputedAt = Mutex<Timestamp?>(nil)
    /// Gap counters by workflow, flow and policy: looked up on every send (a plain MESH send has
    /// four recorded gaps), so kept rather than asked of the registry each time.
    private let gapCounters = Mutex<[GapKey: Counter]>([:])
    private struct GapKey: Hashable {
        var workflow: String
        var flow: String
        var shown: Bool
    }
    /// The same for what every request and every send records: the registry's own lookup (labels
    /// sorted and joined under its lock) was about 1 % of a send in a profile.
    private let requestCounters = Mutex<[RequestKey: Counter]>([:])
    private let requestTimers = Mutex<[String: DurationHistogram]>([:])
    private let acceptedCounters = Mutex<[String: Counter]>([:])
    private struct RequestKey: Hashable {
        var endpoint: String
        var method: String
        var status: Int
    }

    public init() {
        downloads = registry.makeCounter(descriptor: .metric("handover_downloads_total", help: "Chunk downloads"))
        acknowledgements = registry.makeCounter(descriptor: .metric("handover_acknowledgements_total", help: "Messages acknowledged"))
        acceptance = registry.makeDurationHistogram(
            descriptor: .metric("handover_acceptance_seconds", help: "Time from delivery into the inbox to a named person accepting responsibility"),
            buckets: [
                .seconds(300), .seconds(900), .seconds(3600), .seconds(4 * 3600), .seconds(8 * 3600), .seconds(86_400), .seconds(2 * 86_400),
                .seconds(5 * 86_400),
            ])
        escalationLag = registry.makeDurationHistogram(
            descriptor: .metric("handover_escalation_lag_seconds", help: "How late an alert was raised after its stage fell due"),
            buckets: [
                .milliseconds(100), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(30), .seconds(60), .seconds(300),
                .seconds(3600),
            ])
    }

    public func messageAccepted(workflow: String) {
        Self.cached(workflow, in: acceptedCounters) {
            registry.makeCounter(
                descriptor: .metric("handover_messages_accepted_total", help: "Messages accepted for delivery"), labels: [("workflow", workflow)])
        }.increment()
    }

    /// The metric kept under `key`, made by `make` (which the registry deduplicates) the first time.
    private static func cached<Key: Hashable & Sendable, Metric: Sendable>(
        _ key: Key, in cache: borrowing Mutex<[Key: Metric]>, make: () -> Metric
    ) -> Metric {
        if let metric = cache.withLock({ $0[key] }) { return metric }
        let metric = make()
        cache.withLock { $0[key] = metric }
        return metric
    }

    /// A send refused for its crossing record, by workflow, Handover code and flow (never a value).
    public func crossingRefused(workflow: String, code: String, flow: String) {
        registry.makeCounter(
            descriptor: .metric("handover_crossing_refusals_total", help: "Sends refused for their crossing record"),
            labels: [("workflow", workflow), ("code", code), ("flow", flow)]
        ).increment()
    }

    /// A gap a workflow's policy let through: `flagged` (shown to both sides) or `recorded` (counted only).
    public func crossingFlagged(workflow: String, flow: String, shown: Bool) {
        Self.cached(GapKey(workflow: workflow, flow: flow, shown: shown), in: gapCounters) {
            registry.makeCounter(
                descriptor: .metric("handover_crossing_gaps_total", help: "Crossings delivered with a gap in their record"),
                labels: [("workflow", workflow), ("flow", flow), ("policy", shown ? "flagged" : "recorded")])
        }.increment()
    }

    public func downloaded() { downloads.increment() }
    public func acknowledged() { acknowledgements.increment() }

    public func meshError(status: Int) {
        registry.makeCounter(descriptor: .metric("handover_mesh_errors_total", help: "MESH error responses"), labels: [("status", String(status))])
            .increment()
    }

    public func responsibilityAccepted(afterSeconds seconds: Int64) {
        acceptance.record(.seconds(max(0, seconds)))
    }

    public func alertRaised(_ alert: Alert) {
        registry.makeCounter(
            descriptor: .metric("handover_alerts_raised_total", help: "Escalation alerts raised"),
            labels: [("workflow", alert.workflowID), ("stage", String(alert.stage + 1))]
        ).increment()
        escalationLag.record(.microseconds(max(0, alert.raisedAt.microsecondsSinceEpoch - alert.dueAt.microsecondsSinceEpoch)))
    }

    /// One answered request: counted by endpoint (the router's path pattern, so ids never become
    /// labels), method and status, and timed by endpoint.
    public func request(endpoint: String, method: String, status: Int, seconds: Double) {
        Self.cached(RequestKey(endpoint: endpoint, method: method, status: status), in: requestCounters) {
            registry.makeCounter(
                descriptor: .metric("handover_http_requests_total", help: "Requests answered, by endpoint, method and status"),
                labels: [("endpoint", endpoint), ("method", method), ("status", String(status))])
        }.increment()
        Self.cached(endpoint, in: requestTimers) {
            registry.makeDurationHistogram(
                descriptor: .metric("handover_http_request_duration_seconds", help: "Time to answer, by endpoint"), labels: [("endpoint", endpoint)],
                buckets: [
                    .milliseconds(1), .milliseconds(5), .milliseconds(20), .milliseconds(100), .milliseconds(500),
                    .seconds(2), .seconds(10), .seconds(60),
                ])
        }.recordNanoseconds(Int64(seconds * 1e9))
    }

    /// When a certificate stops being valid, as a Unix time (alert well before it).
    public func certificateExpiry(_ name: String, notAfter: Int64) {
        registry.makeGauge(
            descriptor: .metric("handover_certificate_expiry_timestamp_seconds", help: "When each certificate the broker uses expires (Unix time)"),
            labels: [("certificate", name)]
        ).set(to: Double(notAfter))
    }

    /// Whether the store answered its last probe (1) or not (0).
    public func storeUp(_ up: Bool) {
        registry.makeGauge(descriptor: .metric("handover_store_up", help: "Whether the database answered its last probe")).set(to: up ? 1 : 0)
    }

    /// The Prometheus text, with the open-alert and inbox gauges read from the store at scrape time.
    /// With the database unreachable the rest is still served, and `handover_store_up` says 0.
    public func render(store: any BrokerStore, now: Timestamp) async -> String {
        if let pool = store as? any DatabasePoolGauge {
            registry.makeGauge(
                descriptor: .metric("handover_database_calls_in_flight", help: "Database calls holding or waiting for a pooled connection")
            )
            .set(to: Double(pool.callsInFlight))
            registry.makeGauge(descriptor: .metric("handover_database_pool_connections", help: "Connections the database pool may open")).set(
                to: Double(pool.poolSize))
        }
        do {
            try await renderStoreGauges(store, now: now)
            storeUp(true)
        } catch {
            storeUp(false)
        }
        return registry.emitToString()
    }

    private func renderStoreGauges(_ store: any BrokerStore, now: Timestamp) async throws {
        var counts: [[String]: Int] = [:]
        for group in try await store.unresolvedAlertCounts() { counts[[group.workflowID, String(group.stage + 1)], default: 0] += group.count }
        let stale = openAlertLabels.withLock { previous -> Set<[String]> in
            let gone = previous.subtracting(counts.keys)
            previous = Set(counts.keys)
            return gone
        }
        for labels in stale.union(counts.keys) {
            registry.makeGauge(
                descriptor: .metric("handover_alerts_open", help: "Alerts not yet resolved"), labels: [("workflow", labels[0]), ("stage", labels[1])]
            ).set(to: Double(counts[labels] ?? 0))
        }
        try await renderScorecard(store, now: now)
        let inboxes = try await store.inboxDepths()
        let emptied = inboxLabels.withLock { previous -> Set<String> in
            let now = Set(inboxes.map(\.mailbox.rawValue))
            defer { previous = now }
            return previous.subtracting(now)
        }
        let scrapeTime = Double(now.secondsSinceEpoch)
        for mailbox in emptied {
            registry.makeGauge(descriptor: .metric("handover_inbox_messages", help: "Messages waiting in each inbox"), labels: [("mailbox", mailbox)])
                .set(to: 0)
            registry.makeGauge(
                descriptor: .metric("handover_inbox_oldest_seconds", help: "Age of the oldest unacknowledged message in each inbox"),
                labels: [("mailbox", mailbox)]
            ).set(to: 0)
        }
        for inbox in inboxes {
            registry.makeGauge(
                descriptor: .metric("handover_inbox_messages", help: "Messages waiting in each inbox"), labels: [("mailbox", inbox.mailbox.rawValue)]
            ).set(to: Double(inbox.count))
            registry.makeGauge(
                descriptor: .metric("handover_inbox_oldest_seconds", help: "Age of the oldest unacknowledged message in each inbox"),
                labels: [("mailbox", inbox.mailbox.rawValue)]
            )
            .set(to: inbox.oldestDeliveredAt.map { max(0, scrapeTime - Double($0.secondsSinceEpoch)) } ?? 0)
        }
    }

    /// `handover_boundary_level{from,to,workflow,flow}` (-1 for insufficient data) and
    /// `handover_boundary_risk{from,to,workflow}` over the last 30 days. Labels are directory
    /// organisation codes and workflow ids.
    private func renderScorecard(_ store: any BrokerStore, now: Timestamp) async throws {
        let due = scorecardComputedAt.withLock { last in
            guard last.map({ now.secondsSinceEpoch - $0.secondsSinceEpoch >= 60 }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        for tally in try await store.boundaryTallies(since: now.adding(seconds: -30 * 86_400), until: now.adding(seconds: 1), now: now) {
            let score = BoundaryScorecard.score(tally)
            let boundary = [("from", tally.from), ("to", tally.to), ("workflow", tally.workflowID)]
            for flow in score.flows {
                registry.makeGauge(
                    descriptor: .metric(
                        "handover_boundary_level", help: "Each flow's level (0-4) on each boundary over 30 days; -1 for insufficient data"),
                    labels: boundary + [("flow", flow.flow.rawValue)]
                ).set(to: Double(flow.level ?? -1))
            }
            registry.makeGauge(
                descriptor: .metric(
                    "handover_boundary_risk", help: "Each boundary's risk score over 30 days (0 governed, 100 ungoverned; -1 for insufficient data)"),
                labels: boundary
            )
            .set(to: Double(score.risk ?? -1))
        }
    }
}

extension MetricNameDescriptor {
    /// A metric known by its whole Prometheus name (`handover_…_total`), as this file spells each out.
    static func metric(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
