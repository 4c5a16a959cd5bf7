import AsyncHTTPClient
import Foundation
import HandoverCore
import HandoverServer
import HandoverTestSupport
import NIOCore
import NIOHTTP1

/// A minimal MESH client over real HTTP (AsyncHTTPClient), for tests against a running broker.
struct MeshWireClient {
    let http: HTTPClient
    let baseURL: String
    let passwords: [String: String]
    let sharedKey: String

    /// `timeout` bounds the whole request; AsyncHTTPClient keeps retrying a refused connection until it runs out.
    func request(
        _ method: HTTPMethod, _ path: String, as mailbox: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
        timeout: TimeAmount = .seconds(60)
    ) async throws -> (status: Int, headers: HTTPHeaders, body: [UInt8]) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "accept", value: "application/vnd.mesh.v2+json")
        if !headers.contains(where: { $0.0.lowercased() == "authorization" }) {
            request.headers.add(
                name: "authorization",
                value: MeshTokenFactory.header(
                    mailbox: mailbox, password: passwords[mailbox] ?? "", sharedKey: sharedKey, now: SystemClock.now()))
        }
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await http.execute(request, timeout: timeout)
        let collected = try await response.body.collect(upTo: 1 << 30)
        return (Int(response.status.code), response.headers, Array(collected.readableBytesView))
    }

    func send(from: String, to: String, workflow: String = "WF", body: [UInt8], headers: [(String, String)] = []) async throws -> String? {
        let r = try await request(
            .POST, "/messageexchange/\(from)/outbox", as: from,
            headers: [("mex-to", to), ("mex-workflowid", workflow)] + headers, body: body)
        guard r.status == 202 else { return nil }
        return (try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])?["message_id"] as? String
    }

    func inbox(_ mailbox: String) async throws -> [String] {
        var all: [String] = []
        var next: String? = "/messageexchange/\(mailbox)/inbox?max_results=5000"
        while let path = next {
            let r = try await request(.GET, path, as: mailbox)
            let json = try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any]
            all += json?["messages"] as? [String] ?? []
            next = (json?["links"] as? [String: String])?["next"]
        }
        return all
    }
}
