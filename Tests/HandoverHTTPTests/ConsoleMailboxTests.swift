import Foundation
import HTTPTypes
import HandoverConsole
import HandoverCore
import HandoverGzip
import HandoverStore
import HandoverTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing

/// How often the console woke the escalation scheduler.
final class WakeCount: Sendable { let value = Atomic<Int>(0) }

/// The practitioner's send and sent pages over real HTTP, on each store backend: a send only from
/// their own mailbox, checked by the crossing rules; a withdrawal; a report in plain words.
@Suite("Console mailbox: send, withdraw, reports")
struct ConsoleMailboxTests {
    typealias Browser = ConsoleSignInTests.Browser

    /// Alice's practitioner, signed in (both factors and a new password).
    func withPractitioner(
        mailboxes: [MailboxID] = [MailboxID("ALICE")], wakes: WakeCount? = nil, _ body: @escaping @Sendable (TestBroker, Browser) async throws -> Void
    ) async throws {
        let ana = ConsoleUser(email: "ana@x26.example.org", name: "Ana Lee", roles: [.practitioner], mailboxes: mailboxes)
        try await withSignedIn([ana], wakes: wakes) { broker, browsers in try await body(broker, browsers[0]) }
    }

    /// A person with an account, signed in over live HTTP (both factors, then a new password).
    func withSignedIn(_ user: ConsoleUser, _ body: @escaping @Sendable (TestBroker, Browser) async throws -> Void) async throws {
        try await withSignedIn([user]) { broker, browsers in try await body(broker, browsers[0]) }
    }

    /// Several people, each signed in in their own browser, on one broker with `routesYAML`.
    func withSignedIn(
        _ users: [ConsoleUser], routesYAML: String = TestBroker.defaultRoutes, sandbox: Bool = false, wakes: WakeCount? = nil,
        _ body: @escaping @Sendable (TestBroker, [Browser]) async throws -> Void
    ) async throws {
        let broker = try await TestBroker(routesYAML: routesYAML, sandbox: sandbox)
        var accounts: [(email: String, password: String, secret: [UInt8])] = []
        for user in users {
            let created = try await ConsoleAccounts.create(
                user, store: broker.parts.store, secrets: broker.parts.secrets, actor: "test", now: broker.clock.now)
            let secret = try #require(
                created.totpURI.split(separator: "secret=").last?.split(separator: "&").first.flatMap { Base32.decode(String($0)) })
            accounts.append((created.user.email, created.oneTimePassword, secret))
        }
        let clock = broker.clock
        let console = try Console(
            store: broker.parts.store, manager: broker.parts.directoryManager, secrets: broker.parts.secrets, clock: { clock.now },
            secureCookies: false, wakeEscalation: { wakes?.value.add(1, ordering: .relaxed) },
            receipts: { [broker = broker.parts.broker] in try await broker.checkedReceipt(for: $0) }, logger: Logger(label: "test"))
        let app = Application(router: console.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        let signIns = accounts
        try await app.test(.live) { client in
            var browsers: [Browser] = []
            for account in signIns {
                let browser = Browser(client)
                var page = try await browser.call(.get, "/console/sign-in")
                try await browser.call(
                    .post, "/console/sign-in", form: ["csrf": browser.token(page), "email": account.email, "password": account.password])
                page = try await browser.call(.get, "/console/sign-in/code")
                let code = TOTP.code(secret: account.secret, counter: TOTP.counter(at: clock.now))
                try await browser.call(.post, "/console/sign-in/code", form: ["csrf": browser.token(page), "code": code])
                page = try await browser.call(.get, "/console/sign-in/new-password")
                let chosen = "a long passphrase for this person"
                try await browser.call(
                    .post, "/console/sign-in/new-password", form: ["csrf": browser.token(page), "password": chosen, "confirm": chosen])
                browsers.append(browser)
            }
            try await body(broker, browsers)
        }
        await broker.close()
    }

    @Test func aSendGoesOnlyFromTheirOwnMailboxAndPassesTheCrossingRules() async throws {
        let wakes = WakeCount()
        try await withPractitioner(wakes: wakes) { broker, browser in
            let page = try await browser.call(.get, "/console/send?workflow=WF&to=BOB")
            #expect(page.status == .ok && String(buffer: page.body).contains("It will go to Bob box (BOB)"))
            let preview = try await browser.call(.get, "/console/send/route?from=ALICE&workflow=WF&to=CAROL")
            #expect(String(buffer: preview.body).hasPrefix("It cannot be sent there"))
            let csrf = browser.token(page)
            func send(_ fields: [String: String]) async throws -> TestResponse {
                try await browser.call(
                    .post, "/console/send", form: ["csrf": csrf, "workflow": "WF", "to": "BOB", "text": "hello"].merging(fields) { $1 })
            }
            // Another mailbox, a check digit that fails, no text: refused, and nothing stored.
            #expect(try await send(["from": "CAROL"]).status == .badRequest)
            let badNumber = try await send(["from": "ALICE", "nhs_number": "4010232136"])
            #expect(badNumber.status == .badRequest && String(buffer: badNumber.body).contains("nhs_number"))
            // The error names the field, not the value (the field keeps what was typed, to correct it).
            let summary = String(buffer: badNumber.body).components(separatedBy: "error-summary").dropFirst().first?.components(separatedBy: "</div>")
                .first
            #expect(summary?.contains("nhs_number") == true && summary?.contains("4010232136") == false)
            #expect(try await send(["from": "ALICE", "text": ""]).status == .badRequest)
            #expect(try await broker.parts.store.searchMessages(.init(mailbox: MailboxID("BOB"))).isEmpty)
            #expect(wakes.value.load(ordering: .relaxed) == 0, "a refused send plans nothing")

            let sent = try await send(["from": "ALICE", "nhs_number": "4010232137", "action": "for-action", "local_id": "ref-7"])
            let location = try #require(
                sent.headers[.location], "\(String(buffer: sent.body).components(separatedBy: "error-summary").dropFirst().first ?? "")")
            #expect(location.hasPrefix("/console/sent/"))
            let id = MessageID(String(location.dropFirst("/console/sent/".count)))
            let stored = try #require(try await broker.parts.store.message(id))
            #expect(
                stored.sender == MailboxID("ALICE") && stored.recipient == MailboxID("BOB") && stored.status == .accepted && stored.localID == "ref-7"
            )
            #expect(stored.crossing?.provenance?.author?.name == "Ana Lee" && stored.crossing?.intent?.action == "for-action")
            #expect(stored.crossing?.derived?.payloadSHA256 == sha256Hex(Array("hello".utf8)))
            // The escalation scheduler is woken to plan its deadlines now, not at its next tick.
            #expect(wakes.value.load(ordering: .relaxed) == 1)

            // Withdrawn from the Sent page: the record says who and why; a second time is refused.
            let sentPage = try await browser.call(.get, location)
            let withdrawn = try await browser.call(
                .post, location + "/withdraw", form: ["csrf": browser.token(sentPage), "reason": "sent too early"])
            #expect(withdrawn.headers[.location] == location)
            let record = try #require(try await broker.parts.store.message(id)?.responsibility)
            #expect(record.state == .withdrawn && record.closedBy?.name == "Ana Lee" && record.closedReason == "sent too early")
            #expect(
                try await browser.call(.post, location + "/withdraw", form: ["csrf": browser.token(sentPage), "reason": "again"]).status == .conflict)
            // A link cannot make the Mailbox claim a redirect that did not happen.
            let crafted = try await browser.call(.get, "/console/mailbox?redirected=\(id.rawValue)")
            #expect(crafted.status == .ok && !String(buffer: crafted.body).contains("was sent on to"))
            // Another mailbox's sent message is not theirs.
            #expect(try await browser.call(.get, "/console/sent/NOT-THEIRS").status == .notFound)
        }
    }

    @Test func aFHIRDocumentIsSummarisedForItsRecipientAsTextOnly() async throws {
        try await withPractitioner(mailboxes: [MailboxID("ALICE"), MailboxID("BOB")]) { broker, browser in
            let bundle = try fixtureBytes("fhir/toc-discharge-summary-r4.json")
            let form = try await browser.call(.get, "/console/send")
            func send(_ text: String) async throws -> String {
                let sent = try await browser.call(
                    .post, "/console/send", form: ["csrf": browser.token(form), "from": "ALICE", "workflow": "WF", "to": "BOB", "text": text])
                return try #require(sent.headers[.location]).split(separator: "/").last.map(String.init) ?? ""
            }
            // Typed as text, it is still read as FHIR from its first bytes.
            let typed = try await send(String(decoding: bundle, as: UTF8.self))
            let page = String(buffer: try await browser.call(.get, "/console/mailbox/\(typed)").body)
            #expect(page.contains("What the document says") && page.contains("Discharge to assess: care and support needs"))
            #expect(page.contains("Medication statement: Sertraline 50mg tablets") && page.contains("Observations › Mobility"))
            #expect(page.contains("<dt>NHS number</dt><dd>4010232137</dd>") && page.contains("Discharge to residential home"))
            // The narrative as escaped text: its script is gone, its markup is not the page's.
            #expect(page.contains("Lives alone &lt;no family nearby&gt;.") && !page.contains("alert("))
            let actions = try await broker.parts.store.auditEntries(afterSequence: 0, limit: 1000).map(\.action)
            #expect(actions.contains("console.payload_summarised"))
            // The summary is not the message: it does not count as reading it.
            #expect(try await broker.parts.store.message(MessageID(typed))?.downloadedAt == nil)

            // Sent gzipped as FHIR over MESH (stored as MESH stores it): inflated to be summarised.
            let now = broker.clock.now
            let gzipped = Array(try Gzip.compress(Data(bundle)))
            let id = MessageIDGenerator.shared.next(now: now)
            _ = try await broker.parts.store.createMessage(
                MessageRecord(
                    id: id, sender: MailboxID("ALICE"), recipient: MailboxID("BOB"), workflowID: "WF", contentType: "application/fhir+json",
                    contentEncoding: .gzip, totalChunks: 1, status: .uploading, createdAt: now),
                firstChunk: StagedChunk(
                    uploadID: ChunkStager.newUploadID(now: now), size: Int64(gzipped.count), segmentCount: 1, sha256: sha256Hex(gzipped),
                    inlineSegment: ByteBuffer(bytes: gzipped)), now: now)
            let compressed = String(buffer: try await browser.call(.get, "/console/mailbox/\(id.rawValue)").body)
            #expect(compressed.contains("Discharge to assess: care and support needs"))

            // Plain text has no summary; a payload that looks like FHIR but is cut short says why.
            let plain = String(buffer: try await browser.call(.get, "/console/mailbox/\(try await send("hello"))").body)
            #expect(!plain.contains("What the document says") && !plain.contains("could not be summarised"))
            let cut = try await send(String(decoding: bundle.prefix(600), as: UTF8.self))
            let broken = String(buffer: try await browser.call(.get, "/console/mailbox/\(cut)").body)
            #expect(broken.contains("could not be summarised: the JSON is not complete or not valid"))
        }
    }

    @Test func aReportIsExplainedInPlainWords() async throws {
        try await withPractitioner { broker, browser in
            let page = try await browser.call(.get, "/console/send")
            let sent = try await browser.call(
                .post, "/console/send",
                form: ["csrf": browser.token(page), "from": "ALICE", "workflow": "WF", "to": "BOB", "text": "hello", "local_id": "ref-8"])
            let id = try #require(sent.headers[.location]).split(separator: "/").last.map(String.init) ?? ""
            // WF expires an hour after delivery; BOB never reads it.
            #expect(try await broker.parts.store.expireDue(now: broker.clock.now.adding(seconds: 7200), policy: ExpiryPolicy(), limit: 10) == 1)
            let mailbox = String(buffer: try await browser.call(.get, "/console/mailbox").body)
            #expect(mailbox.contains("Message \(id) (your reference ref-8) to BOB was not collected in time and has expired"))
        }
    }
}
