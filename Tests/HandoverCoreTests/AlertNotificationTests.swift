import Crypto
import Foundation
import HandoverCore
import Testing

@Suite("Alert notifications: formats, email and SMTP, pure")
struct AlertNotificationTests {
    static let now = Timestamp(secondsSinceEpoch: 1_795_000_000)

    static func facts(_ event: AlertFacts.Event, stage: Int = 1) -> AlertFacts {
        AlertFacts(
            event: event, alertID: "a1", messageID: "M1", workflowID: "SAFEGUARDING_ADULT_REFERRAL", stage: stage, condition: .notAccepted,
            dueAt: now.adding(seconds: -600), raisedAt: now.adding(seconds: -300), deliveredAt: now.adding(seconds: -4 * 3600 - 600),
            sending: .init(code: "RX1", name: "Riverside Hospital"), receiving: .init(code: "LA713", name: "Riverside Council"),
            acknowledgedBy: event == .acknowledged ? "Duty manager" : nil, resolvedAt: event == .resolved ? now : nil,
            resolvedReason: event == .resolved ? "responsibility_accepted" : nil, link: "https://h.example.org/console/alerts/a1", now: now)
    }

    static func json(_ text: String) -> Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8)) }

    @Test func pagerDutyTriggersAcknowledgesAndResolvesOneIncident() throws {
        var actions: [String] = []
        for event in [AlertFacts.Event.raised, .repeated, .acknowledged, .resolved] {
            let rendered = WebhookRendering.render(
                .pagerDuty, url: "https://events.pagerduty.com/v2/enqueue", facts: Self.facts(event),
                storedBody: "{}", secret: "KEY", deliveryID: "d")
            let body = try #require(Self.json(rendered.body) as? [String: Any])
            #expect(body["dedup_key"] as? String == "handover-a1" && body["routing_key"] as? String == "KEY")
            actions.append(body["event_action"] as? String ?? "")
            let payload = body["payload"] as? [String: Any]
            #expect((payload != nil) == (event == .raised || event == .repeated), "a payload only on triggers")
            if let payload {
                #expect(
                    payload["severity"] as? String == "error" && payload["group"] as? String == "LA713" && payload["source"] as? String == "handover")
                #expect((payload["summary"] as? String)?.contains("Riverside Council (LA713)") == true)
            }
            #expect(rendered.headers["handover-signature"] == nil, "only the handover format is signed")
        }
        #expect(actions == ["trigger", "trigger", "acknowledge", "resolve"])
        let later = WebhookRendering.render(
            .pagerDuty, url: "u", facts: Self.facts(.raised, stage: 2), storedBody: "{}", secret: "K", deliveryID: "d")
        #expect(later.body.contains(#""severity":"critical""#))
    }

    @Test func alertmanagerAlertsCarryLabelsAndEndWhenResolved() throws {
        let firing = WebhookRendering.render(
            .alertmanager, url: "http://am:9093", facts: Self.facts(.raised), storedBody: "{}", secret: "u:p", deliveryID: "d")
        #expect(firing.url == "http://am:9093/api/v2/alerts" && firing.headers["authorization"] == "Basic dTpw")
        let alert = try #require((Self.json(firing.body) as? [[String: Any]])?.first)
        let labels = try #require(alert["labels"] as? [String: String])
        #expect(
            labels == [
                "alertname": "HandoverEscalation", "handover_alert_id": "a1", "workflow": "SAFEGUARDING_ADULT_REFERRAL", "stage": "1",
                "condition": "not-accepted", "severity": "error", "sending_organisation": "RX1", "receiving_organisation": "LA713",
            ])
        #expect(alert["endsAt"] as? String == Self.now.adding(seconds: WebhookRendering.alertmanagerHoldSeconds).isoUTC)
        #expect(alert["generatorURL"] as? String == "https://h.example.org/console/alerts/a1")
        let resolved = WebhookRendering.render(
            .alertmanager, url: "http://am:9093/api/v2/alerts", facts: Self.facts(.resolved), storedBody: "{}",
            secret: nil, deliveryID: "d")
        #expect(resolved.url == "http://am:9093/api/v2/alerts" && resolved.headers["authorization"] == nil)
        #expect((Self.json(resolved.body) as? [[String: Any]])?.first?["endsAt"] as? String == Self.now.isoUTC)
    }

    @Test func chatCardsStayInsideSlackAndTeamsLimits() throws {
        let slack = try #require(
            Self.json(
                WebhookRendering.render(
                    .slack, url: "u", facts: Self.facts(.acknowledged), storedBody: "{}", secret: nil,
                    deliveryID: "d"
                ).body) as? [String: Any])
        let blocks = try #require(slack["blocks"] as? [[String: Any]])
        #expect(blocks.allSatisfy { ($0["fields"] as? [Any])?.count ?? 0 <= 10 })
        #expect((slack["text"] as? String)?.hasPrefix("Alert acknowledged") == true)
        #expect(String(describing: blocks).contains("Duty manager"))
        let teams = WebhookRendering.render(.teams, url: "u", facts: Self.facts(.raised), storedBody: "{}", secret: nil, deliveryID: "d").body
        #expect(teams.contains(#""contentType":"application/vnd.microsoft.card.adaptive""#) && teams.contains("Action.OpenUrl"))
        // Slack's mrkdwn treats <, > and & as markup.
        var odd = Self.facts(.raised)
        odd.receiving = .init(code: "X", name: "A <b> & C")
        #expect(
            WebhookRendering.render(.slack, url: "u", facts: odd, storedBody: "{}", secret: nil, deliveryID: "d").body.contains("A &lt;b&gt; &amp; C")
        )
    }

    @Test func theHandoverFormatIsTheStoredBodySigned() {
        let rendered = WebhookRendering.render(
            .handover, url: "u", facts: Self.facts(.raised), storedBody: #"{"event":"alert.raised"}"#, secret: "s",
            deliveryID: "d1")
        #expect(rendered.body == #"{"event":"alert.raised"}"# && rendered.headers["handover-delivery"] == "d1")
        let mac = HMAC<SHA256>.authenticationCode(for: Array(#"{"event":"alert.raised"}"#.utf8), using: SymmetricKey(data: Array("s".utf8)))
        #expect(rendered.headers["handover-signature"] == "sha256=" + mac.map { String(format: "%02x", $0) }.joined())
        let test = WebhookRendering.render(
            .handover, url: "u", facts: AlertFacts.test(now: Self.now, resolve: false, link: nil), storedBody: "",
            secret: "s", deliveryID: "d")
        #expect(test.body.contains(#""event":"alert.test""#) && test.body.contains("TEST"))
    }

    @Test func factsComeFromTheStoredBodyAndTheDirectory() throws {
        let body = """
            {"event":"alert.acknowledged","alert_id":"a9","state":"acknowledged","message_id":"M9","workflow_id":"WF","policy":"p","stage":2,
             "condition":"no-outcome","due_at":"2026-11-30T09:00:00Z","raised_at":"2026-11-30T09:00:05Z","sender":"ALICE","recipient":"BOB",
             "delivered_at":"2026-11-29T09:00:00Z","acknowledged_by":{"name":"Sam"}}
            """
        let directory = Directory(
            organisations: [Organisation(code: ODSCode("X27"), name: "Riverside", domain: .localAuthority)],
            mailboxes: [Mailbox(id: MailboxID("BOB"), organisation: ODSCode("X27"), name: "Bob")])
        let index = DirectoryIndex(directory: directory, version: 1, passwords: [:])
        let now = try #require(Timestamp.parseISO("2026-11-30T10:00:00Z"))
        let facts = try #require(AlertFacts.parse(body: body, index: index, consoleURL: "https://h.example.org/", now: now))
        #expect(facts.event == .acknowledged && facts.stage == 2 && facts.condition == .noOutcome && facts.acknowledgedBy == "Sam")
        #expect(facts.receiving?.label == "Riverside (X27)" && facts.sending == nil, "ALICE is not in this directory")
        #expect(facts.link == "https://h.example.org/console/alerts/a9" && facts.waitedSeconds == 25 * 3600)
        #expect(AlertFacts.parse(body: #"{"alert_id":"a"}"#, index: index, consoleURL: nil, now: now) == nil)
        #expect(AlertFacts.duration(59) == "59 s" && AlertFacts.duration(3660) == "1 h 01 min" && AlertFacts.duration(90_000) == "1 d 1 h")
    }

    @Test func emailsAreMultipartWithSafeHeaders() throws {
        var f = Self.facts(.raised)
        f.receiving = .init(code: "W1", name: "Cyngor Sir Ynys Môn\r\nBcc: evil@example.org")
        let mail = AlertEmail.compose(f, from: "alerts@h.example.org", to: "duty@council.example.org", deliveryID: "d-1")
        let head = try #require(mail.components(separatedBy: "\r\n\r\n").first)
        #expect(!head.contains("Bcc:") && head.contains("Subject: =?UTF-8?B?"), "a CR LF in a name cannot start a header")
        #expect(head.contains("Message-ID: <d-1@h.example.org>") && head.contains("References: <alert-a1@h.example.org>"))
        #expect(head.contains("To: <duty@council.example.org>") && head.contains("Auto-Submitted: auto-generated"))
        #expect(mail.contains("Content-Type: text/plain; charset=utf-8") && mail.contains("Content-Type: text/html; charset=utf-8"))
        #expect(mail.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 998 }, "RFC 5322 line length")
        #expect(!mail.replacingOccurrences(of: "\r\n", with: "").contains("\n"), "CRLF line ends only")
    }

    @Test func smtpRepliesAreReadAcrossReadsAndBounded() throws {
        var parser = SMTPReplyParser()
        #expect(try parser.feed(Array("250-relay.example.org\r\n250-STAR".utf8)).isEmpty)
        let replies = try parser.feed(Array("TTLS\r\n250 AUTH PLAIN\r\n220 go ahead\r\n".utf8))
        #expect(replies.count == 2 && replies[0].code == 250 && replies[0].extensions == ["STARTTLS", "AUTH PLAIN"] && replies[1].code == 220)
        #expect(SMTPReply(code: 550, lines: []).isPermanentFailure && !SMTPReply(code: 451, lines: []).isPermanentFailure)
        #expect(parser.isEmpty)
        var partial = SMTPReplyParser()
        _ = try partial.feed(Array("220 go ahead\r\n250 inj".utf8))
        #expect(!partial.isEmpty, "bytes after a reply are noticed")
        var bad = SMTPReplyParser()
        #expect(throws: SMTPReplyParser.Malformed.self) { try bad.feed(Array("HTTP/1.1 200 OK\r\n".utf8)) }
        var mixed = SMTPReplyParser()
        #expect(throws: SMTPReplyParser.Malformed.self) { try mixed.feed(Array("250-a\r\n251 b\r\n".utf8)) }
        var endless = SMTPReplyParser()
        #expect(throws: SMTPReplyParser.Malformed.self) { try endless.feed([UInt8](repeating: 65, count: 5000)) }
        var many = SMTPReplyParser()
        #expect(throws: SMTPReplyParser.Malformed.self) { try many.feed(Array(String(repeating: "250-x\r\n", count: 200).utf8)) }
    }

    @Test func dataIsDotStuffedAndTerminated() {
        #expect(SMTPMessage.dataSection("a\n.b\r\n..c") == "a\r\n..b\r\n...c\r\n.\r\n")
        #expect(SMTPMessage.dataSection("x\r\n") == "x\r\n.\r\n")
    }

    @Test func emailAddressesArePlainAndHeaderSafe() {
        for good in ["duty-manager@riverside.gov.uk", "a.b+c@x.example", "o'neil@nhs.net"] { #expect(EmailAddress.isValid(good), "\(good)") }
        for bad in [
            "", "no-at", "a@b", "a@@b.org", "a b@c.org", "a@b.org\r\nBcc: x@y.org", "<a@b.org>", "a@-b.org", ".a@b.org", "a..b@c.org",
            String(repeating: "a", count: 65) + "@b.org", "a@b_c.org", "é@b.org",
        ] {
            #expect(!EmailAddress.isValid(bad), "\(bad)")
        }
    }

    @Test func theDirectorySaysWhatIsWrongWithAFormatOrAnAddress() throws {
        let json = """
            {"mailboxes":[{"id":"M","organisation":"A","name":"M","password":"${P}"}],
             "organisations":[{"code":"A","name":"A","domain":"nhs"}],
             "escalation_policies":[{"id":"p","stages":[{"after":"1h","when":"not-accepted",
               "notify":[{"email":"duty@example.org"},{"email":"not an address"},{"email":"x@y.org\\r\\nBcc: z@y.org"},{"webhook":"chat"}]}]}],
             "webhooks":[{"id":"chat","url":"${SLACK_URL}","format":"slack"},
                 {"id":"pd","url":"https://events.pagerduty.com/v2/enqueue","format":"pagerduty-events-v2"},
                         {"id":"odd","url":"https://x.example.org","secret":"${S}","format":"pagerduty-v1"},
                             {"id":"a:b","url":"https://x.example.org","secret":"${S}"}]}
            """
        let document = try JSONDecoder().decode(DirectoryDocument.self, from: Data(json.utf8))
        let (directory, problems) = DirectoryBuilder.build([(source: "d", document: document)])
        let messages = problems.map(\.description)
        #expect(messages.count == 5, "\(messages)")
        #expect(messages.contains { $0.contains(#""not an address" is not an email address"#) })
        #expect(messages.contains { $0.contains(#""x@y.org\r\nBcc: z@y.org" is not"#) }, "control characters shown, not written")
        #expect(messages.contains { $0.contains("webhook odd") && $0.contains("pagerduty-events-v2") && $0.contains("slack") })
        #expect(directory.escalationPolicies.first?.stages.first?.notify == [.email("duty@example.org"), .webhook("chat")])
        let invalid = DirectoryValidator.problems(in: directory).map { "\($0.entry) \($0.field): \($0.message)" }
        #expect(invalid.contains { $0.hasPrefix("webhook pd secret") && $0.contains("routing key") }, "\(invalid)")
        #expect(invalid.contains { $0.hasPrefix("webhook a:b id") })
        #expect(!invalid.contains { $0.hasPrefix("webhook chat") }, "a chat URL from the environment needs no secret")
        #expect(DirectoryDocument(directory).webhooks?.first { $0.id == "chat" }?.format == "slack")
    }
}
