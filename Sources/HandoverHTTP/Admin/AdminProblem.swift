import HTTPTypes
import HandoverCore
import Hummingbird

/// An admin API error as RFC 9457 `application/problem+json`, with a stable `type` per kind.
public struct AdminProblem: Error, Sendable {
    public let status: HTTPResponse.Status
    public let type: String
    public let title: String
    public let detail: String
    public var extra: [(String, JSONValue)] = []

    public init(status: HTTPResponse.Status, type: String, title: String, detail: String, extra: [(String, JSONValue)] = []) {
        (self.status, self.type, self.title, self.detail, self.extra) = (status, type, title, detail, extra)
    }

    var response: Response {
        let body: JSONValue = .object([
            ("type", .string("urn:handover:problem:" + type)), ("title", .string(title)), ("status", .int(Int64(status.code))),
            ("detail", .string(detail)),
        ] + extra)
        return .json(body, status: status, contentType: "application/problem+json")
    }

    static let unauthorized = AdminProblem(status: .unauthorized, type: "unauthorized", title: "Unauthorized",
                                           detail: "send Authorization: Bearer <admin token> (create one with `handover admin token create`)")
    static let forbidden = AdminProblem(status: .forbidden, type: "forbidden", title: "Forbidden", detail: "this call needs the admin role")
    static func notFound(_ what: String) -> AdminProblem { AdminProblem(status: .notFound, type: "not-found", title: "Not Found", detail: "\(what) does not exist") }
    static func badRequest(_ detail: String) -> AdminProblem { AdminProblem(status: .badRequest, type: "bad-request", title: "Bad Request", detail: detail) }

    static func invalid(_ problems: [DirectoryProblem]) -> AdminProblem {
        AdminProblem(status: .unprocessableContent, type: "directory-invalid", title: "The directory is invalid",
                     detail: "\(problems.count) problem(s); nothing was changed",
                     extra: [("errors", .array(problems.map { .object([("file", .string($0.file)), ("entry", .string($0.entry)),
                                                                         ("field", .string($0.field)), ("message", .string($0.message))]) }))])
    }
}
