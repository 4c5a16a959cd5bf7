import AsyncHTTPClient
import CompressNIO
import Foundation
import HandoverBench
import HandoverCore
import HandoverServer
import HandoverTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// Randomised malformed requests (headers, chunk ranges, bodies, tokens, paths) against a running
/// broker: never a 5xx, never a crash, memory bounded, and the broker still works afterwards.
/// `HANDOVER_FUZZ_REQUESTS` (default 600) and `HANDOVER_FUZZ_SEED` make longer or other runs.
@Suite("Bad input", .serialized)
struct BadInputFuzzTests {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test func randomisedMalformedRequestsNeverGetA5xx() async throws {
        let env = ProcessInfo.processInfo.environment
        let count = Int(env["HANDOVER_FUZZ_REQUESTS"] ?? "") ?? 600
        let seed = UInt64(env["HANDOVER_FUZZ_SEED"] ?? "") ?? 20_261_125
        var rng = SplitMix(state: seed)
        let (folder, routes) = try TestBroker.folderWithRoutes("fuzz")
        let pki = DevelopmentPKI(folder: folder.appendingPathComponent("pki").path)
        try pki.initialise(mailboxes: [])
        let broker = try BrokerProcess(
            arguments: [
                "--tls", "off", "--routes", routes.path, "--max-request-bytes", "200000",
                "--receipt-cert", pki.folder.appendingPathComponent("receipts.pem").path, "--receipt-key",
                pki.folder.appendingPathComponent("receipts.key").path,
                "--database", "sqlite:" + folder.appendingPathComponent("h.sqlite").path, "--shared-key", "TestKey",
            ],
            environment: TestBroker.passwords,
            logURL: folder.appendingPathComponent("broker.log"))
        defer { broker.terminate() }
        let base = "http://127.0.0.1:\(broker.port)"
        let passwords = TestBroker.mailboxPasswords
        let client = MeshWireClient(http: .shared, baseURL: base, passwords: passwords, sharedKey: "TestKey")
        let known = try #require(try await client.send(from: "ALICE", to: "BOB", body: Array("seed message".utf8)))

        func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }
        func junk(_ max: Int) -> String {
            let alphabet = Array("ABCXYZabc019:;!*%/._-~?&= \t'\"<>{}[]#@\\$")
            return String((0..<Int.random(in: 0...max, using: &rng)).map { _ in pick(alphabet) })
        }
        var plainGzip = ByteBuffer(string: String(repeating: "gz", count: 300))
        let validGzip = Array(try plainGzip.compress(with: .gzip()).readableBytesView)
        var replayable: String?
        var statuses: [UInt: Int] = [:]
        var reached = 0
        for i in 0..<count {
            let mailbox = pick(["ALICE", "BOB", "CAROL", "DAVE", "alice", "NOBODY", junk(12), ""])
            let id = pick([known, "NOPE", junk(40), String(repeating: "9", count: 300), "%2e%2e", ""])
            let routes: [(HTTPMethod, String)] = [
                (.POST, "/messageexchange/\(mailbox)"), (.POST, "/messageexchange/\(mailbox)/outbox"), (.POST, "/messageexchange/\(mailbox)/outbox"),
                (.POST, "/messageexchange/\(mailbox)/outbox/\(id)/\(pick(["2", "0", "-1", "99999999999", junk(5)]))"),
                (.GET, "/messageexchange/\(mailbox)/inbox"),
                (
                    .GET,
                    "/messageexchange/\(mailbox)/inbox?max_results=\(pick(["10", "0", "-5", "abc", "99999999999999999999"]))"
                        + "&continue_from=\(junk(60))&workflow_filter=\(junk(8))"
                ),
                (.GET, "/messageexchange/\(mailbox)/inbox/\(id)"), (.HEAD, "/messageexchange/\(mailbox)/inbox/\(id)"),
                (.GET, "/messageexchange/\(mailbox)/inbox/\(id)/\(pick(["1", "2", "0", junk(4)]))"),
                (.PUT, "/messageexchange/\(mailbox)/inbox/\(id)/status/acknowledged"), (.GET, "/messageexchange/\(mailbox)/count"),
                (.GET, "/messageexchange/\(mailbox)/outbox/tracking?messageID=\(id)"),
                (.GET, "/messageexchange/\(mailbox)/outbox/tracking/\(junk(10))"),
                (.POST, "/messageexchange/\(mailbox)/inbox/\(id)/responsibility"), (.POST, "/messageexchange/\(mailbox)/inbox/\(id)/outcome"),
                (.GET, "/messageexchange/\(mailbox)/outbox/\(id)/receipt"), (.GET, "/messageexchange/endpointlookup/\(junk(6))/\(junk(6))"),
                (.GET, "/messageexchange/workflowsearch/\(junk(10))"), (.PUT, "/admin/directory"), (.DELETE, "/admin/\(junk(8))/\(junk(8))"),
                (.POST, "/admin/alerts/\(junk(10))/acknowledge"), (.GET, "/\(junk(30))"),
                (.GET, "/messageexchange/\(mailbox)/inbox/../../admin/directory"),
                (.GET, "/metrics"),
            ]
            let (method, rawPath) = pick(routes)
            let path = rawPath.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.union(CharacterSet(charactersIn: "?&="))) ?? "/"
            var request = HTTPClientRequest(url: base + path)
            request.method = Int.random(in: 0..<4, using: &rng) == 0 ? pick([.GET, .POST, .PUT, .HEAD, .DELETE, .PATCH]) : method
            let tokenMailbox = mailbox.uppercased()
            let validToken = MeshTokenFactory.header(
                mailbox: tokenMailbox, password: passwords[tokenMailbox] ?? "x", sharedKey: "TestKey", now: SystemClock.now())
            let token = pick([validToken, validToken, replayable ?? validToken, "NHSMESH \(junk(60))", junk(20), "Bearer \(junk(30))"])
            replayable = validToken
            request.headers.add(name: "authorization", value: token)
            request.headers.add(
                name: "accept",
                value: pick([
                    "application/vnd.mesh.v2+json", "application/json", "application/vnd.mesh.v9+json", "application/vnd.mesh.vX+xml", junk(20),
                ]))
            if Bool.random(using: &rng) {
                request.headers.add(name: "mex-to", value: pick(["BOB", "X27", "AREA:\(junk(5))", "POSTCODE:\(junk(4))", junk(30), "https://x"]))
            }
            if Bool.random(using: &rng) {
                request.headers.add(name: "mex-workflowid", value: pick(["WF", "WF_ACK", junk(40), String(repeating: "W", count: 400)]))
            }
            if Bool.random(using: &rng) {
                request.headers.add(
                    name: "mex-chunk-range", value: pick(["1:1", "1:2", "2:2", "0:0", "a:b", "1:-1", "99999:1", "1:99999999", junk(8)]))
            }
            if Bool.random(using: &rng) { request.headers.add(name: "content-encoding", value: pick(["gzip", "br", "identity", junk(6)])) }
            if Bool.random(using: &rng) {
                request.headers.add(
                    name: pick(["mex-subject", "mex-localid", "mex-filename", "mex-content-checksum", "if-match", "content-type"]), value: junk(120))
            }
            let body: [UInt8] = pick([
                [], Array(junk(200).utf8), validGzip, Array(validGzip.prefix(validGzip.count / 2)),
                Array(#"{"decision":"accept","by":{"name":"x"}}"#.utf8),
                (0..<Int.random(in: 0...5000, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) },
                [UInt8](repeating: 1, count: 210_000),
            ])
            if !body.isEmpty || Bool.random(using: &rng) { request.body = .bytes(ByteBuffer(bytes: body)) }
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
                _ = try? await response.body.collect(upTo: 1 << 22)
                statuses[response.status.code, default: 0] += 1
                #expect(response.status.code < 500, "request \(i): \(request.method) \(path) -> \(response.status.code)")
                if response.status.code == 202 || response.status.code == 200 { reached += 1 }
            } catch {
                // The server may close a connection on an invalid request; it must stay up (checked below).
                statuses[0, default: 0] += 1
            }
        }
        #expect(broker.process.isRunning, "the broker crashed")
        #expect(
            statuses.filter { (400..<500).contains($0.key) && $0.key != 404 }.values.reduce(0, +) > count / 4, "too few requests reached the handlers"
        )
        let health = try await client.request(.GET, "/health", as: "ALICE")
        #expect(health.status == 200)
        // It still works: a fresh message round-trips and the seed message is intact.
        // Failed authentications from this address are limited (429) for a moment after the storm.
        var sent: String?
        for _ in 0..<60 where sent == nil {
            sent = try await client.send(from: "ALICE", to: "BOB", body: Array("after the storm".utf8))
            if sent == nil { try await Task.sleep(for: .milliseconds(500)) }
        }
        let after = try #require(sent)
        var download = try await client.request(.GET, "/messageexchange/BOB/inbox/\(after)", as: "BOB", headers: [("accept-encoding", "identity")])
        for _ in 0..<60 where download.status == 429 {
            try await Task.sleep(for: .milliseconds(500))
            download = try await client.request(.GET, "/messageexchange/BOB/inbox/\(after)", as: "BOB", headers: [("accept-encoding", "identity")])
        }
        #expect(download.body == Array("after the storm".utf8))
        let peak = try #require(peakResidentMiB(pid: broker.process.processIdentifier))
        #expect(peak < 400, "broker peak memory \(peak) MiB")
        let log = try String(contentsOf: broker.logURL, encoding: .utf8)
        #expect(!log.contains("\"level\":\"error\""), "the broker logged errors")
        print("bad-input test: \(count) requests, statuses \(statuses.sorted { $0.key < $1.key }), broker peak \(Int(peak)) MiB")
    }
}
