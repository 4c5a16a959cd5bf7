import HTTPTypes
import HandoverCore
import HandoverStore
import Hummingbird

/// An admin API error as RFC 9457 `application/problem+json`, its `type` one of the catalogue's codes
/// (`HandoverErrorCode`). It renders itself: Hummingbird or the error middleware asks it for its response.
public struct AdminProblem: HTTPResponseError, Sendable {
    public let code: HandoverErrorCode
    public let status: HTTPResponse.Status
    public let detail: String
    public var extra: [(String, JSONValue)] = []

    public init(code: HandoverErrorCode, detail: String, extra: [(String, JSONValue)] = [], status: HTTPResponse.Status? = nil) {
        self.code = code
        self.status = status ?? HTTPResponse.Status(code: code.status ?? 500)
        (self.detail, self.extra) = (detail, extra)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response { response }

    var response: Response {
        let title = code == .http ? status.reasonPhrase : code.title
        let body: JSONValue = .object(
            [
                ("type", .string("urn:handover:problem:" + code.rawValue)), ("title", .string(title)), ("status", .int(Int64(status.code))),
                ("detail", .string(detail)),
            ] + extra)
        return .json(body, status: status, contentType: "application/problem+json")
    }

    static let unauthorized = AdminProblem(
        code: .unauthorized,
        detail: "send Authorization: Bearer <admin token> (create one with `handover admin token create`)")
    static func notFound(_ what: String) -> AdminProblem { AdminProblem(code: .notFound, detail: "\(what) does not exist") }
    static func badRequest(_ detail: String) -> AdminProblem { AdminProblem(code: .badRequest, detail: detail) }

    /// An edit, or a proposal, made on a version that is no longer current.
    static func stale(_ conflict: DirectoryVersionConflict) -> AdminProblem {
        AdminProblem(
            code: .staleVersion,
            detail:
                "If-Match names version \(conflict.expected.map(String.init) ?? "none")"
                + " but the current version is \(conflict.current.map(String.init) ?? "none"); GET it again and reapply your change",
            extra: [("current_version", conflict.current.map { .int($0) } ?? .null)])
    }

    static func invalid(_ problems: [DirectoryProblem]) -> AdminProblem {
        AdminProblem(
            code: .directoryInvalid, detail: "\(problems.count) problem(s); nothing was changed",
            extra: [
                (
                    "errors",
                    .array(
                        problems.map {
                            .object([
                                ("file", .string($0.file)), ("entry", .string($0.entry)),
                                ("field", .string($0.field)), ("message", .string($0.message)),
                            ])
                        })
                )
            ])
    }
}
