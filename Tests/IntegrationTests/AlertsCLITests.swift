import Foundation
import HandoverCore
import HandoverTestSupport
import Testing

/// `handover alerts test` against the real binary, a real store and a loopback receiver.
@Suite("handover alerts test")
struct AlertsCLITests {
    @Test(.enabled(if: ReceiverProcess.pythonReady, "needs Python with jsonschema (./scripts/test installs it)"))
    func aRouteCheckReachesTheWebhookInItsFormatAndMistakesAreSaidPlainly() throws {
        let folder = TestFolders.path("handover-alerts-cli")
        let routes = folder.appendingPathComponent("routes")
        try FileManager.default.createDirectory(at: routes, withIntermediateDirectories: true)
        let log = folder.appendingPathComponent("posts.jsonl")
        let receiver = try ReceiverProcess.start("http", [log.path, ReceiverProcess.scripts.appendingPathComponent("schemas").path])
        defer { receiver.stop() }
        try
            (TestBroker.defaultRoutes + """

                  - {id: SAFE, senders: [ALICE], receivers: [X27], escalation: p}
                escalation_policies:
                  - {id: p, stages: [{after: 4h, when: not-downloaded, notify: [{webhook: chat}, {webhook: pd}]}]}
                webhooks:
                  - {id: chat, format: slack, url: "${SLACK_URL}", allow_private: true}
                  - {id: pd, format: pagerduty-events-v2, url: "http://127.0.0.1:\(receiver.port)/pagerduty",
                      secret: "${PD_KEY}", allow_private: true}
                """).write(to: routes.appendingPathComponent("directory.yaml"), atomically: true, encoding: .utf8)
        let database = "sqlite:" + folder.appendingPathComponent("handover.sqlite").path
        let environment = TestBroker.passwords.merging(["SLACK_URL": "http://127.0.0.1:\(receiver.port)/slack", "PD_KEY": "ROUTING"]) { $1 }
        func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
            try HandoverCommand.run(arguments + ["--database", database], environment: environment)
        }
        let imported = try run(["routes", "import", routes.path])
        #expect(imported.status == 0, "\(imported.output)")

        let chat = try run(["alerts", "test", "--webhook", "chat"])
        #expect(chat.status == 0 && chat.output.contains("format slack") && chat.output.contains("delivered (HTTP 200)"), "\(chat.output)")
        let resolved = try run(["alerts", "test", "--webhook", "pd", "--resolve"])
        #expect(resolved.status == 0 && resolved.output.contains("HTTP 202"), "\(resolved.output)")
        let unknown = try run(["alerts", "test", "--webhook", "oncall"])
        #expect(
            unknown.status != 0 && unknown.output.contains("no webhook oncall") && unknown.output.contains("there are: chat, pd"), "\(unknown.output)"
        )
        let noRelay = try run(["alerts", "test", "--email", "duty@example.org"])
        #expect(noRelay.status != 0 && noRelay.output.contains("--smtp-url"), "\(noRelay.output)")
        let badAddress = try run(["alerts", "test", "--email", "duty"])
        #expect(badAddress.status != 0 && badAddress.output.contains("--email must be an address"), "\(badAddress.output)")

        let posts = ReceiverProcess.entries(log)
        #expect(posts.count == 2 && posts.allSatisfy { $0["valid"] as? Bool == true }, "\(posts)")
        let slack = try #require(posts.first { $0["path"] as? String == "/slack" }?["body"] as? String)
        #expect(slack.contains("TEST: Handover alert route check, no action needed"))
        let pagerDuty = try #require(posts.first { $0["path"] as? String == "/pagerduty" }?["body"] as? String)
        #expect(pagerDuty.contains(#""event_action":"resolve""#) && pagerDuty.contains(#""dedup_key":"handover-route-check""#))
    }
}
