import AsyncHTTPClient
import Foundation
import HandoverCore
import HandoverTestSupport
import Synchronization
import Testing

/// A 202 means durably committed: messages acknowledged with 202 before a `kill -9` are all there,
/// byte for byte, after a restart; acknowledged ones do not come back; half-uploaded ones stay invisible.
@Suite("Crash durability (kill -9)", .serialized)
struct CrashDurabilityTests {

    @Test func acceptedMessagesSurviveKillNine() async throws {
        let (folder, routes) = try TestBroker.folderWithRoutes("crash")
        let arguments = [
            "--tls", "off", "--routes", routes.path, "--database", "sqlite:" + folder.appendingPathComponent("h.sqlite").path,
            "--shared-key", "TestKey",
        ]
        let environment = TestBroker.passwords
        let http = HTTPClient.shared

        let accepted = AcceptedMessages()
        var acknowledged: Set<String> = []
        var partial: [String] = []
        // CI runs a short version; HANDOVER_CRASH_ROUNDS=50 is the full one (docs/PERFORMANCE.md).
        let rounds = Int(ProcessInfo.processInfo.environment["HANDOVER_CRASH_ROUNDS"] ?? "") ?? 3
        for round in 0..<rounds {
            let broker = try BrokerProcess(arguments: arguments, environment: environment, logURL: folder.appendingPathComponent("broker.log"))
            let client = MeshWireClient(
                http: http, baseURL: "http://127.0.0.1:\(broker.port)", passwords: TestBroker.mailboxPasswords, sharedKey: "TestKey")
            // A chunked upload that never completes: must never be visible.
            let first = try await client.request(
                .POST, "/messageexchange/ALICE/outbox", as: "ALICE",
                headers: [("mex-to", "BOB"), ("mex-workflowid", "WF"), ("mex-chunk-range", "1:2")], body: [1, 2, 3])
            if let id = (try JSONSerialization.jsonObject(with: Data(first.body)) as? [String: Any])?["message_id"] as? String { partial.append(id) }
            // Acknowledge one message from the previous round, then crash while senders are busy.
            if let old = accepted.value.withLock({ $0.keys.sorted().first(where: { !acknowledged.contains($0) }) }) {
                let ack = try await client.request(.PUT, "/messageexchange/BOB/inbox/\(old)/status/acknowledged", as: "BOB")
                #expect(ack.status == 200)
                acknowledged.insert(old)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for sender in 0..<6 {
                    group.addTask {
                        var n = 0
                        while !Task.isCancelled {
                            n += 1
                            // Mostly small messages, and every 15th one spans several 1 MiB segments.
                            let size = n % 15 == 0 ? 2_500_000 : 200 + (n * 7919) % 20_000
                            var payload = [UInt8](repeating: 0, count: size)
                            for i in stride(from: 0, to: size, by: 997) { payload[i] = UInt8(truncatingIfNeeded: i &+ n &+ sender &* 31 &+ round) }
                            guard let id = try? await client.send(from: "ALICE", to: "BOB", body: payload) else { continue }
                            accepted.value.withLock { $0[id] = payload }
                        }
                    }
                }
                // Under load at least a few more messages in this round (so a slow machine still tests
                // something), then a random moment: mid-send, mid-commit or mid-upload.
                let before = accepted.value.withLock { $0.count }
                let deadline = ContinuousClock.now + .seconds(20)
                while accepted.value.withLock({ $0.count }) < before + 8, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                try await Task.sleep(for: .milliseconds(Int.random(in: 50...700)))
                broker.kill9()
                group.cancelAll()
                try? await group.waitForAll()
            }
        }

        let broker = try BrokerProcess(arguments: arguments, environment: environment, logURL: folder.appendingPathComponent("broker.log"))
        defer { broker.terminate() }
        let client = MeshWireClient(
            http: http, baseURL: "http://127.0.0.1:\(broker.port)", passwords: TestBroker.mailboxPasswords, sharedKey: "TestKey")
        let snapshot = accepted.value.withLock { $0 }
        #expect(snapshot.count > 20, "the load was too light to mean anything: \(snapshot.count) accepted")
        let inbox = Set(try await client.inbox("BOB"))
        for (id, payload) in snapshot {
            if acknowledged.contains(id) {
                #expect(!inbox.contains(id), "acknowledged \(id) came back")
                continue
            }
            #expect(inbox.contains(id), "accepted \(id) is missing from the inbox")
            let r = try await client.request(.GET, "/messageexchange/BOB/inbox/\(id)", as: "BOB", headers: [("accept-encoding", "identity")])
            #expect(r.status == 200 && r.body == payload, "accepted \(id) differs after restart (\(r.status), \(r.body.count) bytes)")
        }
        for id in partial {
            #expect(!inbox.contains(id), "half-uploaded \(id) became visible")
            let r = try await client.request(.GET, "/messageexchange/BOB/inbox/\(id)", as: "BOB")
            #expect(r.status == 410)
        }
        print(
            "crash test: \(rounds) kill -9 rounds, \(snapshot.count) accepted messages verified, \(acknowledged.count)"
                + " acknowledged, \(partial.count) partial"
        )
    }
}

/// Messages that got a 202, with their payloads, shared by the sending tasks.
final class AcceptedMessages: Sendable {
    let value = Mutex<[String: [UInt8]]>([:])
}
