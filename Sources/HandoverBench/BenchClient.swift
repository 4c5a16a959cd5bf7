import AsyncHTTPClient
import Foundation
import HandoverCore
import NIOCore
import NIOHTTP1

/// MESH v2 calls for the load generator, each timed into the recorder.
struct BenchClient: Sendable {
    let http: HTTPClient
    let config: BenchConfiguration
    let base: String
    let recorder: LatencyRecorder

    func token(_ mailbox: String) -> String {
        let now = Timestamp(microsecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1_000_000))
        return MeshAuthToken.header(
            mailbox: mailbox, password: config.password, sharedKey: config.sharedKey,
            nonce: UUID().uuidString, nonceCount: 0, timestamp: String(now.compactUTC.prefix(12)))
    }

    func timed<T>(_ op: String, _ body: () async throws -> T?) async -> T? {
        let start = ContinuousClock.now
        do {
            let value = try await body()
            let elapsed = ContinuousClock.now - start
            if value != nil {
                recorder.record(
                    op, microseconds: UInt64(elapsed.components.seconds) * 1_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000_000))
            } else {
                recorder.fail(op)
            }
            return value
        } catch {
            recorder.fail(op)
            return nil
        }
    }

    func request(
        _ method: HTTPMethod, _ path: String, as mailbox: String, headers: [(String, String)] = [], body: HTTPClientRequest.Body? = nil
    ) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: base + path)
        r.method = method
        r.headers.add(name: "accept", value: "application/vnd.mesh.v2+json")
        r.headers.add(name: "authorization", value: token(mailbox))
        for (k, v) in headers { r.headers.add(name: k, value: v) }
        if let body { r.body = body }
        return r
    }

    /// Sends and returns the new message id.
    func send(from: String, to: String, payload: ByteBuffer, chunkRange: String = "1:1") async -> String? {
        await timed("send") {
            let r = request(
                .POST, "/messageexchange/\(from)/outbox", as: from,
                headers: [
                    ("mex-to", to), ("mex-workflowid", config.workflow), ("mex-chunk-range", chunkRange),
                    ("content-type", "application/octet-stream"),
                ],
                body: .bytes(payload))
            let response = try await http.execute(r, timeout: .seconds(120))
            let body = try await response.body.collect(upTo: 1 << 16)
            guard response.status == .accepted else { return nil }
            return (try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])?["message_id"] as? String
        }
    }

    func list(_ mailbox: String, maxResults: Int = 500) async -> [String]? {
        await timed("list") {
            let response = try await http.execute(
                request(.GET, "/messageexchange/\(mailbox)/inbox?max_results=\(maxResults)", as: mailbox), timeout: .seconds(60))
            let body = try await response.body.collect(upTo: 1 << 24)
            guard response.status == .ok else { return nil }
            return (try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])?["messages"] as? [String]
        }
    }

    /// Downloads chunk `n` and returns its size (identity encoding, so bytes are as sent).
    func download(_ mailbox: String, _ id: String, chunk: Int = 1, op: String = "download") async -> Int? {
        await timed(op) {
            let path = chunk == 1 ? "/messageexchange/\(mailbox)/inbox/\(id)" : "/messageexchange/\(mailbox)/inbox/\(id)/\(chunk)"
            let response = try await http.execute(
                request(.GET, path, as: mailbox, headers: [("accept-encoding", "identity")]), timeout: .seconds(600))
            var size = 0
            for try await part in response.body { size += part.readableBytes }
            return (response.status == .ok || response.status == .partialContent) ? size : nil
        }
    }

    func acknowledge(_ mailbox: String, _ id: String) async -> Bool? {
        await timed("acknowledge") {
            let response = try await http.execute(
                request(.PUT, "/messageexchange/\(mailbox)/inbox/\(id)/status/acknowledged", as: mailbox), timeout: .seconds(60))
            _ = try await response.body.collect(upTo: 1 << 16)
            return response.status == .ok ? true : nil
        }
    }
}
