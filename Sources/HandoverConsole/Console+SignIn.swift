import HandoverCore
import HandoverStore
import Hummingbird

/// Signing in with a local account: email and password, then a TOTP code (never the same step
/// twice), then a new password when the first was a one-time one. The state between the steps is a
/// session row in the store, not a cookie the browser could change.
extension Console {
    static let signInCookie = "handover_signin"

    var sessionCookieName: String { secureCookies ? "__Host-handover_session" : "handover_session" }

    func registerSignIn(on router: Router<ConsoleRequestContext>) {
        router.get("/console/sign-in") { request, _ in signInPage(request) }
        router.post("/console/sign-in") { request, context in try await signIn(request, context) }
        router.get("/console/sign-in/code") { request, _ in try await stepPage(request, stage: .awaitingCode) }
        router.post("/console/sign-in/code") { request, context in try await checkCode(request, context) }
        router.get("/console/sign-in/new-password") { request, _ in try await stepPage(request, stage: .mustChangePassword) }
        router.post("/console/sign-in/new-password") { request, _ in try await newPassword(request) }
        router.post("/console/sign-out") { request, _ in try await signOut(request) }
    }

    // MARK: - Email and password

    func signInPage(_ request: Request, error: String? = nil, email: String = "", status: HTTPResponse.Status = .ok) -> Response {
        let token = request.cookies[Self.signInCookie]?.value ?? randomHex(bytes: 16)
        let notice: String? =
            switch request.uri.queryParameters.get("ended") {
            case "idle": "You were signed out because nothing happened for \(policy.idleSeconds / 60) minutes."
            case "signed-out": "You have signed out."
            default: nil
            }
        var response = pages.page(
            "sign-in", title: "Sign in",
            ["csrf": token, "error": error as Any, "email": email, "notice": notice as Any, "oidc": oidc != nil], status: status)
        response.setCookie(cookie(Self.signInCookie, token, path: "/console/sign-in", maxAge: 3600))
        return response
    }

    func signIn(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let form = try await ConsoleForm.read(request, expectedToken: request.cookies[Self.signInCookie]?.value ?? "")
        let email = ConsoleUser.normalise(email: form["email"] ?? "")
        let keys = ["account:" + email, "address:" + context.remoteAddress]
        let now = clock()
        let wait = throttle.withLock { $0.waitSeconds(for: keys, now: now) }
        guard wait == 0 else {
            return signInPage(request, error: "Too many attempts. Wait \(wait) seconds, then try again.", email: email, status: .tooManyRequests)
        }
        let account = email.isEmpty ? nil : try await store.consoleAccount(email: email)
        let passwordMatches = try await ConsolePasswords.verify(form["password"] ?? "", hash: account?.passwordHash)
        guard let account, passwordMatches, !account.user.disabled else {
            throttle.withLock { $0.recordFailure(for: keys, now: now) }
            try await auditFailedSignIn(email: email, factor: "password", now: now)
            return signInPage(request, error: "The email address or password is not right.", email: email, status: .unauthorized)
        }
        let (id, session) = newSession(userID: account.user.id, stage: .awaitingCode, now: now)
        try await store.createConsoleSession(session)
        // Sessions nobody has used for longer than any session may live are swept as people sign in.
        _ = try await store.deleteConsoleSessions(lastSeenBefore: now.adding(seconds: -policy.absoluteSeconds))
        // Sessions nobody has used for longer than any session may live are swept as people sign in.
        _ = try await store.deleteConsoleSessions(lastSeenBefore: now.adding(seconds: -policy.absoluteSeconds))
        var response = Response.redirect(to: "/console/sign-in/code", type: .normal)
        response.setCookie(cookie(sessionCookieName, id, path: "/", maxAge: Int(policy.absoluteSeconds)))
        return response
    }

    // MARK: - The code and the new password

    /// The session of someone part-way through signing in, at `stage`.
    func pendingSession(_ request: Request, stage: ConsoleSession.Stage) async throws -> (ConsoleSession, ConsoleUser)? {
        guard let id = request.cookies[sessionCookieName]?.value, let found = try await store.consoleSession(idHash: sha256Hex(Array(id.utf8))),
            found.session.stage == stage, policy.isLive(found.session, now: clock())
        else { return nil }
        return found
    }

    func stepPage(
        _ request: Request, stage: ConsoleSession.Stage, error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws
        -> Response
    {
        guard let (session, _) = try await pendingSession(request, stage: stage) else { return .redirect(to: "/console/sign-in", type: .normal) }
        let template = stage == .awaitingCode ? "sign-in-code" : "new-password"
        let title = stage == .awaitingCode ? "Enter your security code" : "Choose a new password"
        return pages.page(
            template, title: title, ["csrf": session.csrfToken, "error": error as Any, "minimum": ConsolePasswords.minimumLength], status: status)
    }

    func checkCode(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        guard let (session, user) = try await pendingSession(request, stage: .awaitingCode) else {
            return .redirect(to: "/console/sign-in", type: .normal)
        }
        let form = try await ConsoleForm.read(request, expectedToken: session.csrfToken)
        let keys = ["account:" + user.email, "address:" + context.remoteAddress]
        let now = clock()
        let wait = throttle.withLock { $0.waitSeconds(for: keys, now: now) }
        guard wait == 0 else {
            return try await stepPage(
                request, stage: .awaitingCode, error: "Too many attempts. Wait \(wait) seconds, then try again.", status: .tooManyRequests)
        }
        guard let account = try await store.consoleAccount(email: user.email),
            let step = TOTP.matchingCounter(code: form["code"] ?? "", secret: try ConsoleAccounts.totpSecret(account, secrets: secrets), now: now),
            try await store.spendTOTPStep(userID: user.id, step: step)
        else {
            throttle.withLock { $0.recordFailure(for: keys, now: now) }
            try await auditFailedSignIn(email: user.email, factor: "code", now: now)
            return try await stepPage(
                request, stage: .awaitingCode, error: "That code is not right, or it was used already. Wait for the next code and enter it.",
                status: .unauthorized)
        }
        throttle.withLock { $0.recordSuccess(for: keys) }
        if user.mustChangePassword {
            try await store.updateConsoleSession(idHash: session.idHash, stage: .mustChangePassword, lastSeenAt: now)
            return .redirect(to: "/console/sign-in/new-password", type: .normal)
        }
        try await store.updateConsoleSession(idHash: session.idHash, stage: .active, lastSeenAt: now)
        try await audit(user, "console.signed_in", subject: "console session")
        return .redirect(to: "/console", type: .normal)
    }

    func newPassword(_ request: Request) async throws -> Response {
        guard let (session, user) = try await pendingSession(request, stage: .mustChangePassword) else {
            return .redirect(to: "/console/sign-in", type: .normal)
        }
        let form = try await ConsoleForm.read(request, expectedToken: session.csrfToken)
        let password = form["password"] ?? ""
        if let problem = ConsolePasswords.problem(with: password, confirmation: form["confirm"] ?? "", email: user.email) {
            return try await stepPage(request, stage: .mustChangePassword, error: problem, status: .badRequest)
        }
        let now = clock()
        try await store.setConsolePassword(
            userID: user.id, passwordHash: try await ConsolePasswords.hash(password), mustChange: false, actor: actor(user), now: now)
        try await store.updateConsoleSession(idHash: session.idHash, stage: .active, lastSeenAt: now)
        try await audit(user, "console.signed_in", subject: "console session")
        return .redirect(to: "/console", type: .normal)
    }

    func signOut(_ request: Request) async throws -> Response {
        if let id = request.cookies[sessionCookieName]?.value, let found = try await store.consoleSession(idHash: sha256Hex(Array(id.utf8))) {
            _ = try await ConsoleForm.read(request, expectedToken: found.session.csrfToken)
            try await store.deleteConsoleSession(idHash: found.session.idHash)
            try await audit(found.user, "console.signed_out", subject: "console session")
        }
        var response = Response.redirect(to: "/console/sign-in?ended=signed-out", type: .normal)
        response.setCookie(cookie(sessionCookieName, "", path: "/", maxAge: 0))
        return response
    }

    // MARK: - Helpers

    func newSession(userID: Int64, stage: ConsoleSession.Stage, now: Timestamp) -> (id: String, session: ConsoleSession) {
        let id = randomHex(bytes: 32)
        return (
            id,
            ConsoleSession(
                idHash: sha256Hex(Array(id.utf8)), userID: userID, stage: stage, csrfToken: randomHex(bytes: 24), createdAt: now, lastSeenAt: now)
        )
    }

    func cookie(_ name: String, _ value: String, path: String, maxAge: Int) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: path, secure: secureCookies, httpOnly: true, sameSite: .lax)
    }

    /// A failed sign-in in the audit chain: which factor failed, for which email, and why where known.
    func auditFailedSignIn(email: String? = nil, factor: String, reason: String? = nil, now: Timestamp) async throws {
        let detail = JSONValue.compact([
            ("email", email.map { .string(String($0.prefix(254))) }), ("factor", .string(factor)), ("reason", reason.map { .string($0) }),
        ])
        try await store.appendAudit(
            AuditRecord(actor: "console", action: "console.sign_in_failed", subject: "console sign-in", detail: detail.serialized), now: now)
    }
}
