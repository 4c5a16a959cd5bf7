import Foundation
import HTTPTypes
import HandoverConsole
import HandoverCore
import HandoverStore
import HandoverTestSupport
import HummingbirdTesting
import Testing

/// One directory entry edited in a form over live HTTP: a problem beside its field, review with the
/// change named, apply with the starting version (a stale one refused), secrets kept.
@Suite("Console directory: one entry in a form")
struct ConsoleDirectoryEntryTests {
    @Test func aMailboxIsEditedInAFormWithProblemsBesideTheirFields() async throws {
        let admin = ConsoleUser(email: "admin@x26.example.org", name: "Ada Admin", roles: [.admin])
        try await ConsoleMailboxTests().withSignedIn(admin) { broker, browser in
            let directory = String(buffer: try await browser.call(.get, "/console/directory").body)
            #expect(directory.contains("href=\"/console/directory/entries/mailboxes/BOB\""))
            let form = try await browser.call(.get, "/console/directory/entries/mailboxes/BOB")
            let page = String(buffer: form.body)
            #expect(form.status == .ok && page.contains("<h1>Edit mailbox BOB</h1>") && page.contains("value=\"Bob box\""))
            let version = try #require(try await broker.parts.store.currentDirectory()?.version)
            func submit(_ fields: [String: String], action: String, version: Int64) async throws -> TestResponse {
                let base = ["csrf": browser.token(form), "version": String(version), "action": action, "id": "BOB", "password": "'${BOB_PW}'"]
                return try await browser.call(.post, "/console/directory/entries/mailboxes/BOB", form: base.merging(fields) { $1 })
            }
            // An unknown organisation: refused, the problem beside the organisation field.
            let unknown = try await submit(["organisation": "X99", "name": "Bob box"], action: "validate", version: version)
            let unknownPage = String(buffer: unknown.body)
            #expect(unknown.status == .badRequest && unknownPage.contains("id=\"f-organisation-error\""), "\(unknownPage.prefix(3000))")
            // Not YAML at all: named on its field.
            let broken = try await submit(["organisation": "[X27", "name": "Bob box"], action: "validate", version: version)
            #expect(broken.status == .badRequest && String(buffer: broken.body).contains("id=\"f-organisation-error\""))
            // Review names the change; apply saves it from the version the form started from.
            let review = try await submit(["organisation": "X27", "name": "Bob's council box"], action: "review", version: version)
            #expect(review.status == .ok && String(buffer: review.body).contains("changed mailbox BOB (name)"))
            let applied = try await submit(["organisation": "X27", "name": "Bob's council box"], action: "apply", version: version)
            #expect(applied.headers[.location] == "/console/directory?applied=\(version + 1)")
            let saved = try #require(try await broker.parts.store.currentDirectory()?.document.mailboxes?.first { $0.id == "BOB" })
            #expect(saved.name == "Bob's council box" && saved.password == "${BOB_PW}" && saved.organisation == "X27")
            // The same form again, from the old version: someone saved meanwhile.
            let stale = try await submit(["organisation": "X27", "name": "Another name"], action: "apply", version: version)
            #expect(stale.status == .conflict && String(buffer: stale.body).contains("Someone saved the directory"))
            #expect(try await browser.call(.get, "/console/directory/entries/mailboxes/NOBODY").status == .notFound)
        }
    }

    /// A literal password (sandbox mode only) is shown redacted; left so, it keeps its value.
    @Test func aRedactedSecretLeftAsShownKeepsItsValue() async throws {
        let admin = ConsoleUser(email: "admin@x26.example.org", name: "Ada Admin", roles: [.admin])
        let routes = TestBroker.defaultRoutes.replacingOccurrences(of: #"password: "${BOB_PW}""#, with: "password: literal-bob-secret")
        try await ConsoleMailboxTests().withSignedIn([admin], routesYAML: routes, sandbox: true) { broker, browsers in
            let browser = browsers[0]
            let form = try await browser.call(.get, "/console/directory/entries/mailboxes/BOB")
            let page = String(buffer: form.body)
            // Shown as the YAML text '<redacted>', and sent back as shown.
            #expect(page.contains("value=\"&#39;&lt;redacted&gt;&#39;\"") && !page.contains("literal-bob-secret"), "\(page.prefix(4000))")
            let version = try #require(try await broker.parts.store.currentDirectory()?.version)
            let applied = try await browser.call(
                .post, "/console/directory/entries/mailboxes/BOB",
                form: [
                    "csrf": browser.token(form), "version": String(version), "action": "apply", "id": "BOB", "organisation": "X27",
                    "name": "Renamed box", "password": "'\(DirectorySecrets.placeholder)'",
                ])
            #expect(applied.headers[.location] == "/console/directory?applied=\(version + 1)", "\(String(buffer: applied.body).prefix(3000))")
            let saved = try #require(try await broker.parts.store.currentDirectory()?.document.mailboxes?.first { $0.id == "BOB" })
            #expect(saved.name == "Renamed box" && saved.password == "literal-bob-secret")
        }
    }
}
