import Foundation
import HandoverCore
import NIOCore
import NIOHTTP1
import Synchronization

/// MESH v2 calls for the load generator, each timed into the recorder.
struct BenchClient: Sendable {
    let http: BenchConnectionPool
    let config: BenchConfiguration
    let recorder: LatencyRecorder
    private let signer: MeshTokenSigner

    init(http: BenchConnectionPool, config: BenchConfiguration, recorder: LatencyRecorder) {
        (self.http, self.config, self.recorder) = (http, config, recorder)
        signer = MeshTokenSigner(sharedKey: config.sharedKey)
    }

    /// Every run's nonces, shared by its clients.
    private static let nonces = NonceSource()

    func token(_ mailbox: String) -> String {
        let now = Timestamp(microsecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1_000_000))
        return signer.header(
            mailbox: mailbox, password: config.password, nonce: Self.nonces.next(), nonceCount: 0, timestamp: String(now.compactUTC.prefix(12)))
    }

    /// Sends one request and times it as wrk does: from its write to its response's last byte, both
    /// seen on the connection's event loop, so the load generator's own wake-ups and parsing around a
    /// request are not counted as the broker's latency. `result` reads the response (nil: a failure).
    func timed<T>(
        _ op: String, _ request: BenchRequest, timeout: TimeAmount, keepBody: Bool = true, _ result: (BenchResponse) throws -> T?
    ) async -> T? {
        do {
            let response = try await http.execute(request, timeout: timeout, keepBody: keepBody)
            guard let value = try result(response) else {
                recorder.fail(op)
                return nil
            }
            recorder.record(op, microseconds: UInt64(max(0, response.elapsed.nanoseconds / 1000)))
            return value
        } catch {
            recorder.fail(op)
            return nil
        }
    }

    func request(_ method: HTTPMethod, _ path: String, as mailbox: String, headers: [(String, String)] = [], body: ByteBuffer? = nil) -> BenchRequest
    {
        var fields = HTTPHeaders()
        fields.reserveCapacity(headers.count + 4)
        fields.add(name: "accept", value: "application/vnd.mesh.v2+json")
        fields.add(name: "authorization", value: token(mailbox))
        for (k, v) in headers { fields.add(name: k, value: v) }
        return BenchRequest(method: method, path: path, headers: fields, body: body)
    }

    /// Sends and returns the new message id.
    func send(from: String, to: String, payload: ByteBuffer, chunkRange: String = "1:1") async -> String? {
        let headers = [
            ("mex-to", to), ("mex-workflowid", config.workflow), ("mex-chunk-range", chunkRange), ("content-type", "application/octet-stream"),
        ]
        let r = request(.POST, "/messageexchange/\(from)/outbox", as: from, headers: headers, body: payload)
        return await timed("send", r, timeout: .seconds(120)) { response in
            guard response.status == .accepted else { return nil }
            return try SendReply.messageID(in: response.body)
        }
    }

    func list(_ mailbox: String, maxResults: Int = 500) async -> [String]? {
        let r = request(.GET, "/messageexchange/\(mailbox)/inbox?max_results=\(maxResults)", as: mailbox)
        return await timed("list", r, timeout: .seconds(60)) { response in
            guard response.status == .ok else { return nil }
            return (try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])?["messages"] as? [String]
        }
    }

    /// Downloads chunk `n` and returns its size (identity encoding, so bytes are as sent).
    func download(_ mailbox: String, _ id: String, chunk: Int = 1, op: String = "download") async -> Int? {
        let path = chunk == 1 ? "/messageexchange/\(mailbox)/inbox/\(id)" : "/messageexchange/\(mailbox)/inbox/\(id)/\(chunk)"
        let r = request(.GET, path, as: mailbox, headers: [("accept-encoding", "identity")])
        return await timed(op, r, timeout: .seconds(600), keepBody: false) { response in
            (response.status == .ok || response.status == .partialContent) ? response.bodyBytes : nil
        }
    }

    func acknowledge(_ mailbox: String, _ id: String) async -> Bool? {
        let r = request(.PUT, "/messageexchange/\(mailbox)/inbox/\(id)/status/acknowledged", as: mailbox)
        return await timed("acknowledge", r, timeout: .seconds(60)) { $0.status == .ok ? true : nil }
    }
}

/// A fresh token nonce for every request, unique across runs against one broker (which refuses a
/// reused one): this process's random prefix and a counter. A UUID's text cost nearly a tenth of the
/// load generator's CPU.
final class NonceSource: Sendable {
    private let prefix = randomHex(bytes: 8) + "-"
    private let counter = Atomic<UInt64>(0)

    func next() -> String { prefix + String(counter.add(1, ordering: .relaxed).newValue, radix: 16) }
}
