import HTTPTypes
import HandoverCore
import Hummingbird

extension Request {
    /// A header by lowercase name; repeated headers are joined with ", " as HTTP allows ("; " for
    /// cookies). Compared with each field's lowercase name directly: making an `HTTPField.Name` and
    /// joining through `HTTPFields`' generic subscript showed in the send's profile.
    func header(_ name: String) -> String? {
        assert(name == name.lowercased(), "header names are asked for in lowercase: \(name) would never match")
        var value: String?
        for field in headers where field.name.canonicalName == name { value = Self.joined(value, field) }
        return value
    }

    /// Every header by lowercase name, joined as `header(_:)` joins them, in one pass over the fields:
    /// for a handler that asks for many (a send asks for about 28, and `header(_:)` scans every field
    /// each time).
    func headerValues() -> [String: String] {
        var values: [String: String] = [:]
        values.reserveCapacity(headers.count)  // grown from empty, it was rehashed as it grew
        for field in headers { values[field.name.canonicalName] = Self.joined(values[field.name.canonicalName], field) }
        return values
    }

    private static func joined(_ earlier: String?, _ field: HTTPField) -> String {
        guard let earlier else { return field.value }
        return earlier + (field.name == .cookie ? "; " : ", ") + field.value
    }

    /// The API version from `Accept`, or a 400 for a malformed `vnd.mesh` type.
    func meshVersion() throws -> MeshAPIVersion {
        guard let version = MeshAPIVersion.negotiate(accept: header("accept")) else { throw MeshError.badAcceptHeader }
        return version
    }

    var acceptsGzip: Bool { AcceptEncoding.allowsGzip(header("accept-encoding")) }
}

extension RequestContext {
    func pathMailbox() throws -> MailboxID {
        guard let raw = parameters.get("mailbox"), !raw.isEmpty else { throw MeshError.notFound }
        return MailboxID(raw)
    }

    func pathMessageID() throws -> MessageID {
        guard let raw = parameters.get("messageID"), !raw.isEmpty, raw.count <= 100 else { throw MeshError.messageDoesNotExist }
        return MessageID(raw)
    }

    func pathChunkNumber() throws -> Int? {
        guard let raw = parameters.get("chunk") else { return nil }
        guard raw.count <= 6, let n = Int(raw), n >= 1 else { throw MeshError.messageDoesNotExist }
        return n
    }
}

extension Response {
    static let v2JSON = "application/vnd.mesh.v2+json"

    /// A JSON response. MESH uses its vendor type for v2 listings, tracking and errors, and plain
    /// `application/json` elsewhere (reference §2); `contentType` says which.
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, contentType: String = "application/json") -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.serializedBytes)))
    }

    static func empty(_ status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentLength] = "0"
        return Response(status: status, headers: headers, body: ResponseBody())
    }
}

extension MeshError {
    /// The error body in the caller's API version (reference §7.1).
    func response(version: MeshAPIVersion) -> Response {
        var response = body(version: version)
        if let retryAfterSeconds { response.headers[.retryAfter] = String(retryAfterSeconds) }
        return response
    }

    private func body(version: MeshAPIVersion) -> Response {
        let status = self.status
        switch version {
        case .v2:
            let detail: JSONValue = .array([.object([("event", .string(event)), ("code", .string(code)), ("msg", .string(explained))])])
            return .json(
                .compact([("message_id", messageID.map { .string($0.rawValue) }), ("detail", detail)]),
                status: status, contentType: Response.v2JSON)
        case .v1:
            return .json(
                .compact([
                    ("messageID", messageID.map { .string($0.rawValue) }), ("errorEvent", .string(event)),
                    ("errorCode", .string(code)), ("errorDescription", .string(message)),
                ]), status: status)
        }
    }
}
