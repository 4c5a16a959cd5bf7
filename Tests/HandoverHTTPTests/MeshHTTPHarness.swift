import Foundation
import HTTPTypes
import HandoverCore
import HandoverServer
import HandoverTestSupport
import Hummingbird
import HummingbirdTesting
import NIOCore

/// Drives the broker's router in-process with real MESH requests.
struct MeshHarness {
    let client: any TestClientProtocol
    let broker: TestBroker

    static func run(_ given: TestBroker? = nil, sandbox: Bool = false, _ body: @escaping @Sendable (MeshHarness) async throws -> Void) async throws {
        let broker: TestBroker
        if let given { broker = given } else { broker = try await TestBroker(sandbox: sandbox) }
        let app = Application(router: BrokerApplication.router(broker.parts, sandbox: broker.configuration.sandbox))
        // A broker the harness made is done with when the body is; one a test made may be used again.
        do {
            try await app.test(.router) { client in try await body(MeshHarness(client: client, broker: broker)) }
        } catch {
            if given == nil { await broker.close() }
            throw error
        }
        if given == nil { await broker.close() }
    }

    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ uri: String, as mailbox: String? = nil, headers: [String: String] = [:],
        body: [UInt8]? = nil, accept: String? = "application/vnd.mesh.v2+json", authorization: String? = nil
    ) async throws -> TestResponse {
        var fields = HTTPFields()
        if let accept { fields[.accept] = accept }
        if let auth = authorization ?? mailbox.map({ broker.auth($0) }) { fields[.authorization] = auth }
        for (k, v) in headers { fields[HTTPField.Name(k)!] = v }
        return try await client.execute(uri: uri, method: method, headers: fields, body: body.map { ByteBuffer(bytes: $0) })
    }

    /// Sends a single-chunk message and returns its id.
    func send(
        from: String = "ALICE", to: String = "BOB", workflow: String = "WF", body: [UInt8] = Array("hello bob".utf8),
        headers: [String: String] = [:]
    ) async throws -> String {
        let response = try await call(
            .post, "/messageexchange/\(from)/outbox", as: from,
            headers: ["mex-to": to, "mex-workflowid": workflow].merging(headers) { $1 }, body: body)
        guard response.status == .accepted, let id = response.json["message_id"] as? String else {
            throw HarnessError("send failed: \(response.status) \(String(buffer: response.body))")
        }
        return id
    }

    func inbox(_ mailbox: String = "BOB") async throws -> [String] {
        try await call(.get, "/messageexchange/\(mailbox)/inbox", as: mailbox).json["messages"] as? [String] ?? []
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

extension TestResponse {
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:] }
    var text: String { String(buffer: body) }
    /// The first `detail` entry of a v2 error body.
    var meshError: (event: String, code: String, msg: String)? {
        guard let d = (json["detail"] as? [[String: Any]])?.first else { return nil }
        return (d["event"] as? String ?? "", d["code"] as? String ?? "", d["msg"] as? String ?? "")
    }
    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
}
