import Foundation
import HandoverCore
import HandoverStore
import Hummingbird
import Logging
import Synchronization

/// The web console (`/console/…` on its own listener): another door into the same store, directory
/// and audit chain as the APIs, for people rather than systems. Server-rendered pages and plain forms;
/// every page works without JavaScript.
public struct Console: Sendable {
    let store: any BrokerStore
    let manager: DirectoryManager
    /// Opens sealed TOTP secrets.
    let secrets: SecretBox
    let clock: @Sendable () -> Timestamp
    let policy: ConsoleSessionPolicy
    let pages: ConsolePages
    let throttle: SignInThrottleLock
    let logger: Logger
    /// False only for in-process tests over plain HTTP: cookies are otherwise `Secure`.
    let secureCookies: Bool
    /// The OpenID provider, when people may sign in with their organisation's account.
    let oidc: OIDCProvider?
    /// The console's public address (`--console-url`), for the OpenID redirect.
    let publicURL: String?
    /// Wakes the escalation scheduler when a stage is brought forward, so it fires now, not at its next pass.
    let wakeEscalation: @Sendable () -> Void
    /// Makes and checks a delivered message's receipt (the broker's receipt key lives with the MESH
    /// side); nil when the console runs without one.
    let receipts: (@Sendable (MessageRecord) async throws -> ReceiptCheck?)?

    public init(
        store: any BrokerStore, manager: DirectoryManager, secrets: SecretBox, clock: @escaping @Sendable () -> Timestamp,
        policy: ConsoleSessionPolicy = ConsoleSessionPolicy(), secureCookies: Bool = true, oidc: OIDCConfiguration? = nil, publicURL: String? = nil,
        wakeEscalation: @escaping @Sendable () -> Void = {}, receipts: (@Sendable (MessageRecord) async throws -> ReceiptCheck?)? = nil,
        logger: Logger
    ) throws {
        self.receipts = receipts
        (self.store, self.manager, self.secrets, self.clock, self.policy) = (store, manager, secrets, clock, policy)
        (self.oidc, self.publicURL, self.wakeEscalation) = (oidc.map(OIDCProvider.init), publicURL, wakeEscalation)
        (self.secureCookies, self.logger) = (secureCookies, logger)
        pages = try ConsolePages(policy: policy)
        throttle = SignInThrottleLock()
    }

    var directory: DirectoryIndex { manager.holder.snapshot }

    /// Every console route. Sign-in pages are open; the rest need an active session, which the
    /// session middleware checks (and, for every POST, the form's origin) before any handler runs.
    public func router() -> Router<ConsoleRequestContext> {
        let router = Router(context: ConsoleRequestContext.self)
        router.add(middleware: ConsoleSecurityHeaders())
        router.add(middleware: ConsoleErrorPages(pages: pages, logger: logger))
        router.add(middleware: ConsoleOriginCheck())
        router.get("/") { _, _ in Response.redirect(to: "/console", type: .normal) }
        router.get("/console/assets/console.css") { _, _ in ConsoleAssets.response(ConsoleAssets.css, contentType: "text/css; charset=utf-8") }
        router.get("/console/assets/console.js") { _, _ in ConsoleAssets.response(ConsoleAssets.script, contentType: "text/javascript; charset=utf-8")
        }
        registerSignIn(on: router)
        registerOIDC(on: router)
        let people = router.group("/console").add(middleware: ConsoleSessionMiddleware(console: self))
        people.get("") { _, context in try home(context) }
        people.post("session/keep-alive") { request, context in try await keepAlive(request, context) }
        registerAlerts(on: people)
        registerMessages(on: people)
        registerDirectory(on: people)
        registerDirectoryEntry(on: people)
        registerBoundaries(on: people)
        registerMailbox(on: people)
        registerMailboxActions(on: people)
        registerSent(on: people)
        registerSend(on: people)
        return router
    }

    func home(_ context: ConsoleRequestContext) throws -> Response {
        let (_, user) = try context.signedIn()
        let first = ConsoleAccess(user: user, directory: directory).sections.first ?? .directory
        return .redirect(to: "/console/\(first.rawValue)", type: .normal)
    }

    /// The signed-in person's access, or a refusal when the page is not for their roles.
    func access(_ context: ConsoleRequestContext, for section: ConsoleSection) throws -> (ConsoleSession, ConsoleAccess) {
        let (session, user) = try context.signedIn()
        let access = ConsoleAccess(user: user, directory: directory)
        guard access.sections.contains(section) else { throw ConsoleRefusal.notYourPage }
        return (session, access)
    }

    /// The idle warning's "Stay signed in": the session middleware has already seen the request.
    func keepAlive(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, _) = try context.signedIn()
        _ = try await ConsoleForm.read(request, expectedToken: session.csrfToken)
        try await store.updateConsoleSession(idHash: session.idHash, stage: .active, lastSeenAt: clock())
        if request.headers[.accept]?.contains("application/json") == true { return Response(status: .noContent) }
        return .redirect(to: "/console", type: .normal)
    }

    func actor(_ user: ConsoleUser) -> String { "console:\(user.email)" }

    func audit(_ user: ConsoleUser, _ action: String, subject: String, detail: JSONValue = .object([])) async throws {
        try await store.appendAudit(AuditRecord(actor: actor(user), action: action, subject: subject, detail: detail.serialized), now: clock())
    }
}

/// The sign-in throttle behind a lock, shared by every request of this instance.
final class SignInThrottleLock: Sendable {
    private let state = Mutex(SignInThrottle())
    func withLock<T>(_ body: (inout SignInThrottle) -> T) -> T { state.withLock { body(&$0) } }
}
