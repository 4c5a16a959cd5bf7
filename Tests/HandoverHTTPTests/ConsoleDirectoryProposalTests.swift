import Foundation
import HTTPTypes
import HandoverConsole
import HandoverCore
import HandoverTestSupport
import HummingbirdTesting
import Testing

/// A second admin's approval in the console over live HTTP: Apply on a safeguarding change saves a
/// proposal; its author may withdraw but not approve it; another admin approves it into force; a
/// viewer reads it and can do neither.
@Suite("Console directory: a second admin approves safeguarding changes")
struct ConsoleDirectoryProposalTests {
    let ada = ConsoleUser(email: "ada@x26.example.org", name: "Ada Admin", roles: [.admin])
    let ben = ConsoleUser(email: "ben@x26.example.org", name: "Ben Admin", roles: [.admin])
    let val = ConsoleUser(email: "val@x26.example.org", name: "Val Viewer", roles: [.viewer], organisations: ["X26"])

    @Test func applyProposesAndAnotherAdminApproves() async throws {
        try await ConsoleMailboxTests().withSignedIn([ada, ben, val], routesYAML: safeguardingRoutes(notAcceptedAfter: "4h")) { broker, people in
            let (ada, ben, val) = (people[0], people[1], people[2])
            func policyAfter() -> DirectoryDuration? {
                broker.parts.directoryManager.holder.snapshot.directory.escalationPolicies.first?.stages.first?.after
            }
            func edit(_ after: String, action: String, by browser: ConsoleSignInTests.Browser) async throws -> TestResponse {
                let editor = try await browser.call(.get, "/console/directory/edit")
                let version = String(try #require(try await broker.parts.store.currentDirectoryVersion()))
                return try await browser.call(
                    .post, "/console/directory/edit",
                    form: [
                        "csrf": browser.token(editor), "version": version, "action": action, "yaml": safeguardingRoutes(notAcceptedAfter: after),
                    ])
            }
            // Review says a second admin is needed and why; Apply saves a proposal, not a version.
            let review = String(buffer: try await edit("8h", action: "review", by: ada).body)
            #expect(review.contains("Needs a second admin") && review.contains("escalation policy sg of SG changed"), "\(review.prefix(4000))")
            let applied = try await edit("8h", action: "apply", by: ada)
            #expect(applied.status == .seeOther || applied.status == .found, "\(applied.status)")
            let location = try #require(applied.headers[.location])
            #expect(location.hasPrefix("/console/directory/proposals/") && location.hasSuffix("?proposed=1"))
            #expect(try await broker.parts.store.currentDirectoryVersion() == 1 && policyAfter() == .elapsed(seconds: 4 * 3600))
            let path = String(location.prefix { $0 != "?" })

            // Its author sees it saved, may withdraw it, has no Approve; approving anyway is refused.
            let own = try await ada.call(.get, location)
            let ownPage = String(buffer: own.body)
            #expect(own.status == .ok && ownPage.contains("Your change is saved as proposal") && ownPage.contains("Withdraw"))
            #expect(!ownPage.contains("Approve and apply"))
            let selfApproval = try await ada.call(.post, path + "/approve", form: ["csrf": ada.token(own)])
            #expect(selfApproval.status == .forbidden && String(buffer: selfApproval.body).contains("another admin approves it"))

            // A viewer reads it (no buttons) and cannot approve.
            let viewed = try await val.call(.get, path)
            #expect(viewed.status == .ok && !String(buffer: viewed.body).contains("Approve and apply"))
            #expect(try await val.call(.post, path + "/approve", form: ["csrf": val.token(viewed)]).status == .forbidden)
            #expect(try await broker.parts.store.currentDirectoryVersion() == 1)

            // The second admin finds it on the directory page and approves it into force.
            let directory = String(buffer: try await ben.call(.get, "/console/directory").body)
            #expect(directory.contains("Waiting for a second admin") && directory.contains("href=\"\(path)\""))
            let page = try await ben.call(.get, path)
            let pageText = String(buffer: page.body)
            #expect(pageText.contains("Approve and apply") && pageText.contains("escalation policy sg of SG changed"))
            #expect(pageText.contains("<h1>Directory proposal"))
            let approved = try await ben.call(.post, path + "/approve", form: ["csrf": ben.token(page)])
            #expect(approved.headers[.location] == "/console/directory?applied=2")
            #expect(policyAfter() == .elapsed(seconds: 8 * 3600))
            let decided = String(buffer: try await val.call(.get, path).body)
            #expect(
                decided.contains("approved") && decided.contains("console:ben@x26.example.org") && decided.contains("/console/directory/versions/2"))
            #expect(!String(buffer: try await ben.call(.get, "/console/directory").body).contains("Waiting for a second admin"))

            // Withdrawn by its author: rejected, nothing applied.
            let second = try #require(try await edit("2h", action: "apply", by: ada).headers[.location])
            let secondPath = String(second.prefix { $0 != "?" })
            let withdrawn = try await ada.call(.post, secondPath + "/reject", form: ["csrf": ada.token(try await ada.call(.get, secondPath))])
            #expect(withdrawn.headers[.location] == secondPath)
            #expect(String(buffer: try await ada.call(.get, secondPath).body).contains("rejected"))
            #expect(try await broker.parts.store.currentDirectoryVersion() == 2 && policyAfter() == .elapsed(seconds: 8 * 3600))
        }
    }
}
