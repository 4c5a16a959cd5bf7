import Crypto
import Foundation

/// One POST, ready to send: the body in the receiver's format, its headers, and the URL (Alertmanager's
/// base address gains its API path).
public struct RenderedWebhook: Hashable, Sendable {
    public var url: String
    public var headers: [String: String]
    public var body: String
}

/// Turns an alert into each webhook format's body. Pure: the sender only posts what this returns, so
/// every format's shape, and the absence of anything clinical, is tested without a network.
public enum WebhookRendering {
    /// How long Alertmanager keeps a firing alert without hearing of it again; the sender re-posts open
    /// alerts well inside it (`alertmanagerRepostSeconds`), so an alert ends only when Handover says so,
    /// or when Handover has been silent for this long.
    public static let alertmanagerHoldSeconds: Int64 = 15 * 60
    public static let alertmanagerRepostSeconds: Int64 = 5 * 60

    /// `storedBody` is the delivery's Handover JSON (sent as is in the `handover` format).
    public static func render(
        _ format: WebhookFormat, url: String, facts: AlertFacts, storedBody: String, secret: String?,
        deliveryID: String
    ) -> RenderedWebhook {
        var headers = ["content-type": "application/json", "user-agent": "Handover"]
        let body: String
        var target = url
        switch format {
        case .handover:
            body = facts.isTest ? testBody(facts).serialized : storedBody
            headers["handover-delivery"] = deliveryID
            let mac = HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: SymmetricKey(data: Array((secret ?? "").utf8)))
            headers["handover-signature"] = "sha256=" + hexString(mac)
        case .pagerDuty:
            body = pagerDuty(facts, routingKey: secret ?? "").serialized
        case .alertmanager:
            body = JSONValue.array([alertmanager(facts)]).serialized
            target = alertmanagerEndpoint(url)
            if let secret, !secret.isEmpty {
                headers["authorization"] = "Basic " + Data(secret.utf8).base64EncodedString()
            }
        case .teams:
            body = teams(facts).serialized
        case .slack:
            body = slack(facts).serialized
        }
        return RenderedWebhook(url: target, headers: headers, body: body)
    }

    /// `handover` format for a route check: marked as a test in its event and its summary.
    static func testBody(_ f: AlertFacts) -> JSONValue {
        .compact([
            ("event", .string("alert.test")), ("test", .bool(true)), ("alert_id", .string(f.alertID)),
            ("state", .string(f.event == .resolved ? "resolved" : "open")), ("summary", .string(f.summary)),
            ("sent_at", .string(f.now.isoUTC)),
        ])
    }

    /// The alert's key in tools that de-duplicate (PagerDuty's `dedup_key`).
    public static func dedupKey(_ f: AlertFacts) -> String { "handover-" + f.alertID }

    /// PagerDuty Events API v2: a trigger on raise and repeat (one incident per alert, by `dedup_key`),
    /// acknowledge and resolve when Handover's alert is.
    static func pagerDuty(_ f: AlertFacts, routingKey: String) -> JSONValue {
        let action =
            switch f.event {
            case .raised, .repeated: "trigger"
            case .acknowledged: "acknowledge"
            case .resolved: "resolve"
            }
        var pairs: [(String, JSONValue?)] = [
            ("routing_key", .string(routingKey)), ("event_action", .string(action)),
            ("dedup_key", .string(dedupKey(f))),
        ]
        if action == "trigger" {
            let details = JSONValue.object(f.facts.map { ($0.label.lowercased().replacingOccurrences(of: " ", with: "_"), .string($0.value)) })
            pairs.append(
                (
                    "payload",
                    .compact([
                        ("summary", .string(String(f.summary.prefix(1024)))), ("source", .string("handover")), ("severity", .string(severity(f))),
                        ("timestamp", .string(f.raisedAt.isoUTC)), ("component", .string(f.workflowID)),
                        ("group", f.receiving.map { .string($0.code) }), ("class", .string(f.condition.rawValue)), ("custom_details", details),
                    ])
                ))
            pairs.append(("client", .string("Handover")))
            if let link = f.link {
                pairs.append(("client_url", .string(link)))
                pairs.append(("links", .array([.object([("href", .string(link)), ("text", .string("Open the alert in Handover"))])])))
            }
        }
        return .compact(pairs)
    }

    /// The first stage warns; later stages (the escalation has already failed once) are critical.
    static func severity(_ f: AlertFacts) -> String { f.isTest ? "info" : (f.stage <= 1 ? "error" : "critical") }

    /// One alert in Alertmanager's v2 API. The labels identify it (so Alertmanager's grouping, silences
    /// and routes work on workflow, stage and organisations); annotations carry the rest. Open alerts
    /// end `alertmanagerHoldSeconds` ahead and are re-posted; a resolved one ends when it resolved.
    static func alertmanager(_ f: AlertFacts) -> JSONValue {
        var labels: [(String, JSONValue?)] = [
            ("alertname", .string(f.isTest ? "HandoverRouteCheck" : "HandoverEscalation")), ("handover_alert_id", .string(f.alertID)),
            ("workflow", .string(f.workflowID)), ("stage", .string(String(f.stage))), ("condition", .string(f.condition.rawValue)),
            ("severity", .string(severity(f))),
            ("sending_organisation", f.sending.map { .string($0.code) }), ("receiving_organisation", f.receiving.map { .string($0.code) }),
        ]
        if f.isTest { labels.append(("test", .string("true"))) }
        let ends = f.isFiring ? f.now.adding(seconds: alertmanagerHoldSeconds) : (f.resolvedAt ?? f.now)
        let annotations: [(String, JSONValue?)] = [
            ("summary", .string(f.summary)), ("message_id", .string(f.messageID)), ("waiting", .string(AlertFacts.duration(f.waitedSeconds))),
            ("deadline", .string(f.dueAt.isoUTC)), ("acknowledged_by", f.acknowledgedBy.map { .string($0) }),
        ]
        return .compact([
            ("labels", .compact(labels)), ("annotations", .compact(annotations)), ("startsAt", .string(f.raisedAt.isoUTC)),
            ("endsAt", .string(ends.isoUTC)), ("generatorURL", f.link.map { .string($0) }),
        ])
    }

    /// `http://alertmanager:9093` or `…/api/v2/alerts`: either names the same endpoint.
    static func alertmanagerEndpoint(_ url: String) -> String {
        if url.hasSuffix("/api/v2/alerts") { return url }
        return (url.hasSuffix("/") ? String(url.dropLast()) : url) + "/api/v2/alerts"
    }

    /// A Teams message with one Adaptive Card (what both incoming webhooks and Teams workflows accept).
    static func teams(_ f: AlertFacts) -> JSONValue {
        var card: [(String, JSONValue?)] = [
            ("$schema", .string("http://adaptivecards.io/schemas/adaptive-card.json")), ("type", .string("AdaptiveCard")),
            ("version", .string("1.4")),
            (
                "body",
                .array([
                    .object([("type", "TextBlock"), ("text", .string(f.summary)), ("weight", "Bolder"), ("size", "Medium"), ("wrap", true)]),
                    .object([
                        ("type", "FactSet"),
                        ("facts", .array(f.facts.map { .object([("title", .string($0.label)), ("value", .string($0.value))]) })),
                    ]),
                ])
            ),
        ]
        if let link = f.link {
            card.append(("actions", .array([.object([("type", "Action.OpenUrl"), ("title", "Open in Handover"), ("url", .string(link))])])))
        }
        return .object([
            ("type", "message"),
            (
                "attachments",
                .array([
                    .object([
                        ("contentType", "application/vnd.microsoft.card.adaptive"), ("contentUrl", .null),
                        ("content", .compact(card)),
                    ])
                ])
            ),
        ])
    }

    /// A Slack message in Block Kit, with `text` as the notification's fallback.
    static func slack(_ f: AlertFacts) -> JSONValue {
        func escaped(_ s: String) -> String {
            s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        // Slack allows ten fields a section.
        let fields = f.facts.map { JSONValue.object([("type", "mrkdwn"), ("text", .string("*\(escaped($0.label))*\n\(escaped($0.value))"))]) }
        var blocks: [JSONValue] = [
            .object([("type", "header"), ("text", .object([("type", "plain_text"), ("text", .string(String(f.summary.prefix(150))))]))])
        ]
        for start in stride(from: 0, to: fields.count, by: 10) {
            blocks.append(.object([("type", "section"), ("fields", .array(Array(fields[start..<min(start + 10, fields.count)])))]))
        }
        if let link = f.link {
            blocks.append(
                .object([
                    ("type", "actions"),
                    (
                        "elements",
                        .array([
                            .object([
                                ("type", "button"), ("text", .object([("type", "plain_text"), ("text", "Open in Handover")])), ("url", .string(link)),
                            ])
                        ])
                    ),
                ]))
        }
        return .object([("text", .string(escaped(f.summary))), ("blocks", .array(blocks))])
    }
}
