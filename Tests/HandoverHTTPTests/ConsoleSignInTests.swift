import Foundation
import HTTPTypes
import HandoverConsole
import HandoverCore
import HandoverTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

/// The console's sign-in and session rules over real HTTP, on each store backend (this suite also
/// runs in the PostgreSQL leg): both factors, the one-time password replaced, failures slowed, forms
/// refused without their token or from another origin, idle sessions ended.
@Suite("Console sign-in and sessions")
struct ConsoleSignInTests {
    /// A browser's worth of state: cookies and the last form token.
    final class Browser: @unchecked Sendable {
        let client: any TestClientProtocol
        var cookies: [String: String] = [:]
        var origin = "http://localhost"
        init(_ client: any TestClientProtocol) { self.client = client }

        @discardableResult
        func call(_ method: HTTPRequest.Method, _ path: String, form: [String: String]? = nil, origin: String? = nil) async throws -> TestResponse {
            var headers: HTTPFields = [:]
            if !cookies.isEmpty { headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
            var body: ByteBuffer?
            if let form {
                headers[.contentType] = "application/x-www-form-urlencoded"
                headers[.origin] = origin ?? self.origin
                body = ByteBuffer(
                    string: form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(
                        separator: "&"))
            }
            let response = try await client.execute(uri: path, method: method, headers: headers, body: body)
            for value in response.headers[values: .setCookie] {
                let pair = value.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let (name, content) = (String(pair[0]), pair.count > 1 ? String(pair[1]) : "")
                if value.contains("Max-Age=0") || content.isEmpty { cookies[name] = nil } else { cookies[name] = content }
            }
            return response
        }

        /// The CSRF token of the last page's first form.
        func token(_ page: TestResponse) -> String {
            let text = String(buffer: page.body)
            guard let range = text.range(of: #"name="csrf" value="[0-9a-f]+""#, options: .regularExpression) else { return "" }
            return String(text[range].dropFirst(#"name="csrf" value=""#.count).dropLast())
        }
    }

    struct Person {
        var email: String
        var password: String
        var secret: [UInt8]
    }

    func withConsole(_ body: @escaping @Sendable (TestBroker, Browser, Person) async throws -> Void) async throws {
        let broker = try await TestBroker()
        let created = try await ConsoleAccounts.create(
            ConsoleUser(email: "dana@x27.example.org", name: "Dana Duty", roles: [.operator], organisations: ["X27"]), store: broker.parts.store,
            secrets: broker.parts.secrets, actor: "test", now: broker.clock.now)
        let secret = try #require(created.totpURI.split(separator: "secret=").last?.split(separator: "&").first.flatMap { Base32.decode(String($0)) })
        let person = Person(email: created.user.email, password: created.oneTimePassword, secret: secret)
        let clock = broker.clock
        let console = try Console(
            store: broker.parts.store, manager: broker.parts.directoryManager, secrets: broker.parts.secrets, clock: { clock.now },
            secureCookies: false,
            logger: Logger(label: "test"))
        let app = Application(router: console.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in try await body(broker, Browser(client), person) }
        await broker.close()
    }

    func code(_ person: Person, _ broker: TestBroker, stepsAhead: Int64 = 0) -> String {
        TOTP.code(secret: person.secret, counter: TOTP.counter(at: broker.clock.now) + stepsAhead)
    }

    @Test func signingInTakesBothFactorsAndReplacesTheOneTimePassword() async throws {
        try await withConsole { broker, browser, person in
            #expect(try await browser.call(.get, "/console/alerts").headers[.location] == "/console/sign-in")
            var page = try await browser.call(.get, "/console/sign-in")
            let wrong = try await browser.call(
                .post, "/console/sign-in", form: ["csrf": browser.token(page), "email": person.email, "password": "nope"])
            #expect(wrong.status == .unauthorized && String(buffer: wrong.body).contains("email address or password is not right"))
            page = try await browser.call(.get, "/console/sign-in")
            let right = try await browser.call(
                .post, "/console/sign-in", form: ["csrf": browser.token(page), "email": person.email, "password": person.password])
            #expect(right.headers[.location] == "/console/sign-in/code")
            #expect(try await browser.call(.get, "/console/alerts").headers[.location] == "/console/sign-in/code", "one factor is not enough")
            page = try await browser.call(.get, "/console/sign-in/code")
            let badCode = try await browser.call(
                .post, "/console/sign-in/code", form: ["csrf": browser.token(page), "code": code(person, broker, stepsAhead: 5)])
            #expect(badCode.status == .unauthorized)
            let good = try await browser.call(.post, "/console/sign-in/code", form: ["csrf": browser.token(page), "code": code(person, broker)])
            #expect(good.headers[.location] == "/console/sign-in/new-password")
            page = try await browser.call(.get, "/console/sign-in/new-password")
            let short = try await browser.call(
                .post, "/console/sign-in/new-password", form: ["csrf": browser.token(page), "password": "short", "confirm": "short"])
            #expect(short.status == .badRequest)
            let chosen = "a much longer passphrase"
            let saved = try await browser.call(
                .post, "/console/sign-in/new-password", form: ["csrf": browser.token(page), "password": chosen, "confirm": chosen])
            #expect(saved.headers[.location] == "/console")
            #expect(try await browser.call(.get, "/console/alerts").status == .ok)
            let account = try #require(try await broker.parts.store.consoleAccount(email: person.email))
            #expect(!account.user.mustChangePassword && account.passwordHash.hasPrefix("$2"))
            let actions = try await broker.parts.store.auditEntries(afterSequence: 0, limit: 1000).map(\.action)
            #expect(
                actions.contains("console.sign_in_failed") && actions.contains("console.signed_in") && actions.contains("console.password_changed"))
        }
    }

    @Test func repeatedFailuresAreSlowedThenLetThrough() async throws {
        try await withConsole { broker, browser, person in
            for _ in 0..<3 {
                let page = try await browser.call(.get, "/console/sign-in")
                _ = try await browser.call(
                    .post, "/console/sign-in", form: ["csrf": browser.token(page), "email": person.email, "password": "wrong"])
            }
            var page = try await browser.call(.get, "/console/sign-in")
            let slowed = try await browser.call(
                .post, "/console/sign-in", form: ["csrf": browser.token(page), "email": person.email, "password": person.password])
            #expect(slowed.status == .tooManyRequests && String(buffer: slowed.body).contains("Too many attempts"))
            broker.clock.advance(seconds: 2)
            page = try await browser.call(.get, "/console/sign-in")
            let through = try await browser.call(
                .post, "/console/sign-in", form: ["csrf": browser.token(page), "email": person.email, "password": person.password])
            #expect(through.headers[.location] == "/console/sign-in/code", "slowed, never locked")
        }
    }

    @Test func formsWithoutTheirTokenOrFromAnotherSiteAreRefused() async throws {
        try await withConsole { broker, browser, person in
            let page = try await browser.call(.get, "/console/sign-in")
            let token = browser.token(page)
            let form = ["csrf": token, "email": person.email, "password": person.password]
            #expect(
                try await browser.call(.post, "/console/sign-in", form: ["email": person.email, "password": person.password]).status == .forbidden)
            #expect(try await browser.call(.post, "/console/sign-in", form: form, origin: "https://attacker.example").status == .forbidden)
            #expect(try await browser.call(.post, "/console/sign-in", form: form, origin: "null").status == .forbidden)
            #expect(try await browser.call(.post, "/console/sign-in", form: form).headers[.location] == "/console/sign-in/code")
            let cookies = browser.cookies
            browser.cookies = [:]
            #expect(try await browser.call(.post, "/console/sign-in", form: form).status == .forbidden, "a token without its cookie")
            browser.cookies = cookies
        }
    }

    @Test func anIdleSessionEnds() async throws {
        try await withConsole { broker, browser, person in
            var page = try await browser.call(.get, "/console/sign-in")
            _ = try await browser.call(
                .post, "/console/sign-in", form: ["csrf": browser.token(page), "email": person.email, "password": person.password])
            page = try await browser.call(.get, "/console/sign-in/code")
            _ = try await browser.call(.post, "/console/sign-in/code", form: ["csrf": browser.token(page), "code": code(person, broker)])
            page = try await browser.call(.get, "/console/sign-in/new-password")
            let chosen = "a much longer passphrase"
            _ = try await browser.call(
                .post, "/console/sign-in/new-password", form: ["csrf": browser.token(page), "password": chosen, "confirm": chosen])
            #expect(try await browser.call(.get, "/console/alerts").status == .ok)
            broker.clock.advance(seconds: 29 * 60)
            #expect(try await browser.call(.get, "/console/alerts").status == .ok, "activity keeps the session")
            broker.clock.advance(seconds: 29 * 60)
            #expect(try await browser.call(.get, "/console/alerts").status == .ok)
            broker.clock.advance(seconds: 31 * 60)
            #expect(try await browser.call(.get, "/console/alerts").headers[.location] == "/console/sign-in?ended=idle")
            #expect(try await browser.call(.get, "/console/alerts").headers[.location] == "/console/sign-in", "the session is gone")
        }
    }
}
