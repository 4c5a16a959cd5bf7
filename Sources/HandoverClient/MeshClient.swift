import AsyncHTTPClient
import Foundation
import HandoverCore
import NIOCore
import NIOHTTP1
import NIOSSL

/// MESH API v2 calls as a mailbox, against Handover or any MESH-compatible server, with Handover's
/// responsibility, outcome and receipt calls beside them. Every call makes a fresh NHSMESH token.
public final class MeshClient: Sendable {
    let http: HTTPClient
    let base: String
    public let mailbox: String
    /// The profile's chunk size for sends, if it sets one.
    public let profileChunkSize: Int?
    let password: String
    let sharedKey: String

    public init(profile: ClientProfile, environment: [String: String]) throws {
        let (password, sharedKey) = try profile.secrets(environment: environment)
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = profile.ca { tls.trustRoots = .file(ca) }
        if let certificate = profile.certificate, let key = profile.key {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
        }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(120))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        base = profile.url.hasSuffix("/") ? String(profile.url.dropLast()) : profile.url
        (mailbox, self.password, self.sharedKey, profileChunkSize) = (profile.mailbox, password, sharedKey, profile.chunk_size)
    }

    public func shutdown() async { try? await http.shutdown() }

    func token() -> String {
        let now = Timestamp(microsecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1_000_000))
        return MeshAuthToken.header(
            mailbox: mailbox, password: password, sharedKey: sharedKey, nonce: UUID().uuidString, nonceCount: 0,
            timestamp: String(now.compactUTC.prefix(12)))
    }

    /// One request as this mailbox; `path` is relative to `/messageexchange/{mailbox}` unless it starts with `/`.
    func request(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], body: ByteBuffer? = nil) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: base + (path.hasPrefix("/") ? path : "/messageexchange/\(mailbox)/" + path))
        request.method = method
        request.headers.add(name: "accept", value: "application/vnd.mesh.v2+json")
        request.headers.add(name: "authorization", value: token())
        request.headers.add(name: "mex-clientversion", value: "handover-client/1")
        request.headers.add(name: "mex-osname", value: "Linux")
        request.headers.add(name: "mex-osversion", value: ProcessInfo.processInfo.operatingSystemVersionString)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(body) }
        return request
    }

    /// The response and its whole body (up to 16 MiB); a non-2xx answer becomes `MeshRefusal`.
    func call(_ request: HTTPClientRequest) async throws -> (HTTPClientResponse, ByteBuffer) {
        let response = try await http.execute(request, timeout: .seconds(300))
        let body = try await response.body.collect(upTo: 16 << 20)
        guard (200..<300).contains(response.status.code) else { throw MeshRefusal(status: Int(response.status.code), body: body) }
        return (response, body)
    }

    func json(_ body: ByteBuffer) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
    }

    /// Checks the credentials (MESH's handshake).
    public func handshake() async throws { _ = try await call(request(.POST, "/messageexchange/\(mailbox)")) }

    /// Every message id waiting in the inbox, following `links.next`.
    public func inbox() async throws -> [String] {
        var ids: [String] = []
        var path = "inbox?max_results=500"
        for _ in 0..<1000 {
            let (_, body) = try await call(request(.GET, path))
            let page = json(body)
            ids += page["messages"] as? [String] ?? []
            guard let next = (page["links"] as? [String: Any])?["next"] as? String else { break }
            path = next
        }
        return ids
    }

    /// The rich inbox (every status, with sender and workflow), as far as the server serves it.
    public func richInbox() async throws -> [[String: Any]] {
        let (_, body) = try await call(request(.GET, "inbox/rich?max_results=2000"))
        return json(body)["messages"] as? [[String: Any]] ?? []
    }

    public func acknowledge(_ id: String) async throws { _ = try await call(request(.PUT, "inbox/\(id)/status/acknowledged")) }

    /// Accepts or declines responsibility (Handover), as a named person.
    public func decide(
        _ id: String, accept: Bool, by person: Person, note: String?, basis: LawfulBasis?, reason: String? = nil
    ) async throws
        -> [String: Any]
    {
        var fields: [(String, JSONValue)] = [("decision", .string(accept ? "accept" : "decline")), ("by", personJSON(person))]
        if let note { fields.append(("note", .string(note))) }
        if let reason { fields.append(("reason", .string(reason))) }
        if let basis { fields.append(("lawful_basis", .stored(String(decoding: try JSONEncoder().encode(basis), as: UTF8.self)))) }
        let (_, body) = try await call(
            request(
                .POST, "inbox/\(id)/responsibility", headers: [("content-type", "application/json")],
                body: ByteBuffer(string: JSONValue.object(fields).serialized)))
        return json(body)
    }

    /// Records what happened (Handover); the sender receives it as an acknowledgement.
    public func outcome(_ id: String, code: String, detail: String?, by person: Person) async throws -> [String: Any] {
        let payload = JSONValue.compact([("code", .string(code)), ("detail", detail.map { .string($0) }), ("by", personJSON(person))])
        let (_, body) = try await call(
            request(
                .POST, "inbox/\(id)/outcome", headers: [("content-type", "application/json")],
                body: ByteBuffer(string: payload.serialized)))
        return json(body)
    }

    /// The id of the one message this mailbox sent with `localID`, or nil when there is none
    /// (MESH's tracking by local id; the folder agent's way to tell whether a send before a crash went).
    public func messageID(localID: String) async throws -> String? {
        let encoded = localID.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? localID
        do {
            let (_, body) = try await call(request(.GET, "outbox/tracking/\(encoded)"))
            let tracking = json(body)
            return tracking["messageId"] as? String ?? tracking["message_id"] as? String
        } catch let refusal as MeshRefusal where refusal.status == 404 {
            return nil
        }
    }

    public func track(_ id: String) async throws -> [String: Any] { json(try await call(request(.GET, "outbox/tracking?messageID=\(id)")).1) }

    /// The signed crossing receipt (Handover), as the sender or the recipient.
    public func receipt(_ id: String, asSender: Bool) async throws -> [String: Any] {
        json(try await call(request(.GET, "\(asSender ? "outbox" : "inbox")/\(id)/receipt")).1)
    }
}

/// A MESH error answer, in words: status, event, code and MESH's message.
public struct MeshRefusal: Error, CustomStringConvertible, Sendable {
    public let status: Int
    public let code: String
    public let message: String

    init(status: Int, body: ByteBuffer) {
        self.status = status
        let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
        let detail = (object["detail"] as? [[String: Any]])?.first ?? [:]
        code = detail["code"] as? String ?? object["errorCode"] as? String ?? ""
        message =
            detail["msg"] as? String ?? object["errorDescription"] as? String ?? object["detail"] as? String
            ?? String(buffer: body).prefix(300).description
    }

    public var description: String { "refused: \(status)\(code.isEmpty ? "" : " \(code)") \(message)" }
}
