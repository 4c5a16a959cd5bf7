import AsyncHTTPClient
import Foundation
import HandoverCore
import HandoverTestSupport
import Testing

/// The SQLite store on a small tmpfs that fills under load: sends are refused with 503 and a stable
/// code, nothing accepted is lost, downloads and acknowledgements go on, and sends are accepted again
/// by themselves once the filesystem grows.
@Suite("A full disk", .serialized)
struct DiskFullTests {
    @Test(.enabled(if: Mounts.available, "needs root to mount a small tmpfs (CI runs as root)"))
    func aFullDiskRefusesSendsWith503KeepsWhatItAcceptedAndRecoversByItself() async throws {
        let (folder, routes) = try TestBroker.folderWithRoutes("diskfull")
        let small = folder.appendingPathComponent("small")
        try FileManager.default.createDirectory(at: small, withIntermediateDirectories: true)
        try Mounts.mount(["-t", "tmpfs", "-o", "size=24m", "tmpfs", small.path])
        defer { Mounts.unmount(small.path) }
        let arguments = [
            "--tls", "off", "--routes", routes.path, "--database", "sqlite:" + small.appendingPathComponent("h.sqlite").path,
            "--shared-key", "TestKey", "--rate-limit", "0",
        ]
        var broker: BrokerProcess? = try BrokerProcess(
            arguments: arguments, environment: TestBroker.passwords, logURL: folder.appendingPathComponent("broker.log"))
        defer { broker?.terminate() }
        var client = MeshWireClient(
            http: HTTPClient.shared, baseURL: "http://127.0.0.1:\(broker!.port)", passwords: TestBroker.mailboxPasswords, sharedKey: "TestKey")

        // Fill it: four senders at a time, 256 KiB each, until refusals come (at most 400 sends).
        var accepted: [String: [UInt8]] = [:]
        var refusals: [(status: Int, code: String, retryAfter: String?)] = []
        var round = 0
        while refusals.count < 8 && round < 100 {
            round += 1
            let results = try await withThrowingTaskGroup(of: ([UInt8], (status: Int, headers: [String: String], body: [UInt8])).self) { group in
                for _ in 0..<4 {
                    group.addTask { [client] in
                        // 32 random bytes repeated: unique per message, cheap to make (a debug build makes 1 MiB of random bytes a round slowly).
                        let seed = (0..<32).map { _ in UInt8.random(in: 0...255) }
                        let body = Array([[UInt8]](repeating: seed, count: 262_144 / 32).joined())
                        let r = try await client.request(
                            .POST, "/messageexchange/ALICE/outbox", as: "ALICE",
                            headers: [("mex-to", "BOB"), ("mex-workflowid", "WF")], body: body)
                        return (
                            body, (r.status, Dictionary(r.headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a }), r.body)
                        )
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for (body, response) in results {
                let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
                if response.status == 202, let id = json?["message_id"] as? String {
                    accepted[id] = body
                } else {
                    let code = ((json?["detail"] as? [[String: Any]])?.first?["code"] as? String) ?? ""
                    refusals.append((response.status, code, response.headers["retry-after"]))
                }
            }
        }
        #expect(accepted.count > 10, "the disk filled before anything meaningful was sent")
        #expect(!refusals.isEmpty, "the disk never filled")
        #expect(refusals.allSatisfy { $0.status == 503 && $0.code == "storage-full" && $0.retryAfter == "60" }, "\(refusals.prefix(5))")

        // Still serving while full: downloads, and acknowledgements.
        let ids = Array(accepted.keys).sorted()
        for id in ids.prefix(3) {
            let download = try await client.request(.GET, "/messageexchange/BOB/inbox/\(id)", as: "BOB", headers: [("accept-encoding", "identity")])
            #expect(download.status == 200 && download.body == accepted[id], "download of \(id) while full: \(download.status)")
        }
        var acknowledged: Set<String> = []
        for id in ids.prefix(2) {
            let ack = try await client.request(.PUT, "/messageexchange/BOB/inbox/\(id)/status/acknowledged", as: "BOB")
            #expect(ack.status == 200, "acknowledging \(id) while full: \(ack.status) \(String(decoding: ack.body, as: UTF8.self).prefix(200))")
            if ack.status == 200 { acknowledged.insert(id) }
        }

        // Space freed: sends are accepted again with no restart.
        try Mounts.mount(["-o", "remount,size=200m", small.path])
        var recovered: String?
        for _ in 0..<40 where recovered == nil {
            let body = Array("after the disk grew".utf8)
            if let id = try await client.send(from: "ALICE", to: "BOB", body: body) {
                recovered = id
                accepted[id] = body
            } else {
                try await Task.sleep(for: .milliseconds(250))
            }
        }
        #expect(recovered != nil, "sends still refused after the disk grew")

        // Everything accepted is there byte for byte, before and after a restart on the same store.
        for restart in [false, true] {
            if restart {
                broker?.terminate()
                broker = try BrokerProcess(
                    arguments: arguments, environment: TestBroker.passwords, logURL: folder.appendingPathComponent("broker.log"))
                client = MeshWireClient(
                    http: HTTPClient.shared, baseURL: "http://127.0.0.1:\(broker!.port)", passwords: TestBroker.mailboxPasswords, sharedKey: "TestKey"
                )
            }
            let inbox = Set(try await client.inbox("BOB"))
            #expect(
                inbox == Set(accepted.keys).subtracting(acknowledged),
                "restart \(restart): \(inbox.count) in the inbox, \(accepted.count - acknowledged.count) expected")
            for (id, body) in accepted where !acknowledged.contains(id) {
                let download = try await client.request(
                    .GET, "/messageexchange/BOB/inbox/\(id)", as: "BOB", headers: [("accept-encoding", "identity")])
                #expect(download.status == 200 && download.body == body, "\(id) after restart \(restart)")
            }
        }
        print(
            "disk full: \(accepted.count) accepted (\(accepted.count - 1) before the disk filled), \(refusals.count) refused with 503 storage-full, "
                + "\(acknowledged.count) acknowledged while full, all verified byte for byte before and after a restart")
        let log = (try? String(contentsOf: folder.appendingPathComponent("broker.log"), encoding: .utf8)) ?? ""
        #expect(
            !log.contains("unhandled error"), "a 500 was logged: \(log.components(separatedBy: "\n").filter { $0.contains("unhandled") }.prefix(3))")
    }
}
