import Foundation
import HTTPTypes
import HandoverConsole
import HandoverCore
import HandoverStore
import HandoverTestSupport
import HummingbirdTesting
import NIOCore
import Testing

/// The Messages page's search by NHS number over live HTTP: a reason is required and recorded, the
/// number is checked and never echoed or stored in the audit, and only the searcher's organisations'
/// crossings are found.
@Suite("Console messages: search by NHS number")
struct ConsoleMessagesTests {
    /// A message from `from` to `to` about `nhsNumber`, stored as a send would store it.
    func store(_ broker: TestBroker, from: String, to: String, about nhsNumber: String, restricted: Bool = false) async throws -> String {
        let now = broker.clock.now
        var crossing = CrossingRecord()
        crossing.subjects = [CrossingSubject(nhsNumber: nhsNumber, restricted: restricted ? true : nil)]
        let id = MessageIDGenerator.shared.next(now: now)
        _ = try await broker.parts.store.createMessage(
            MessageRecord(
                id: id, sender: MailboxID(from), recipient: MailboxID(to), workflowID: "WF", totalChunks: 1, status: .uploading, createdAt: now,
                crossing: crossing),
            firstChunk: StagedChunk.inline("x", now: now), now: now)
        return id.rawValue
    }

    @Test func aSearchByNHSNumberAsksWhyRecordsItAndStaysInTheirOrganisations() async throws {
        let duty = ConsoleUser(email: "duty@x27.example.org", name: "Dee Duty", roles: [.operator], organisations: ["X27"])
        try await ConsoleMailboxTests().withSignedIn(duty) { broker, browser in
            let ours = try await store(broker, from: "ALICE", to: "BOB", about: "4010232137")
            let notOurs = try await store(broker, from: "ALICE", to: "CAROL", about: "4010232137")
            let someoneElse = try await store(broker, from: "ALICE", to: "BOB", about: "9434765919")
            let restricted = try await store(broker, from: "ALICE", to: "BOB", about: "401 023 2137", restricted: true)
            let page = try await browser.call(.get, "/console/messages")
            func search(_ number: String, _ reason: String) async throws -> TestResponse {
                try await browser.call(
                    .post, "/console/messages/nhs-number", form: ["csrf": browser.token(page), "nhs_number": number, "reason": reason])
            }
            // No reason, or a number that fails its check: refused, naming the problem, not the number.
            let noReason = try await search("4010232137", "")
            #expect(noReason.status == .badRequest && String(buffer: noReason.body).contains("Say why you are searching"))
            let badNumber = try await search("4010232136", "assessment follow-up")
            #expect(badNumber.status == .badRequest && String(buffer: badNumber.body).contains("fails the modulus 11 check"))
            #expect(!String(buffer: badNumber.body).contains("4010232136"))
            // Without the form's token: refused before anything is searched.
            let forged = try await browser.call(.post, "/console/messages/nhs-number", form: ["nhs_number": "4010232137", "reason": "forged"])
            #expect(forged.status == .forbidden)

            let found = try await search("401 023 2137", "planning the care assessment")
            let body = String(buffer: found.body)
            #expect(found.status == .ok && body.contains("1 message(s) about that NHS number"))
            #expect(body.contains(ours) && !body.contains(notOurs) && !body.contains(someoneElse) && !body.contains(restricted))
            #expect(!body.contains("4010232137") && !body.contains("401 023 2137"))
            // Recorded with the reason and a keyed hash; the number itself is not in the audit.
            let entry = try #require(
                try await broker.parts.store.auditEntries(afterSequence: 0, limit: 1000).last { $0.action == "console.nhs_number_searched" })
            #expect(entry.actor == "console:duty@x27.example.org" && entry.detail.contains("planning the care assessment"))
            #expect(entry.detail.contains("hmac-sha256:") && !entry.detail.contains("4010232137") && entry.detail.contains(#""found":1"#))
        }
    }

    @Test func aMessagePageShowsItsReceiptVerifiedByTheServer() async throws {
        let duty = ConsoleUser(email: "duty@x27.example.org", name: "Dee Duty", roles: [.operator], organisations: ["X27"])
        try await ConsoleMailboxTests().withSignedIn(duty) { broker, browser in
            let id = try await store(broker, from: "ALICE", to: "BOB", about: "4010232137")
            let page = String(buffer: try await browser.call(.get, "/console/messages/\(id)").body)
            #expect(page.contains("<strong>Verified</strong> by the broker just now") && page.contains("&quot;message_id&quot;:&quot;\(id)&quot;"))
            let download = try await browser.call(.get, "/console/messages/\(id)/receipt")
            #expect(download.status == .ok && download.headers[.contentDisposition]?.hasPrefix("attachment;") == true)
            let fields = try #require(try JSONSerialization.jsonObject(with: Data(buffer: download.body)) as? [String: Any])
            #expect(
                (fields["receipt"] as? String)?.contains(id) == true && (fields["signature"] as? String)?.hasPrefix("-----BEGIN CMS-----") == true)
            let actions = try await broker.parts.store.auditEntries(afterSequence: 0, limit: 1000).map(\.action)
            #expect(actions.contains("console.receipt_downloaded"))
            // Another organisation's message has no receipt here either.
            let notOurs = try await store(broker, from: "ALICE", to: "CAROL", about: "4010232137")
            #expect(try await browser.call(.get, "/console/messages/\(notOurs)/receipt").status == .notFound)
        }
    }
}
