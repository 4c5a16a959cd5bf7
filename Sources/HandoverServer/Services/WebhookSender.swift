import AsyncHTTPClient
import Foundation
import HandoverCore
import HandoverStore
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// Where alerts go besides mailboxes and webhooks, and where people open them.
public struct NotificationChannels: Sendable {
    /// The relay for `{email: ...}` targets (`--smtp-url`); without it email deliveries fail visibly and are retried.
    public var smtp: SMTPRelay?
    /// The console's public address (`--console-url`), for the link every notification carries.
    public var consoleURL: String?
    public init(smtp: SMTPRelay? = nil, consoleURL: String? = nil) { (self.smtp, self.consoleURL) = (smtp, consoleURL) }
}

/// Delivers alert notifications outside the broker at least once: webhooks in their directory format
/// (`handover` signed JSON, PagerDuty, Alertmanager, Teams, Slack) and email through the SMTP relay.
/// Each delivery is rendered when it is sent, from the stored references, retried with exponential
/// backoff and jitter for more than a day, every attempt recorded. Deliveries run concurrently and
/// apart from message flow, so a receiver that is down or slow delays nothing else.
public struct WebhookSender: Service, Sendable {
    let store: any MessageStore & EscalationStore
    let directory: DirectoryHolder
    let environment: [String: String]
    let channels: NotificationChannels
    let http: HTTPClient
    let clock: @Sendable () -> Timestamp
    let logger: Logger
    public let wake: WakeSignal
    /// Deliveries are abandoned this long after they were created.
    let giveUpAfterSeconds: Int64 = 26 * 3600
    let timeout: TimeAmount = .seconds(10)

    /// A client of its own: no redirects (a 3xx is a failed delivery, never a hop to another host),
    /// bounded connect and read times, a small pool.
    public static let client = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: .seconds(10)),
            connectionPool: .init(idleTimeout: .seconds(30))))

    public init(
        store: any MessageStore & EscalationStore, directory: DirectoryHolder, environment: [String: String],
        channels: NotificationChannels = NotificationChannels(), http: HTTPClient = WebhookSender.client,
        clock: @escaping @Sendable () -> Timestamp, logger: Logger, wake: WakeSignal = WakeSignal()
    ) {
        (self.store, self.directory, self.environment, self.channels, self.http) = (store, directory, environment, channels, http)
        (self.clock, self.logger, self.wake) = (clock, logger, wake)
    }

    /// Delay before attempt `n + 1` after `n` failures: 30 s doubling to a 1 h cap, ±50 % jitter.
    public static func backoffSeconds(afterFailures n: Int, jitter: Double) -> Int64 {
        let base = min(3600.0, 30.0 * pow(2.0, Double(max(0, n - 1))))
        return Int64(base * (0.5 + jitter))
    }

    /// Sends every delivery due at `now`; returns how many were attempted.
    @discardableResult
    public func tick(now: Timestamp) async throws -> Int {
        let due = try await store.claimWebhookDeliveries(now: now, limit: 32, leaseSeconds: 60)
        await withTaskGroup(of: Void.self) { group in
            for delivery in due { group.addTask { await attempt(delivery) } }
        }
        return due.count
    }

    /// The result of one attempt: the receiver's status (HTTP, or the relay's final SMTP reply), or
    /// why it failed and whether a retry could help.
    public struct Outcome: Sendable {
        public var status: Int?
        public var failure: String?
        public var permanent = false
    }

    func attempt(_ delivery: WebhookDelivery) async {
        let index = directory.snapshot
        let outcome: Outcome
        if let facts = AlertFacts.parse(body: delivery.body, index: index, consoleURL: channels.consoleURL, now: clock()) {
            outcome = await deliver(to: delivery.webhookID, facts: facts, storedBody: delivery.body, deliveryID: delivery.id, index: index)
        } else {
            outcome = Outcome(failure: "the stored notification is not an alert", permanent: true)
        }
        let now = clock()
        let next: WebhookDelivery.Next
        if outcome.failure == nil {
            next = .delivered
        } else if outcome.permanent || now.secondsSinceEpoch - delivery.createdAt.secondsSinceEpoch >= giveUpAfterSeconds {
            next = .abandon
        } else {
            next = .retry(at: now.adding(seconds: Self.backoffSeconds(afterFailures: delivery.attempts + 1, jitter: Double.random(in: 0...1))))
        }
        do {
            try await store.recordWebhookAttempt(deliveryID: delivery.id, now: now, status: outcome.status, error: outcome.failure, next: next)
        } catch {
            logger.error("recording a notification attempt failed", metadata: ["handover.delivery": "\(delivery.id)"])
        }
        if let failure = outcome.failure {
            // The target is a webhook id or an email address: staff contact details, not clinical data.
            logger.warning(
                "notification delivery failed",
                metadata: [
                    "handover.delivery": "\(delivery.id)", "handover.target": "\(delivery.webhookID)",
                    "handover.cause": "\(failure)", "handover.attempt": "\(delivery.attempts + 1)",
                    "handover.abandoned": "\(next == .abandon)",
                ])
        }
    }

    /// Sends one notification to a target (a webhook id, or `mailto:` an address), now, once.
    public func deliver(to target: String, facts: AlertFacts, storedBody: String, deliveryID: String, index: DirectoryIndex) async -> Outcome {
        if let address = AlertNotification.emailAddress(target: target) {
            guard let smtp = channels.smtp else { return Outcome(failure: "no SMTP relay is configured (--smtp-url)") }
            let message = AlertEmail.compose(facts, from: smtp.configuration.from, to: address, deliveryID: deliveryID)
            do {
                return Outcome(status: try await smtp.send(to: address, message: message).code)
            } catch let failure as SMTPRelay.Failure {
                return Outcome(failure: failure.description, permanent: failure.permanent)
            } catch {
                return Outcome(failure: "\(type(of: error))")
            }
        }
        guard let hook = index.directory.webhooks.first(where: { $0.id == target }) else {
            return Outcome(failure: "webhook \(target) is not in the directory")
        }
        do {
            let secret = value(hook.secret)
            // Never an unsigned POST, nor a PagerDuty event without its routing key: the delivery fails and is retried, visibly.
            if hook.format.needsSecret && (secret ?? "").isEmpty {
                throw WebhookDestination.Refused(description: "the webhook's secret is not set")
            }
            guard let url = value(SecretReference(hook.url)), !url.isEmpty else {
                throw WebhookDestination.Refused(description: "the webhook's URL variable is not set")
            }
            let rendered = WebhookRendering.render(
                hook.format, url: url, facts: facts, storedBody: storedBody, secret: secret, deliveryID: deliveryID)
            try await WebhookDestination.checkOffThread(url: rendered.url, allowPrivate: hook.allowPrivate)
            var request = HTTPClientRequest(url: rendered.url)
            request.method = .POST
            for (name, value) in rendered.headers.sorted(by: { $0.key < $1.key }) { request.headers.add(name: name, value: value) }
            request.body = .bytes(ByteBuffer(string: rendered.body))
            let response = try await http.execute(request, timeout: timeout)
            let code = Int(response.status.code)
            _ = try? await response.body.collect(upTo: 64 * 1024)
            return Outcome(status: code, failure: (200..<300).contains(code) ? nil : "HTTP \(code)")
        } catch let refused as WebhookDestination.Refused {
            return Outcome(failure: "refused: \(refused.description)")
        } catch {
            return Outcome(failure: "\(type(of: error))")
        }
    }

    /// Re-posts every unresolved alert to the Alertmanager webhooks its stage notifies, so Alertmanager
    /// keeps it firing (it ends an alert it has not heard of by `endsAt`). Best effort and unrecorded:
    /// a missed re-post is made good by the next, well before the alert would lapse. Returns how many were posted.
    @discardableResult
    public func repostToAlertmanager(now: Timestamp) async throws -> Int {
        let index = directory.snapshot
        let alertmanagers = Set(index.directory.webhooks.filter { $0.format == .alertmanager }.map(\.id))
        guard !alertmanagers.isEmpty else { return 0 }
        let planner = AlertPlanner(index: index, newID: { UUID().uuidString.lowercased() }, newMessageID: { _ in MessageID("unused") })
        var posted = 0
        for alert in try await store.alerts(state: .open, limit: 1000) {
            guard let message = try await store.message(alert.messageID) else { continue }
            for case .webhook(let id, let deliveryID, let body) in planner.currentNotifications(alert, message: message, now: now)
            where alertmanagers.contains(id) {
                guard let facts = AlertFacts.parse(body: body, index: index, consoleURL: channels.consoleURL, now: now) else { continue }
                let outcome = await deliver(to: id, facts: facts, storedBody: body, deliveryID: deliveryID, index: index)
                if let failure = outcome.failure {
                    logger.warning(
                        "re-posting an open alert to Alertmanager failed", metadata: ["handover.webhook": "\(id)", "handover.cause": "\(failure)"])
                } else {
                    posted += 1
                }
            }
        }
        return posted
    }

    func value(_ reference: SecretReference?) -> String? {
        switch reference {
        case .environment(let name)?: environment[name]
        case .literal(let value)?: value
        case nil: nil
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var lastRepost = Timestamp(secondsSinceEpoch: 0)
            while !Task.isCancelled {
                let attempted = (try? await tick(now: clock())) ?? 0
                let now = clock()
                if now.secondsSinceEpoch - lastRepost.secondsSinceEpoch >= WebhookRendering.alertmanagerRepostSeconds {
                    lastRepost = now
                    _ = try? await repostToAlertmanager(now: now)
                }
                if attempted == 0 { await wake.wait(upTo: .seconds(1)) }
            }
        }
    }
}

extension WebhookSender: CustomStringConvertible {
    /// Service-lifecycle logs name a service by its description; the default would print every
    /// stored property, the environment with its secrets included.
    public var description: String { "WebhookSender" }
}
