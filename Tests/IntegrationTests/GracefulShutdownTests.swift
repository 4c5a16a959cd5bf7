import AsyncHTTPClient
import Foundation
import HandoverCore
import HandoverTestSupport
import NIOCore
import Synchronization
import Testing

/// SIGTERM while eight senders keep sending: requests already being served finish (never a 5xx),
/// later ones find the listener closed, the broker stops its services, closes the store (the WAL
/// checkpointed to nothing) and exits 0; every 202 is there, byte for byte, after a restart.
@Suite("Graceful shutdown", .serialized)
struct GracefulShutdownTests {
    final class Outcomes: Sendable {
        let accepted = Mutex<[String: [UInt8]]>([:])
        let serverErrors = Mutex<[Int]>([])
        let refusedAfterStop = Mutex(0)
        let failuresBeforeStop = Mutex<[String]>([])
        let stopping = Mutex(false)
    }

    @Test func sigtermUnderLoadFinishesWhatIsInFlightAndLosesNothing() async throws {
        let (folder, routes) = try TestBroker.folderWithRoutes("sigterm")
        let database = folder.appendingPathComponent("h.sqlite")
        let arguments = [
            "--tls", "off", "--routes", routes.path, "--database", "sqlite:" + database.path, "--shared-key", "TestKey", "--rate-limit", "0",
        ]
        let broker = try BrokerProcess(arguments: arguments, environment: TestBroker.passwords, logURL: folder.appendingPathComponent("broker.log"))
        defer { broker.terminate() }
        let client = MeshWireClient(
            http: HTTPClient.shared, baseURL: "http://127.0.0.1:\(broker.port)", passwords: TestBroker.mailboxPasswords, sharedKey: "TestKey")
        let outcomes = Outcomes()

        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<8 {
                group.addTask { [client] in
                    // Each sender stops at its first failure after SIGTERM, or after 2,000 sends.
                    for _ in 0..<2000 {
                        let seed = (0..<32).map { _ in UInt8.random(in: 0...255) }
                        let body = Array([[UInt8]](repeating: seed, count: 4096 / 32).joined())
                        do {
                            let r = try await client.request(
                                .POST, "/messageexchange/ALICE/outbox", as: "ALICE",
                                headers: [("mex-to", "BOB"), ("mex-workflowid", "WF")], body: body, timeout: .seconds(5))
                            if r.status == 202,
                                let id = (try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])?["message_id"] as? String
                            {
                                outcomes.accepted.withLock { $0[id] = body }
                            } else if r.status >= 500 {
                                outcomes.serverErrors.withLock { $0.append(r.status) }
                            }
                        } catch {
                            if outcomes.stopping.withLock({ $0 }) {
                                outcomes.refusedAfterStop.withLock { $0 += 1 }
                                return
                            }
                            outcomes.failuresBeforeStop.withLock { $0.append("\(type(of: error))") }
                            return
                        }
                    }
                }
            }
            group.addTask { [broker] in
                // Let the load build, then stop the broker in the middle of it.
                while outcomes.accepted.withLock({ $0.count }) < 200 { try await Task.sleep(for: .milliseconds(20)) }
                outcomes.stopping.withLock { $0 = true }
                kill(broker.process.processIdentifier, SIGTERM)
            }
            try await group.waitForAll()
        }
        let deadline = Date().addingTimeInterval(20)
        while broker.process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!broker.process.isRunning, "still running 20 s after SIGTERM")
        broker.process.waitUntilExit()
        #expect(broker.process.terminationStatus == 0, "exit status \(broker.process.terminationStatus)")
        #expect(outcomes.serverErrors.withLock { $0 }.isEmpty, "5xx while stopping: \(outcomes.serverErrors.withLock { $0 }.prefix(5))")
        #expect(outcomes.failuresBeforeStop.withLock { $0 }.isEmpty, "\(outcomes.failuresBeforeStop.withLock { $0 })")
        let log = (try? String(contentsOf: folder.appendingPathComponent("broker.log"), encoding: .utf8)) ?? ""
        #expect(log.contains("closing the store"), "the store was not closed")
        let wal = (try? FileManager.default.attributesOfItem(atPath: database.path + "-wal")[.size] as? Int) ?? 0
        #expect(wal == 0, "the WAL was left with \(wal) bytes: the store was not checkpointed on the way out")

        let accepted = outcomes.accepted.withLock { $0 }
        let restarted = try BrokerProcess(
            arguments: arguments, environment: TestBroker.passwords, logURL: folder.appendingPathComponent("broker2.log"))
        defer { restarted.terminate() }
        let again = MeshWireClient(
            http: HTTPClient.shared, baseURL: "http://127.0.0.1:\(restarted.port)", passwords: TestBroker.mailboxPasswords, sharedKey: "TestKey")
        let inbox = Set(try await again.inbox("BOB"))
        #expect(Set(accepted.keys).isSubset(of: inbox), "\(Set(accepted.keys).subtracting(inbox).count) accepted messages missing after the restart")
        for (id, body) in accepted.prefix(200) {
            let download = try await again.request(.GET, "/messageexchange/BOB/inbox/\(id)", as: "BOB", headers: [("accept-encoding", "identity")])
            #expect(download.status == 200 && download.body == body, "\(id)")
        }
        print(
            "graceful shutdown: \(accepted.count) accepted, \(inbox.count) in the inbox after restart, "
                + "\(outcomes.refusedAfterStop.withLock { $0 }) senders turned away once the listener closed, no 5xx")
    }
}
