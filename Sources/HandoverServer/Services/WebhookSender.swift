import AsyncHTTPClient
import Crypto
import Foundation
import HandoverCore
import HandoverStore
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// Delivers alert webhooks at least once: a signed POST (`Handover-Signature: sha256=<hex HMAC of the
/// body>`, `Handover-Delivery: <id>`), retried with exponential backoff and jitter for more than a
/// day, every attempt recorded. Deliveries run concurrently and apart from message flow, so a webhook
/// that is down or slow delays nothing else.
public struct WebhookSender: Service, Sendable {
    let store: any EscalationStore
    let directory: DirectoryHolder
    let environment: [String: String]
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
        configuration: HTTPClient.Configuration(redirectConfiguration: .disallow,
                                                timeout: .init(connect: .seconds(5), read: .seconds(10)),
                                                connectionPool: .init(idleTimeout: .seconds(30))))

    public init(store: any EscalationStore, directory: DirectoryHolder, environment: [String: String], http: HTTPClient = WebhookSender.client,
                clock: @escaping @Sendable () -> Timestamp, logger: Logger, wake: WakeSignal = WakeSignal()) {
        (self.store, self.directory, self.environment, self.http, self.clock, self.logger, self.wake) = (store, directory, environment, http, clock, logger, wake)
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

    func attempt(_ delivery: WebhookDelivery) async {
        let index = directory.snapshot
        var status: Int?
        var failure: String?
        if let hook = index.directory.webhooks.first(where: { $0.id == delivery.webhookID }) {
            do {
                // Never an unsigned POST: a webhook without its secret fails and is retried, visibly.
                guard let secret = secret(hook.secret), !secret.isEmpty else {
                    throw WebhookDestination.Refused(description: "the webhook's secret is not set")
                }
                try await WebhookDestination.checkOffThread(url: hook.url, allowPrivate: hook.allowPrivate)
                var request = HTTPClientRequest(url: hook.url)
                request.method = .POST
                request.headers.add(name: "content-type", value: "application/json")
                request.headers.add(name: "user-agent", value: "Handover")
                request.headers.add(name: "handover-delivery", value: delivery.id)
                let mac = HMAC<SHA256>.authenticationCode(for: Array(delivery.body.utf8), using: SymmetricKey(data: Array(secret.utf8)))
                request.headers.add(name: "handover-signature", value: "sha256=" + hexString(mac))
                request.body = .bytes(ByteBuffer(string: delivery.body))
                let response = try await http.execute(request, timeout: timeout)
                let code = Int(response.status.code)
                status = code
                _ = try? await response.body.collect(upTo: 64 * 1024)
                if !(200..<300).contains(code) { failure = "HTTP \(code)" }
            } catch let refused as WebhookDestination.Refused {
                failure = "refused: \(refused.description)"
            } catch {
                failure = "\(type(of: error))"
            }
        } else {
            failure = "webhook \(delivery.webhookID) is not in the directory"
        }
        let now = clock()
        let next: WebhookDelivery.Next
        if failure == nil {
            next = .delivered
        } else if now.secondsSinceEpoch - delivery.createdAt.secondsSinceEpoch >= giveUpAfterSeconds {
            next = .abandon
        } else {
            next = .retry(at: now.adding(seconds: Self.backoffSeconds(afterFailures: delivery.attempts + 1, jitter: Double.random(in: 0...1))))
        }
        do {
            try await store.recordWebhookAttempt(deliveryID: delivery.id, now: now, status: status, error: failure, next: next)
        } catch {
            logger.error("recording a webhook attempt failed", metadata: ["handover.delivery": "\(delivery.id)"])
        }
        if let failure {
            logger.warning("webhook delivery failed", metadata: ["handover.delivery": "\(delivery.id)", "handover.webhook": "\(delivery.webhookID)",
                                                                  "handover.cause": "\(failure)", "handover.attempt": "\(delivery.attempts + 1)"])
        }
    }

    func secret(_ reference: SecretReference?) -> String? {
        switch reference {
        case .environment(let name)?: environment[name]
        case .literal(let value)?: value
        case nil: nil
        }
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let attempted = (try? await tick(now: clock())) ?? 0
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
