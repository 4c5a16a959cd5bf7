import AsyncHTTPClient
import Foundation
import GRDB
import HandoverCore
import HandoverTestSupport
import NIOCore
import Synchronization
import Testing

/// Power cuts, not just crashes: the store sits on a filesystem that loses every write not yet
/// fsynced when the power goes (Tests/Faults/powercut_fs.py). Each round sends and acknowledges
/// under load, kills the broker at a random moment and cuts the power at once, then brings the
/// machine back and checks that every 202 is there byte for byte and every acknowledged message gone.
@Suite("Power cut", .serialized)
struct PowerCutTests {
    final class Round: Sendable {
        let accepted = Mutex<[String: [UInt8]]>([:])
        let acknowledged = Mutex<Set<String>>([])
        /// Acknowledgements sent with no answer before the cut: either outcome is right.
        let unanswered = Mutex<Set<String>>([])
        let stop = Mutex(false)
    }

    @Test(
        .enabled(
            if: Mounts.available && FileManager.default.fileExists(atPath: "/dev/fuse") && ReceiverProcess.pythonReady,
            "needs root, /dev/fuse and Python with fusepy (./scripts/test installs them)"))
    func everyAcceptedMessageSurvivesAPowerCut() async throws {
        let (folder, routes) = try TestBroker.folderWithRoutes("powercut")
        let backing = folder.appendingPathComponent("disk"), mountpoint = folder.appendingPathComponent("mnt")
        for dir in [backing, mountpoint] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        let arguments = [
            "--tls", "off", "--routes", routes.path, "--database", "sqlite:" + mountpoint.appendingPathComponent("h.sqlite").path,
            "--data-dir", folder.appendingPathComponent("data").path, "--shared-key", "TestKey", "--rate-limit", "0",
        ]
        // CI runs three cuts; HANDOVER_POWERCUT_ROUNDS=30 is the long run (docs/RELIABILITY.md).
        let rounds = Int(ProcessInfo.processInfo.environment["HANDOVER_POWERCUT_ROUNDS"] ?? "") ?? 3
        var accepted: [String: [UInt8]] = [:]
        var acknowledged: Set<String> = []
        var unanswered: Set<String> = []
        var dropped: [Int] = []

        for round in 0...rounds {
            let trigger = folder.appendingPathComponent("cut-\(round)")
            let filesystem = try ReceiverProcess.powerCutFilesystem(backing: backing, mountpoint: mountpoint, trigger: trigger)
            defer {
                filesystem.stop()
                Mounts.unmount(mountpoint.path)
            }
            let broker = try BrokerProcess(
                arguments: arguments, environment: TestBroker.passwords, logURL: folder.appendingPathComponent("broker-\(round).log"))
            let client = MeshWireClient(
                http: HTTPClient.shared, baseURL: "http://127.0.0.1:\(broker.port)", passwords: TestBroker.mailboxPasswords, sharedKey: "TestKey")

            // The machine is back: everything accepted is there, everything acknowledged gone.
            let inbox = Set(try await client.inbox("BOB"))
            let mustBeThere = Set(accepted.keys).subtracting(acknowledged).subtracting(unanswered)
            #expect(mustBeThere.isSubset(of: inbox), "round \(round): \(mustBeThere.subtracting(inbox).count) accepted messages lost")
            #expect(inbox.isDisjoint(with: acknowledged), "round \(round): acknowledged messages came back")
            for id in mustBeThere {
                let download = try await client.request(
                    .GET, "/messageexchange/BOB/inbox/\(id)", as: "BOB", headers: [("accept-encoding", "identity")],
                    timeout: .seconds(10))
                #expect(download.status == 200 && download.body == accepted[id], "round \(round): \(id) changed")
            }
            // An acknowledgement whose answer the cut swallowed may have gone either way; settle it now.
            for id in unanswered where !inbox.contains(id) { acknowledged.insert(id) }
            unanswered = []
            if round == rounds {
                broker.terminate()
                break
            }

            let state = Round()
            let ackable = Array(inbox.prefix(40))
            try await withThrowingTaskGroup(of: Void.self) { group in
                for sender in 0..<4 {
                    group.addTask { [client] in
                        var n = 0
                        while !state.stop.withLock({ $0 }) {
                            n += 1
                            let seed = Array("round \(round) sender \(sender) message \(n) ".utf8) + (0..<16).map { _ in UInt8.random(in: 0...255) }
                            let body = Array([[UInt8]](repeating: seed, count: Int.random(in: 8...64)).joined())
                            guard
                                let r = try? await client.request(
                                    .POST, "/messageexchange/ALICE/outbox", as: "ALICE",
                                    headers: [("mex-to", "BOB"), ("mex-workflowid", "WF")], body: body, timeout: .seconds(3))
                            else { return }
                            if r.status == 202,
                                let id = (try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])?["message_id"] as? String
                            {
                                state.accepted.withLock { $0[id] = body }
                            }
                        }
                    }
                }
                group.addTask { [client] in
                    for id in ackable where !state.stop.withLock({ $0 }) {
                        state.unanswered.withLock { _ = $0.insert(id) }
                        guard
                            let r = try? await client.request(
                                .PUT, "/messageexchange/BOB/inbox/\(id)/status/acknowledged", as: "BOB",
                                timeout: .seconds(3))
                        else { return }
                        state.unanswered.withLock { _ = $0.remove(id) }
                        if r.status == 200 { state.acknowledged.withLock { _ = $0.insert(id) } }
                    }
                }
                group.addTask { [broker] in
                    // The power goes at a random moment under load: the process first, then every unsynced write.
                    try await Task.sleep(for: .milliseconds(Int.random(in: 400...1500)))
                    broker.kill9()
                    _ = FileManager.default.createFile(atPath: trigger.path, contents: nil)
                    state.stop.withLock { $0 = true }
                }
                try await group.waitForAll()
            }
            let deadline = Date().addingTimeInterval(10)
            while !filesystem.output.contains("CUT") && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
            let cut = filesystem.output.components(separatedBy: "\n").first { $0.hasPrefix("CUT") } ?? ""
            #expect(!cut.isEmpty, "the filesystem never cut the power")
            dropped.append(Int(cut.split(separator: " ").dropFirst(2).first ?? "") ?? 0)
            accepted.merge(state.accepted.withLock { $0 }) { a, _ in a }
            acknowledged.formUnion(state.acknowledged.withLock { $0 })
            unanswered.formUnion(state.unanswered.withLock { $0 })
        }
        // The store as the next start finds it: SQLite's own check of every page and index.
        let check = try DatabaseQueue(path: backing.appendingPathComponent("h.sqlite").path)
        #expect(try await check.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
        #expect(accepted.count > 50 * rounds / 3, "the load was too light to mean anything: \(accepted.count) accepted")
        print(
            "power cut: \(rounds) cuts, \(accepted.count) messages accepted, \(acknowledged.count) acknowledged, "
                + "unsynced operations dropped at each cut: \(dropped), every accepted message verified byte for byte after each")
    }
}
