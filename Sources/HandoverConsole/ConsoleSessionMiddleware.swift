import HandoverCore
import HandoverStore
import Hummingbird
import Logging

/// Finds the signed-in person from the session cookie before any console page runs. No session, an
/// expired one or one still signing in goes to the sign-in page; a live one is seen (at most a
/// write a minute) and put into the context.
struct ConsoleSessionMiddleware: RouterMiddleware {
    typealias Context = ConsoleRequestContext
    let console: Console

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let now = console.clock()
        guard let id = request.cookies[console.sessionCookieName]?.value,
            let found = try await console.store.consoleSession(idHash: sha256Hex(Array(id.utf8)))
        else {
            return .redirect(to: "/console/sign-in", type: .normal)
        }
        guard console.policy.isLive(found.session, now: now) else {
            try await console.store.deleteConsoleSession(idHash: found.session.idHash)
            return .redirect(to: "/console/sign-in?ended=idle", type: .normal)
        }
        switch found.session.stage {
        case .awaitingCode: return .redirect(to: "/console/sign-in/code", type: .normal)
        case .mustChangePassword: return .redirect(to: "/console/sign-in/new-password", type: .normal)
        case .active: break
        }
        var context = context
        var session = found.session
        if now.microsecondsSinceEpoch - session.lastSeenAt.microsecondsSinceEpoch > 60_000_000 {
            try await console.store.updateConsoleSession(idHash: session.idHash, stage: .active, lastSeenAt: now)
            session.lastSeenAt = now
        }
        (context.session, context.user) = (session, found.user)
        return try await next(request, context)
    }
}

/// Refuses any request that changes something unless it comes from a page of this console: the
/// `Origin` (or, without one, the `Referer`) must name the host the request was sent to. The CSRF
/// token in every form is the second check.
struct ConsoleOriginCheck<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method != .get && request.method != .head else { return try await next(request, context) }
        guard let host = request.head.authority, Self.sameOrigin(request, host: host) else {
            throw ConsoleRefusal.forgedForm
        }
        return try await next(request, context)
    }

    static func sameOrigin(_ request: Request, host: String) -> Bool {
        let source = request.headers[.origin] ?? request.headers[.referer]
        guard let source, source != "null" else { return false }
        for scheme in ["https://", "http://"] where source.hasPrefix(scheme) {
            let rest = source.dropFirst(scheme.count)
            let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            return authority.lowercased() == host.lowercased()
        }
        return false
    }
}

/// Turns refusals and failures into pages a person can read; details stay in the log, and a
/// failure never shows a stack, a query or a payload.
struct ConsoleErrorPages: RouterMiddleware {
    typealias Context = ConsoleRequestContext
    let pages: ConsolePages
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let refusal as ConsoleRefusal {
            switch refusal {
            case .forgedForm:
                return page(
                    "This form could not be accepted",
                    "It has expired, or it did not come from a page of this console. Go back, reload the page and try again.",
                    .forbidden)
            case .notYourPage:
                return page("You cannot use this page", "Your role does not include this page. Ask an admin if you need it.", .forbidden)
            case .notFound:
                return page("Page not found", "There is nothing here, or it is not yours to see.", .notFound)
            }
        } catch let conflict as DirectoryVersionConflict {
            // An edit that lost a race the editors' own checks did not see (saved between review and apply).
            return page(
                "Someone else saved the directory",
                "Version \(conflict.current.map(String.init) ?? "none") is now in force. Open the directory again and make your change on it.",
                .conflict)
        } catch let error as HTTPError {
            if error.status == .unauthorized { return .redirect(to: "/console/sign-in", type: .normal) }
            if error.status == .notFound { return page("Page not found", "There is nothing here, or it is not yours to see.", .notFound) }
            return page("This request could not be handled", error.body ?? "Check what you sent and try again.", error.status)
        } catch {
            logger.error("console request failed", metadata: ["handover.error": "\(type(of: error))"])
            return page("Something went wrong", "The console could not complete this request. Try again in a moment.", .internalServerError)
        }
    }

    func page(_ heading: String, _ text: String, _ status: HTTPResponse.Status) -> Response {
        pages.page("problem", title: heading, ["heading": heading, "text": text], status: status)
    }
}
