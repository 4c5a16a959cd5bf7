import HTTPTypes
import HandoverCore
import Hummingbird
import Mustache

/// Renders console pages: a page template into the layout. Mustache escapes every `{{value}}`, so a
/// stored field (a mailbox named `<script>`) shows as text; `{{{…}}}` is used only for the page body
/// the layout wraps, which this type rendered itself.
struct ConsolePages: Sendable {
    let library: MustacheLibrary
    let policy: ConsoleSessionPolicy

    init(policy: ConsoleSessionPolicy) throws {
        var library = MustacheLibrary()
        for (name, text) in ConsoleTemplates.all { try library.register(text, named: name) }
        (self.library, self.policy) = (library, policy)
    }

    /// A whole page. `user` and `session` are nil before sign-in (no navigation then).
    func page(
        _ template: String, title: String, _ values: [String: Any], section: ConsoleSection? = nil, access: ConsoleAccess? = nil,
        session: ConsoleSession? = nil, status: HTTPResponse.Status = .ok
    ) -> Response {
        var values = values
        values["csrf"] = session?.csrfToken ?? values["csrf"] ?? ""
        let body = render(template, values)
        var layout: [String: Any] = ["title": title, "body": body]
        if let access, let session {
            layout["user"] =
                [
                    "name": access.user.name, "roles": access.user.roleList, "csrf": session.csrfToken,
                    "idleSeconds": policy.idleSeconds, "warningSeconds": policy.warningSeconds,
                    "sections": access.sections.map { s in
                        ["title": s.title, "href": "/console/\(s.rawValue)", "current": s == section] as [String: Any]
                    },
                ] as [String: Any]
        }
        let html = render("layout", layout)
        return Self.html(html, status: status)
    }

    /// One template with these values (a fragment, as the alert board's refresh fetches).
    func render(_ template: String, _ values: [String: Any]) -> String {
        library.render(Self.present(values) ?? [:], withTemplate: template) ?? ""
    }

    /// The values with every nil optional removed, through dictionaries and arrays: Mustache would
    /// print an empty optional boxed in `Any` as "nil" and count it as present.
    static func present(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return nil }
            return present(wrapped)
        }
        if let dictionary = value as? [String: Any] { return dictionary.compactMapValues { present($0) } }
        if let array = value as? [Any] { return array.compactMap { present($0) } }
        return value
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// Headers on every console response: a strict CSP (nothing from another site, no inline script or
/// style, no framing), no sniffing, no caching of pages that hold personal data.
struct ConsoleSecurityHeaders<Context: RequestContext>: RouterMiddleware {
    static var contentSecurityPolicy: String {
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; "
            + "frame-ancestors 'none'; base-uri 'none'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if response.headers[.contentSecurityPolicy] == nil { response.headers[.contentSecurityPolicy] = Self.contentSecurityPolicy }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "same-origin"
        response.headers[.xFrameOptions] = "DENY"
        response.headers[.strictTransportSecurity] = "max-age=31536000"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

extension HTTPField.Name {
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xFrameOptions = Self("X-Frame-Options")!
}

/// Whole seconds or minutes since a time, in words, for lists that show ages rather than dates.
enum ConsoleAge {
    static func words(from start: Timestamp, to now: Timestamp) -> String {
        let seconds = max(0, (now.microsecondsSinceEpoch - start.microsecondsSinceEpoch) / 1_000_000)
        if seconds < 60 { return "\(seconds) s" }
        if seconds < 3600 { return "\(seconds / 60) min" }
        if seconds < 86_400 { return "\(seconds / 3600) h \(seconds % 3600 / 60) min" }
        return "\(seconds / 86_400) d \(seconds % 86_400 / 3600) h"
    }

    /// "in 3 h" or "2 h ago".
    static func until(_ due: Timestamp, now: Timestamp) -> String {
        due >= now ? "in " + words(from: now, to: due) : words(from: due, to: now) + " overdue"
    }
}
