import Crypto
import Foundation
import HandoverCore
import HandoverStore
import Hummingbird

/// Signing in with OpenID Connect: the authorization code flow with PKCE. `state`, `nonce` and the
/// PKCE verifier are kept in the store (under the state's hash), and the state also in a cookie of
/// this browser, so a callback is honoured once, in the browser that started it. The identity
/// provider does the second factor; its claims give the person's roles and scope at each sign-in.
extension Console {
    static let oidcCookie = "handover_oidc"
    /// How long a person may take at the identity provider.
    static let oidcRequestSeconds: Int64 = 600

    func registerOIDC(on router: Router<ConsoleRequestContext>) {
        router.get("/console/sign-in/oidc") { request, _ in try await startOIDC(request) }
        router.get("/console/sign-in/oidc/callback") { request, _ in try await finishOIDC(request) }
    }

    /// Where the provider sends people back: the console's public address (`--console-url`) or, when
    /// that is not set, the address this request reached.
    func redirectURI(_ request: Request) -> String {
        let base = publicURL ?? "https://" + (request.head.authority ?? "localhost")
        return (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/console/sign-in/oidc/callback"
    }

    func startOIDC(_ request: Request) async throws -> Response {
        guard let oidc else { throw ConsoleRefusal.notFound }
        let endpoints = try await oidc.endpoints()
        let (state, nonce, verifier) = (randomHex(bytes: 32), randomHex(bytes: 16), base64URLEncode(Array(randomHex(bytes: 32).utf8)))
        let now = clock()
        try await store.saveOIDCRequest(
            stateHash: sha256Hex(Array(state.utf8)), nonce: nonce, verifier: verifier, now: now,
            forgetBefore: now.adding(seconds: -Self.oidcRequestSeconds))
        let challenge = base64URLEncode(Array(SHA256.hash(data: Array(verifier.utf8))))
        let query = [
            ("response_type", "code"), ("client_id", oidc.configuration.clientID), ("redirect_uri", redirectURI(request)),
            ("scope", oidc.configuration.scope), ("state", state), ("nonce", nonce), ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
        ].map { OIDCProvider.formEncode($0.0) + "=" + OIDCProvider.formEncode($0.1) }.joined(separator: "&")
        var response = Response.redirect(to: endpoints.authorization + (endpoints.authorization.contains("?") ? "&" : "?") + query, type: .normal)
        response.setCookie(cookie(Self.oidcCookie, state, path: "/console/sign-in/oidc", maxAge: Int(Self.oidcRequestSeconds)))
        return response
    }

    func finishOIDC(_ request: Request) async throws -> Response {
        guard let oidc else { throw ConsoleRefusal.notFound }
        let q = request.uri.queryParameters
        let now = clock()
        func refuse(_ reason: String, _ words: String) async throws -> Response {
            try await auditFailedSignIn(factor: "oidc", reason: reason, now: now)
            var response = signInPage(request, error: words, status: .unauthorized)
            response.setCookie(cookie(Self.oidcCookie, "", path: "/console/sign-in/oidc", maxAge: 0))
            return response
        }
        if q.get("error") != nil { return try await refuse("provider-error", "Your organisation's sign-in did not complete. Try again.") }
        guard let state = q.get("state").map({ String($0) }), let code = q.get("code").map({ String($0) }), !code.isEmpty,
            let cookieState = request.cookies[Self.oidcCookie]?.value, constantTimeEqual(state, cookieState),
            let pending = try await store.takeOIDCRequest(stateHash: sha256Hex(Array(state.utf8))),
            now < pending.createdAt.adding(seconds: Self.oidcRequestSeconds)
        else {
            return try await refuse("state", "This sign-in has expired or was used already. Start again.")
        }
        let claims: [String: JSONValue]
        var info: JSONValue?
        do {
            let tokens = try await oidc.exchange(code: code, verifier: pending.verifier, redirectURI: redirectURI(request), now: now)
            claims = try await oidc.verify(tokens.idToken, nonce: pending.nonce, now: now)
            if let access = tokens.accessToken { info = try await oidc.userInfo(accessToken: access) }
        } catch let failure as IDTokenVerifier.Failure {
            logger.warning("OpenID sign-in refused", metadata: ["handover.reason": "\(failure)"])
            return try await refuse("id-token", "Your organisation's sign-in could not be checked. Try again, or ask an admin.")
        } catch {
            logger.warning("OpenID sign-in failed", metadata: ["handover.reason": "\(error)"])
            return try await refuse("provider", "Your organisation's sign-in could not be reached. Try again in a moment.")
        }
        // UserInfo only for what the ID token leaves out; and only when it is about the same subject.
        func claim(_ name: String) -> JSONValue? {
            if let value = claims[name] { return value }
            guard info?["sub"]?.string == claims["sub"]?.string else { return nil }
            return info?[name]
        }
        let roles = Set((claim(oidc.configuration.rolesClaim)?.strings ?? []).compactMap(ConsoleRole.init(rawValue:)))
        let email = claim("email")?.string ?? ""
        let user = ConsoleUser(
            email: email, name: claim("name")?.string ?? email, roles: roles,
            organisations: (claim(oidc.configuration.organisationsClaim)?.strings ?? []).map { $0.uppercased() },
            mailboxes: (claim(oidc.configuration.mailboxesClaim)?.strings ?? []).map(MailboxID.init), mustChangePassword: false)
        if let problem = user.problems().first {
            return try await refuse("claims", "Your account cannot use Handover yet (\(problem)). Ask an admin.")
        }
        let stored = try await store.upsertOIDCUser(user, now: now)
        guard !stored.disabled else { return try await refuse("disabled", "Your Handover account is disabled. Ask an admin.") }
        let (id, session) = newSession(userID: stored.id, stage: .active, now: now)
        try await store.createConsoleSession(session)
        try await audit(stored, "console.signed_in", subject: "console session", detail: .object([("method", .string("oidc"))]))
        var response = Response.redirect(to: "/console", type: .normal)
        response.setCookie(cookie(sessionCookieName, id, path: "/", maxAge: Int(policy.absoluteSeconds)))
        response.setCookie(cookie(Self.oidcCookie, "", path: "/console/sign-in/oidc", maxAge: 0))
        return response
    }
}
