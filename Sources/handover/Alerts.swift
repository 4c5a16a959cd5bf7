import ArgumentParser
import Foundation
import HandoverCore
import HandoverServer
import HandoverStore
import Logging

struct Alerts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check that alerts reach people.",
        subcommands: [Test.self])

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a clearly marked test notification to one webhook (in its format) or email address, now, and say what happened.",
            discussion: """
                Uses the store's current directory and this environment's secrets, as the broker would. PagerDuty and
                Alertmanager keep the test alert open: run again with --resolve to close it.
                """)
        @Option(help: "A webhook id from the directory.") var webhook: String?
        @Option(help: "An email address (needs --smtp-url and --smtp-from).") var email: String?
        @Flag(help: "Resolve the test alert instead of raising it.") var resolve = false
        @Option(help: "The store (HANDOVER_DATABASE).") var database: String?
        @Option(name: .customLong("smtp-url"), help: "As for serve (HANDOVER_SMTP_URL).") var smtpURL: String?
        @Option(name: .customLong("smtp-from"), help: "As for serve (HANDOVER_SMTP_FROM).") var smtpFrom: String?
        @Option(name: .customLong("smtp-ca"), help: "As for serve (HANDOVER_SMTP_CA).") var smtpCA: String?
        @Option(name: .customLong("console-url"), help: "As for serve (HANDOVER_CONSOLE_URL).") var consoleURL: String?

        func validate() throws {
            guard (webhook == nil) != (email == nil) else { throw ValidationError("name one target: --webhook ID or --email ADDRESS") }
            if let email, !EmailAddress.isValid(email) { throw ValidationError("--email must be an address such as duty@example.org") }
        }

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            let store = try await StoreOpening.open(database)
            guard let current = try await store.currentDirectory() else { throw ValidationError("the store has no directory yet") }
            let (directory, _) = DirectoryBuilder.build([(source: "directory", document: current.document)])
            let index = DirectoryIndex(directory: directory, version: current.version, passwords: [:])
            var config = ServeConfiguration()
            config.smtpURL = smtpURL ?? environment["HANDOVER_SMTP_URL"]
            config.smtpFrom = smtpFrom ?? environment["HANDOVER_SMTP_FROM"]
            config.smtpCA = smtpCA ?? environment["HANDOVER_SMTP_CA"]
            config.consoleURL = consoleURL ?? environment["HANDOVER_CONSOLE_URL"]
            var notes: [String] = []
            let channels = try BrokerApplication.notificationChannels(config, environment: environment, directory: directory, notes: &notes)
            let target: String
            if let webhook {
                guard let hook = directory.webhooks.first(where: { $0.id == webhook }) else {
                    let known = directory.webhooks.map(\.id).joined(separator: ", ")
                    throw ValidationError(
                        "no webhook \(webhook) in directory version \(current.version)" + (known.isEmpty ? "" : " (there are: \(known))"))
                }
                print("webhook \(hook.id): format \(hook.format.rawValue)")
                target = hook.id
            } else {
                guard channels.smtp != nil else {
                    throw ValidationError("--email needs --smtp-url and --smtp-from (or HANDOVER_SMTP_URL and HANDOVER_SMTP_FROM)")
                }
                target = AlertNotification.emailTarget(email ?? "")
            }
            let sender = WebhookSender(
                store: store, directory: DirectoryHolder(index), environment: environment, channels: channels,
                clock: SystemClock.now, logger: Logger(label: "handover.alerts"))
            let facts = AlertFacts.test(
                now: SystemClock.now(), resolve: resolve, link: config.consoleURL.map { AlertFacts.link(base: $0, alertID: "route-check") })
            let outcome = await sender.deliver(
                to: target, facts: facts, storedBody: "", deliveryID: "route-check-\(randomHex(bytes: 6))", index: index)
            await store.close()
            if let failure = outcome.failure {
                print("not delivered: \(failure)")
                throw ExitCode(1)
            }
            print("delivered (\(target.hasPrefix("mailto:") ? "SMTP" : "HTTP") \(outcome.status.map(String.init) ?? "?")): \(facts.summary)")
        }
    }
}
