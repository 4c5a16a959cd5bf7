import AsyncHTTPClient
import Foundation
import HandoverCore
import HandoverServer
import HandoverStore
import HandoverTestSupport
import Logging
import Testing

/// A safeguarding-like workflow whose one stage notifies whatever `targets` says.
func channelRoutes(_ targets: String, webhooks: String) -> String {
    safeguardingRoutes(stages: "      - {after: 4h, when: not-accepted, notify: [\(targets)], repeat: 1h}", webhooks: webhooks)
}

/// Words that must never leave the broker in a notification: the subject, the sender's local id,
/// the payload and the NHS number in it, and an operator's note.
let clinicalSentinels = ["SENTINEL-SUBJECT", "SENTINEL-LOCAL", "SENTINEL-PAYLOAD", "SENTINEL-NOTE", "9434765919", "943 476 5919"]

/// Sends a SAFE message carrying every sentinel, lets its 4h deadline pass and raises the alert.
func raiseSentinelAlert(_ broker: TestBroker, _ h: MeshHarness) async throws -> (message: String, alert: String) {
    let id = try await h.send(
        workflow: "SAFE", body: Array("NHS number 943 476 5919 (9434765919) SENTINEL-PAYLOAD".utf8),
        headers: ["mex-subject": "SENTINEL-SUBJECT Jane Doe", "mex-localid": "SENTINEL-LOCAL"])
    try await broker.parts.scheduler.tick(now: broker.clock.now)
    broker.clock.advance(seconds: 4 * 3600 + 1)
    let raised = try await broker.parts.scheduler.tick(now: broker.clock.now).raised
    guard let alert = raised.first else { throw HarnessError("no alert raised") }
    return (id, alert)
}

/// Acknowledges the alert with a note, then resolves it by a named acceptance; each followed by the
/// notices and their deliveries.
func acknowledgeThenResolve(_ broker: TestBroker, _ h: MeshHarness, message: String, alert: String, sender: WebhookSender) async throws {
    _ = try await broker.parts.store.acknowledgeAlert(
        id: alert, by: Person(name: "Duty manager"), note: "SENTINEL-NOTE calling Jane", lapsesAt: nil, now: broker.clock.now)
    try await broker.parts.scheduler.tick(now: broker.clock.now)
    try await sender.tick(now: broker.clock.now)
    _ = try await h.call(.get, "/messageexchange/BOB/inbox/\(message)", as: "BOB")
    let accepted = try await h.call(
        .post, "/messageexchange/BOB/inbox/\(message)/responsibility", as: "BOB",
        body: Array(#"{"decision":"accept","by":{"name":"Sam Patel"}}"#.utf8))
    guard accepted.status == .ok else { throw HarnessError("acceptance refused: \(accepted.text)") }
    try await broker.parts.scheduler.tick(now: broker.clock.now)
    try await sender.tick(now: broker.clock.now)
}

@Suite("Alerts that reach people: webhook formats, Alertmanager, email", .serialized)
struct AlertChannelsTests {
    @Test(.enabled(if: ReceiverProcess.pythonReady, "needs Python with jsonschema (./scripts/test installs it)"))
    func everyFormatReachesItsReceiverInItsPublishedShapeWithNothingClinical() async throws {
        let log = TestFolders.path("handover-hooks", suffix: ".jsonl")
        let receiver = try ReceiverProcess.start("http", [log.path, ReceiverProcess.scripts.appendingPathComponent("schemas").path])
        defer { receiver.stop() }
        let base = "http://127.0.0.1:\(receiver.port)"
        let webhooks = """
              - {id: pd, format: pagerduty-events-v2, url: "\(base)/pagerduty", secret: "${PD_KEY}", allow_private: true}
              - {id: chat, format: slack, url: "${SLACK_URL}", allow_private: true}
              - {id: teams, format: teams, url: "\(base)/teams", allow_private: true}
              - {id: signed, url: "\(base)/handover", secret: "${HOOK_SECRET}", allow_private: true}
            """
        let environment = TestBroker.passwords.merging(["PD_KEY": "R0UTINGKEY", "SLACK_URL": "\(base)/slack", "HOOK_SECRET": "s3cret"]) { $1 }
        let broker = try await TestBroker(
            routesYAML: channelRoutes("{webhook: pd}, {webhook: chat}, {webhook: teams}, {webhook: signed}", webhooks: webhooks),
            environment: environment)
        let sender = WebhookSender(
            store: broker.parts.store, directory: broker.parts.directory, environment: environment,
            channels: NotificationChannels(consoleURL: "https://handover.example.org"), clock: { broker.clock.now },
            logger: Logger(label: "test"))
        try await MeshHarness.run(broker) { h in
            let (message, alert) = try await raiseSentinelAlert(broker, h)
            #expect(try await sender.tick(now: broker.clock.now) == 4)
            try await acknowledgeThenResolve(broker, h, message: message, alert: alert, sender: sender)
        }
        let entries = ReceiverProcess.entries(log)
        func posts(_ path: String) -> [[String: Any]] { entries.filter { $0["path"] as? String == path } }
        func body(_ entry: [String: Any]) -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data((entry["body"] as? String ?? "").utf8))) as? [String: Any] ?? [:]
        }
        // Raised, acknowledged, resolved: three posts to each receiver, each valid against its published schema.
        for path in ["/pagerduty", "/slack", "/teams", "/handover"] {
            #expect(posts(path).count == 3, "\(path): \(posts(path).count) posts")
            for entry in posts(path) where path != "/handover" {
                #expect(entry["valid"] as? Bool == true, "\(path): \(entry["errors"] ?? "")")
            }
        }
        let pagerDuty = posts("/pagerduty").map(body)
        #expect(pagerDuty.compactMap { $0["event_action"] as? String } == ["trigger", "acknowledge", "resolve"])
        #expect(Set(pagerDuty.compactMap { $0["dedup_key"] as? String }) == ["handover-\(alertID(pagerDuty))"])
        #expect(pagerDuty.allSatisfy { $0["routing_key"] as? String == "R0UTINGKEY" })
        let trigger = try #require(pagerDuty.first?["payload"] as? [String: Any])
        #expect((trigger["summary"] as? String)?.contains("SAFE to Org X27 (X27)") == true)
        #expect(
            (pagerDuty.first?["links"] as? [[String: Any]])?.first?["href"] as? String
                == "https://handover.example.org/console/alerts/\(alertID(pagerDuty))")
        let teams = try #require(posts("/teams").first.map(body))
        #expect(String(describing: teams).contains("Action.OpenUrl"))
        let slack = posts("/slack").map(body)
        #expect((slack.last?["text"] as? String)?.hasPrefix("Alert resolved") == true)
        // The signed format is signed and references only, like the rest.
        let signed = try #require(posts("/handover").first)
        #expect(((signed["headers"] as? [String: String])?["handover-signature"])?.hasPrefix("sha256=") == true)
        for entry in entries {
            let text = entry["body"] as? String ?? ""
            for sentinel in clinicalSentinels { #expect(!text.contains(sentinel), "\(entry["path"] ?? ""): carries \(sentinel)") }
        }
    }

    func alertID(_ pagerDuty: [[String: Any]]) -> String {
        ((pagerDuty.first?["dedup_key"] as? String) ?? "").replacingOccurrences(of: "handover-", with: "")
    }

    @Test(.enabled(if: ReceiverProcess.alertmanagerReady, "needs Debian's prometheus-alertmanager (./scripts/test installs it)"))
    func alertmanagerShowsGroupsKeepsAndResolvesAlerts() async throws {
        let alertmanager = try ReceiverProcess.alertmanager()
        defer { alertmanager.stop() }
        let webhooks = "      - {id: am, format: alertmanager, url: \"http://127.0.0.1:\(alertmanager.port)\", allow_private: true}"
        // Alertmanager keeps real time: the broker's clock stays a minute or two behind it (a resolution it
        // hears of must not lie in its future).
        let broker = try await TestBroker(
            routesYAML: channelRoutes("{webhook: am}", webhooks: webhooks),
            start: SystemClock.now().adding(seconds: -(4 * 3600 + 120)))
        let sender = broker.parts.webhookSender
        try await MeshHarness.run(broker) { h in
            let message = try await h.send(workflow: "SAFE")
            _ = try await h.send(workflow: "SAFE")
            try await broker.parts.scheduler.tick(now: broker.clock.now)
            broker.clock.advance(seconds: 4 * 3600 + 1)
            let raised = try await broker.parts.scheduler.tick(now: broker.clock.now).raised
            #expect(raised.count == 2)
            let first = (message: message, alert: try #require(try await broker.parts.store.alerts(messageID: MessageID(message)).first?.id))
            #expect(try await sender.tick(now: broker.clock.now) == 2)

            let api = "http://127.0.0.1:\(alertmanager.port)/api/v2"
            var active = try await Self.alerts(api)
            let mine = active.first { ($0["labels"] as? [String: String])?["handover_alert_id"] == first.alert }
            let labels = try #require(mine?["labels"] as? [String: String], "alerts: \(active)")
            #expect(
                labels["workflow"] == "SAFE" && labels["stage"] == "1" && labels["sending_organisation"] == "X26"
                    && labels["receiving_organisation"] == "X27" && labels["alertname"] == "HandoverEscalation")
            // Grouped by Alertmanager itself, by workflow and receiving organisation.
            let groups = try await Self.get(api + "/alerts/groups") as? [[String: Any]] ?? []
            let group = groups.first { ($0["labels"] as? [String: String])?["workflow"] == "SAFE" }
            #expect(active.count == 2 && (group?["alerts"] as? [Any])?.count == 2, "groups: \(groups)")

            // Re-posted while open: its end moves on with the broker's clock.
            let endsBefore = try #require(mine?["endsAt"] as? String)
            broker.clock.advance(seconds: 60)
            #expect(try await sender.repostToAlertmanager(now: broker.clock.now) == active.count)
            active = try await Self.alerts(api)
            let endsAfter = active.first { ($0["labels"] as? [String: String])?["handover_alert_id"] == first.alert }?["endsAt"] as? String
            #expect(endsAfter.map { $0 > endsBefore } == true, "\(endsBefore) → \(endsAfter ?? "none")")

            // Resolved in Handover: ended in Alertmanager.
            try await acknowledgeThenResolve(broker, h, message: first.message, alert: first.alert, sender: sender)
            let still = try await Self.alerts(api).filter { ($0["labels"] as? [String: String])?["handover_alert_id"] == first.alert }
            #expect(still.isEmpty, "still active: \(still)")
        }
    }

    /// A relay on loopback that demands STARTTLS and a login, refusing one recipient.
    static func relay(_ broker: TestBroker, _ arguments: [String] = []) throws -> (ReceiverProcess, URL) {
        let log = TestFolders.path("handover-mail", suffix: ".jsonl")
        let pki = broker.folder.appendingPathComponent("pki")
        let sink = try ReceiverProcess.start(
            "smtp",
            [log.path, pki.appendingPathComponent("server.pem").path, pki.appendingPathComponent("server.key").path]
                + arguments)
        return (sink, log)
    }

    static func sender(_ broker: TestBroker, relayPort: Int?, timeout: Int64 = 60) throws -> WebhookSender {
        var channels = NotificationChannels(consoleURL: "https://handover.example.org")
        if let relayPort {
            let configuration = try SMTPRelayConfiguration.parse(
                url: "smtp://127.0.0.1:\(relayPort)", from: "alerts@handover.example.org",
                trustFile: broker.folder.appendingPathComponent("pki/ca.pem").path,
                environment: ["HANDOVER_SMTP_USERNAME": "relay-user", "HANDOVER_SMTP_PASSWORD": "relay-pass"])
            var relay = SMTPRelay(configuration: configuration)
            relay.timeout = .seconds(timeout)
            channels.smtp = relay
        }
        return WebhookSender(
            store: broker.parts.store, directory: broker.parts.directory, environment: TestBroker.passwords, channels: channels,
            clock: { broker.clock.now }, logger: Logger(label: "test"))
    }

    @Test(.enabled(if: ReceiverProcess.pythonReady, "needs Python with aiosmtpd (./scripts/test installs it)"))
    func emailGoesThroughTheRelayOverSTARTTLSThreadedAndRefusalsAreRecorded() async throws {
        let broker = try await TestBroker(
            routesYAML: channelRoutes("{email: duty-manager@riverside.gov.uk}, {email: nobody@refused.example}", webhooks: "  []"))
        let (sink, log) = try Self.relay(broker, ["--refuse", "nobody@refused.example", "--user", "relay-user", "--password", "relay-pass"])
        defer { sink.stop() }
        let sender = try Self.sender(broker, relayPort: sink.port)
        try await MeshHarness.run(broker) { h in
            let (message, alert) = try await raiseSentinelAlert(broker, h)
            #expect(try await sender.tick(now: broker.clock.now) == 2)
            // The relay's 550 is permanent: abandoned at once, its words on the alert's delivery log.
            let refused = try await broker.parts.store.webhookDeliveries(alertID: alert).first { $0.webhookID == "mailto:nobody@refused.example" }
            #expect(refused?.state == "abandoned" && refused?.attemptLog.first?.error?.contains("550") == true, "\(String(describing: refused))")
            try await acknowledgeThenResolve(broker, h, message: message, alert: alert, sender: sender)
        }
        let mails = ReceiverProcess.entries(log)
        #expect(mails.count == 3, "\(mails.count) emails; relay said: \(sink.output.suffix(500))")
        #expect(mails.allSatisfy { $0["tls"] as? Bool == true && $0["authenticated"] as? Bool == true })
        #expect(
            mails.allSatisfy {
                $0["rcpt_tos"] as? [String] == ["duty-manager@riverside.gov.uk"] && $0["mail_from"] as? String == "alerts@handover.example.org"
            })
        let texts = mails.map { $0["data"] as? String ?? "" }
        let subjects = texts.map { MailText.header("Subject", in: $0) ?? "" }
        #expect(
            subjects.first?.hasPrefix("[Handover] Alert: SAFE to Org X27 (X27)") == true && subjects.last?.contains("Alert resolved") == true,
            "\(subjects)")
        #expect(Set(texts.map { MailText.header("References", in: $0) ?? "" }).count == 1, "one thread")
        let parts = MailText.decodedParts(texts[0])
        #expect(parts.count == 2 && parts[0].contains("Open the alert: https://handover.example.org/console/alerts/") && parts[1].contains("<table>"))
        for text in texts + texts.flatMap(MailText.decodedParts) {
            for sentinel in clinicalSentinels { #expect(!text.contains(sentinel), "an email carries \(sentinel)") }
        }
    }

    @Test(.enabled(if: ReceiverProcess.pythonReady, "needs Python with aiosmtpd (./scripts/test installs it)"))
    func aRelayWithoutSTARTTLSASilentOrInjectingRelayOrNoRelayIsARecordedRetryableFailure() async throws {
        let broker = try await TestBroker(routesYAML: channelRoutes("{email: duty-manager@riverside.gov.uk}", webhooks: "  []"))
        let (plain, _) = try Self.relay(broker, ["--plain"])
        let silent = try ReceiverProcess.start("silent")
        let injecting = try ReceiverProcess.start("inject")
        defer {
            plain.stop()
            silent.stop()
            injecting.stop()
        }
        try await MeshHarness.run(broker) { h in
            let (_, alert) = try await raiseSentinelAlert(broker, h)
            let cases: [(port: Int?, expected: String)] = [
                (plain.port, "does not offer STARTTLS"), (silent.port, "timed out"),
                (injecting.port, "sent more after agreeing to STARTTLS"), (nil, "no SMTP relay is configured"),
            ]
            for (round, (port, expected)) in cases.enumerated() {
                let started = Date()
                #expect(try await Self.sender(broker, relayPort: port, timeout: 2).tick(now: broker.clock.now) == 1)
                #expect(Date().timeIntervalSince(started) < 15, "a stalled relay held the sender")
                let delivery = try #require(try await broker.parts.store.webhookDeliveries(alertID: alert).first)
                #expect(delivery.state == "pending" && delivery.attemptLog.count == round + 1)
                #expect(delivery.attemptLog.last?.error?.contains(expected) == true, "\(delivery.attemptLog.last?.error ?? "none")")
                broker.clock.advance(seconds: 2 * 3600)
            }
        }
    }

    @Test func theRelayURLSaysHowToConnectAndKeepsCredentialsOffTheCommandLine() throws {
        let credentials = ["HANDOVER_SMTP_USERNAME": "u", "HANDOVER_SMTP_PASSWORD": "p"]
        let starttls = try SMTPRelayConfiguration.parse(url: "smtp://relay.example.org", from: "a@b.org", trustFile: nil, environment: credentials)
        #expect(starttls.security == .startTLS && starttls.port == 587 && starttls.username == "u" && !starttls.redacted.contains("p@"))
        #expect(try SMTPRelayConfiguration.parse(url: "smtps://relay.example.org", from: "a@b.org", trustFile: nil, environment: [:]).port == 465)
        #expect(
            try SMTPRelayConfiguration.parse(url: "smtp://localhost:25?starttls=off", from: "a@b.org", trustFile: nil, environment: [:]).security
                == .none)
        let refusals: [(url: String, from: String?, environment: [String: String], says: String)] = [
            ("smtp://user:secret@relay.example.org", "a@b.org", [:], "must not carry credentials"),
            ("smtp://localhost?starttls=off", "a@b.org", credentials, "never sent without TLS"),
            ("smtps://relay.example.org?starttls=off", "a@b.org", [:], "must be smtp://"),
            ("http://relay.example.org", "a@b.org", [:], "must be smtp://"),
            ("smtp://relay.example.org?tls=maybe", "a@b.org", [:], "unknown setting"),
            ("smtp://relay.example.org", nil, [:], "--smtp-from"),
            ("smtp://relay.example.org", "a@b.org", ["HANDOVER_SMTP_USERNAME": "u"], "set together"),
            ("not a url", "a@b.org", [:], "must look like"),
        ]
        for refusal in refusals {
            #expect {
                try SMTPRelayConfiguration.parse(url: refusal.url, from: refusal.from, trustFile: nil, environment: refusal.environment)
            } throws: {
                String(describing: $0).contains(refusal.says)
            }
        }
    }

    static func get(_ url: String) async throws -> Any {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return try JSONSerialization.jsonObject(with: Data(body.readableBytesView))
    }

    /// Alertmanager's active alerts.
    static func alerts(_ api: String) async throws -> [[String: Any]] {
        try await get(api + "/alerts?active=true&silenced=false&inhibited=false") as? [[String: Any]] ?? []
    }
}

/// Just enough of RFC 5322 and MIME to read Handover's own alert emails back.
enum MailText {
    static func header(_ name: String, in text: String) -> String? {
        text.components(separatedBy: "\r\n\r\n").first?.components(separatedBy: "\r\n")
            .first { $0.lowercased().hasPrefix(name.lowercased() + ":") }.map {
                String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces)
            }
    }

    /// Each base64 part of the multipart body, decoded.
    static func decodedParts(_ text: String) -> [String] {
        guard let type = header("Content-Type", in: text), let range = type.range(of: "boundary=\"") else { return [] }
        let boundary = String(type[range.upperBound...].prefix { $0 != "\"" })
        return text.components(separatedBy: "--" + boundary).dropFirst().compactMap { part in
            let pieces = part.components(separatedBy: "\r\n\r\n")
            guard pieces.count >= 2, pieces[0].contains("base64") else { return nil }
            return Data(base64Encoded: pieces[1].replacingOccurrences(of: "\r\n", with: "")).map { String(decoding: $0, as: UTF8.self) }
        }
    }
}
