import AsyncHTTPClient
import Foundation
import HandoverBench
import HandoverCore
import HandoverServer
import HandoverTestSupport
import NIOCore
import NIOHTTP1
import Testing

/// Randomised requests from callers who *are* authenticated: admin tokens of every role on every admin
/// endpoint, valid mailbox tokens on responsibility, outcome and receipt calls, and randomly mutated
/// directory documents through `PUT /admin/directory` and `handover routes validate`. Never a crash,
/// never a 5xx but 503, memory bounded, and a clean round trip afterwards.
/// `HANDOVER_FUZZ_REQUESTS` (default 500) and `HANDOVER_FUZZ_SEED` make longer or other runs.
@Suite("Authenticated bad input", .serialized)
struct AuthenticatedFuzzTests {
    typealias SplitMix = BadInputFuzzTests.SplitMix

    @Test func authenticatedCallersCannotCrashOrExhaustTheBroker() async throws {
        let env = ProcessInfo.processInfo.environment
        let count = Int(env["HANDOVER_FUZZ_REQUESTS"] ?? "") ?? 500
        var rng = SplitMix(state: UInt64(env["HANDOVER_FUZZ_SEED"] ?? "") ?? 20_261_130)
        let (folder, routes) = try TestBroker.folderWithRoutes("authfuzz")
        let database = "sqlite:" + folder.appendingPathComponent("h.sqlite").path
        var tokens: [String] = []
        for role in ["admin", "operator", "viewer"] {
            let created = try HandoverCommand.run(["admin", "token", "create", "--name", role, "--role", role, "--database", database])
            tokens.append(try #require(created.output.split(separator: "\n").last.map(String.init)))
        }
        let pki = DevelopmentPKI(folder: folder.appendingPathComponent("pki").path)
        try pki.initialise(mailboxes: [])
        let broker = try BrokerProcess(
            arguments: [
                "--tls", "off", "--routes", routes.path, "--database", database, "--shared-key", "TestKey", "--rate-limit", "0",
                "--receipt-cert", pki.folder.appendingPathComponent("receipts.pem").path,
                "--receipt-key", pki.folder.appendingPathComponent("receipts.key").path,
            ],
            environment: TestBroker.passwords, logURL: folder.appendingPathComponent("broker.log"))
        defer { broker.terminate() }
        let base = "http://127.0.0.1:\(broker.port)"
        let client = MeshWireClient(http: .shared, baseURL: base, passwords: TestBroker.mailboxPasswords, sharedKey: "TestKey")
        let known = try #require(try await client.send(from: "ALICE", to: "BOB", body: Array("seed".utf8)))
        _ = try await client.request(.GET, "/messageexchange/BOB/inbox/\(known)", as: "BOB")

        func pick<T>(_ items: [T]) -> T { items[Int.random(in: 0..<items.count, using: &rng)] }
        func junk(_ max: Int) -> String {
            let alphabet = Array("ABCXYZabc019:;!*%/._-~?&= '\"<>{}[]#@\\$\u{0E52}é")
            return String((0..<Int.random(in: 0...max, using: &rng)).map { _ in pick(alphabet) })
        }
        func number() -> String { pick(["-1", "0", "1", "99999999999999999999", "1e308", "NaN", junk(4), "\u{0E52}"]) }

        // The directory as JSON, to mutate.
        var get = HTTPClientRequest(url: base + "/admin/directory")
        get.headers.add(name: "authorization", value: "Bearer " + tokens[0])
        let original = try JSONSerialization.jsonObject(
            with: Data(try await HTTPClient.shared.execute(get, timeout: .seconds(10)).body.collect(upTo: 1 << 20).readableBytesView))

        func mutate(_ value: Any, depth: Int = 0) -> Any {
            switch value {
            case let object as [String: Any]:
                var copy = object
                for key in object.keys where Int.random(in: 0..<6, using: &rng) == 0 {
                    switch Int.random(in: 0..<5, using: &rng) {
                    case 0: copy[key] = nil
                    case 1: copy[key + pick(["", "x", "_"])] = copy.removeValue(forKey: key)
                    case 2: copy[key] = pick([junk(20), number(), NSNull(), [Any](), ["k": junk(5)], Int.max, -1] as [Any])
                    case 3: copy[key] = pick(["200000000d", "0h", "-4h", "9999999999wd", "1e9s", "4hh", "\u{0E52}h"])
                    default: copy[key] = mutate(object[key] as Any, depth: depth + 1)
                    }
                }
                return copy.mapValues { mutate($0, depth: depth + 1) }
            case let array as [Any]:
                var copy = array.map { mutate($0, depth: depth + 1) }
                if !copy.isEmpty && Int.random(in: 0..<5, using: &rng) == 0 { copy.append(copy[0]) }  // duplicate ids
                return copy
            default:
                return Int.random(in: 0..<12, using: &rng) == 0 ? junk(30) : value
            }
        }

        var statuses: [Int: Int] = [:]
        let message = pick([known, "NOPE", junk(30)])
        for i in 0..<count {
            let token = pick(tokens)
            let id = pick([known, message, junk(40)])
            let kind = pick([
                "organisations", "mailboxes", "areas", "services", "workflows", "escalation-policies", "calendars", "webhooks", "lawful-basis-codes",
                junk(10),
            ])
            let adminRoutes: [(HTTPMethod, String)] = [
                (.GET, "/admin/directory"), (.PUT, "/admin/directory?dry_run=\(pick(["true", "false", junk(3)]))"),
                (.GET, "/admin/directory/history"), (.GET, "/admin/directory/versions/\(number())"),
                (.GET, "/admin/\(kind)/\(junk(12))"), (.PUT, "/admin/\(kind)/\(pick(["WF", "ALICE", "X26", junk(12)]))"),
                (.DELETE, "/admin/\(kind)/\(pick(["WF", "BOB", junk(8)]))"), (.POST, "/admin/mailboxes/\(pick(["CAROL", junk(6)]))/password"),
                (
                    .GET,
                    "/admin/messages?mailbox=\(junk(6))&workflow=\(junk(6))&status=\(pick(["accepted", junk(5)]))"
                        + "&since=\(pick(["2026-11-25", junk(12), "\u{0E52}"]))&limit=\(number())"
                ),
                (.GET, "/admin/audit?since=\(number())&limit=\(number())"), (.GET, "/admin/audit/verify"),
                (.GET, "/admin/alerts?state=\(pick(["open", "acknowledged", "resolved", junk(6)]))&limit=\(number())"),
                (.GET, "/admin/alerts/\(junk(20))"), (.POST, "/admin/alerts/\(junk(20))/acknowledge"), (.GET, "/metrics"),
            ]
            let mailboxRoutes: [(HTTPMethod, String)] = [
                (.POST, "/messageexchange/BOB/inbox/\(id)/responsibility"), (.POST, "/messageexchange/BOB/inbox/\(id)/outcome"),
                (.GET, "/messageexchange/BOB/inbox/\(id)/receipt"), (.GET, "/messageexchange/ALICE/outbox/\(id)/receipt"),
                (.GET, "/messageexchange/ALICE/outbox/tracking?messageID=\(id)"),
            ]
            let asAdmin = Bool.random(using: &rng)
            let (method, rawPath) = asAdmin ? pick(adminRoutes) : pick(mailboxRoutes)
            let path = rawPath.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.union(CharacterSet(charactersIn: "?&="))) ?? "/"
            var request = HTTPClientRequest(url: base + path)
            request.method = method
            let body: [UInt8]
            if rawPath.hasPrefix("/admin/directory") && method == .PUT {
                body = (try? JSONSerialization.data(withJSONObject: mutate(original))).map(Array.init) ?? []
                request.headers.add(name: "content-type", value: pick(["application/json", "application/yaml"]))
                request.headers.add(name: "if-match", value: pick(["\"1\"", "\"\(number())\"", junk(5)]))
            } else {
                let person = pick([#"{"name":"Sam"}"#, #"{"name":""}"#, #"{"name":"\#(junk(200))"}"#, "null", junk(20)])
                body = Array(
                    pick([
                        #"{"decision":"\#(pick(["accept", "decline", junk(6)]))","by":\#(person),"note":"\#(junk(40))"}"#,
                        #"{"code":"\#(pick(["assessed", "services-arranged", junk(8)]))","detail":"\#(junk(300))","by":\#(person)}"#,
                        #"{"by":\#(person),"note":"\#(junk(50))"}"#,
                        #"{"id":"WF","senders":["*"],"receivers":["*"],"expiry":"\#(pick(["200000000d", "5d", junk(4)]))"}"#,
                        "id: \(junk(8))\nname: \(junk(10))\n", String(repeating: "[", count: Int.random(in: 1...20_000, using: &rng)), junk(500),
                    ]).utf8)
                request.headers.add(name: "content-type", value: pick(["application/json", "application/yaml", junk(10)]))
            }
            request.body = .bytes(ByteBuffer(bytes: body))
            if asAdmin {
                request.headers.add(name: "authorization", value: "Bearer " + token)
            } else {
                let mailbox = rawPath.contains("/ALICE/") ? "ALICE" : "BOB"
                request.headers.add(
                    name: "authorization",
                    value: MeshTokenFactory.header(
                        mailbox: mailbox, password: TestBroker.mailboxPasswords[mailbox] ?? "", sharedKey: "TestKey", now: SystemClock.now()))
                request.headers.add(name: "accept", value: "application/vnd.mesh.v2+json")
            }
            do {
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
                _ = try? await response.body.collect(upTo: 1 << 22)
                let status = Int(response.status.code)
                statuses[status, default: 0] += 1
                #expect(status < 500 || status == 503, "request \(i): \(method) \(path) -> \(status)")
            } catch {
                statuses[0, default: 0] += 1
            }
        }
        #expect(broker.process.isRunning, "the broker crashed")
        #expect(statuses.filter { (200..<300).contains($0.key) }.values.reduce(0, +) > count / 10, "too few requests were accepted")

        // Mutated directories through the offline validator: exit 0 (valid) or 1 (problems), never a crash.
        let mutated = folder.appendingPathComponent("mutated")
        for round in 0..<(count / 50) {
            try? FileManager.default.removeItem(at: mutated)
            try FileManager.default.createDirectory(at: mutated, withIntermediateDirectories: true)
            let data = try JSONSerialization.data(withJSONObject: mutate(original))
            try data.write(to: mutated.appendingPathComponent("directory.yaml"))  // JSON is YAML
            let validated = try HandoverCommand.run(["routes", "validate", mutated.path])
            #expect(
                validated.status == 0 || validated.status == 1,
                "round \(round): routes validate exited \(validated.status): \(validated.output.suffix(300))")
        }

        // Still serving: a clean round trip.
        let after = try #require(try await client.send(from: "ALICE", to: "BOB", body: Array("after".utf8)))
        #expect(
            try await client.request(.GET, "/messageexchange/BOB/inbox/\(after)", as: "BOB", headers: [("accept-encoding", "identity")]).body
                == Array("after".utf8))
        let peak = try #require(peakResidentMiB(pid: broker.process.processIdentifier))
        #expect(peak < 400, "broker peak memory \(peak) MiB")
        print("authenticated bad-input test: \(count) requests, statuses \(statuses.sorted { $0.key < $1.key }), broker peak \(Int(peak)) MiB")
    }
}
