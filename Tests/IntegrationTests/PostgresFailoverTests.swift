import AsyncHTTPClient
import Foundation
import HandoverBench
import HandoverCore
import HandoverTestSupport
import NIOCore
import Synchronization
import Testing

/// PostgreSQL fails over, then restarts, under load: a primary with a synchronous streaming standby,
/// HAProxy in front (the broker knows one address), the primary crashed mid-load and the standby
/// promoted, then the new primary restarted. Requests meanwhile get 503, never a 500; the same broker
/// process accepts again after each; every 202 is there exactly once, byte for byte.
@Suite("PostgreSQL failover", .serialized)
struct PostgresFailoverTests {
    static let haproxy = "/usr/sbin/haproxy"
    static let script = ReceiverProcess.root.appendingPathComponent("scripts/postgres-cluster").path

    @discardableResult
    static func cluster(_ arguments: [String]) throws -> String {
        // Output to a file, not a pipe: the PostgreSQL server the script starts would inherit the
        // pipe and keep it open, so reading it to its end would never finish.
        let output = TestFolders.path("postgres-cluster", suffix: ".out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BrokerProcessError("postgres-cluster \(arguments.first ?? "") failed") }
        return ((try? String(contentsOf: output, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    final class Load: Sendable {
        let accepted = Mutex<[String: [UInt8]]>([:])
        let statuses = Mutex<[Int: Int]>([:])
        /// 0 before the failover, 1 after the promotion, 2 after the restart, 3 when done.
        let phase = Mutex(0)
        let acceptedInPhase = Mutex<[Int: Int]>([:])
        func wait(forAcceptedInPhase phase: Int, _ count: Int) async throws {
            while acceptedInPhase.withLock({ $0[phase, default: 0] }) < count { try await Task.sleep(for: .milliseconds(20)) }
        }
    }

    @Test(
        .enabled(
            if: PostgresTestServer.url != nil && FileManager.default.isExecutableFile(atPath: haproxy),
            "needs Debian's PostgreSQL and HAProxy (./scripts/test installs them)"))
    func aFailoverUnderLoadLosesAndDuplicatesNothing() async throws {
        let (folder, routes) = try TestBroker.folderWithRoutes("failover")
        // Under /tmp: the clusters run as the `postgres` user, who may not be able to enter the checkout.
        let clusters = URL(fileURLWithPath: "/tmp/handover-failover-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: clusters, withIntermediateDirectories: true)
        let primary = clusters.appendingPathComponent("primary")
        let standby = primary.deletingLastPathComponent().appendingPathComponent("standby")
        defer {
            if ProcessInfo.processInfo.environment["HANDOVER_KEEP_CLUSTERS"] == nil {
                for dir in [primary, standby] { _ = try? Self.cluster(["stop", dir.path]) }
                try? FileManager.default.removeItem(at: primary.deletingLastPathComponent())
            }
        }
        let primaryURL = try Self.cluster(["start", primary.path])
        let standbyURL = try Self.cluster(["standby", primary.path, standby.path])
        // Synchronous: a commit returns only once the standby has it, so a failover loses no 202.
        try Self.cluster(["sql", primary.path, "ALTER SYSTEM SET synchronous_standby_names = '*'"])
        try Self.cluster(["sql", primary.path, "SELECT pg_reload_conf()"])
        // Not before the standby streams as the synchronous one: until then a commit could be acknowledged unreplicated.
        let syncDeadline = Date().addingTimeInterval(30)
        while try Self.cluster(["sql", primary.path, "SELECT string_agg(sync_state, ',') FROM pg_stat_replication"]) != "sync" {
            guard Date() < syncDeadline else { throw BrokerProcessError("the standby never became synchronous") }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(try Self.cluster(["sql", primary.path, "SHOW synchronous_standby_names"]) == "*")
        func port(_ url: String) -> Int { URLComponents(string: url)?.port ?? 0 }
        let proxyPort = try SpawnedBroker.freePort()
        let config = folder.appendingPathComponent("haproxy.cfg")
        try """
        defaults
          mode tcp
          timeout connect 1s
          timeout client 60s
          timeout server 60s
        listen postgres
          bind 127.0.0.1:\(proxyPort)
          server primary 127.0.0.1:\(port(primaryURL)) check inter 200ms fall 2 rise 2 on-marked-down shutdown-sessions
          server standby 127.0.0.1:\(port(standbyURL)) check inter 200ms fall 2 rise 2 backup

        """.write(to: config, atomically: true, encoding: .utf8)
        let proxy = try ReceiverProcess.listening(Self.haproxy, ["-f", config.path, "-db"], port: proxyPort)
        defer { proxy.stop() }

        let broker = try BrokerProcess(
            arguments: [
                "--tls", "off", "--routes", routes.path, "--database", "postgres://handover@127.0.0.1:\(proxyPort)/postgres?sslmode=disable",
                "--data-dir", folder.appendingPathComponent("data").path, "--shared-key", "TestKey", "--rate-limit", "0", "--database-timeout", "3",
            ],
            environment: TestBroker.passwords, logURL: folder.appendingPathComponent("broker.log"), timeout: 60)
        defer { broker.terminate() }
        let client = MeshWireClient(
            http: HTTPClient.shared, baseURL: "http://127.0.0.1:\(broker.port)", passwords: TestBroker.mailboxPasswords, sharedKey: "TestKey")
        let load = Load()

        try await withThrowingTaskGroup(of: Void.self) { group in
            for sender in 0..<4 {
                group.addTask { [client] in
                    // Until the controller says done, or 90 s.
                    let deadline = Date().addingTimeInterval(90)
                    var n = 0
                    while load.phase.withLock({ $0 }) < 3 && Date() < deadline {
                        n += 1
                        let body = Array("sender \(sender) message \(n) \(UUID().uuidString)".utf8)
                        let phase = load.phase.withLock { $0 }
                        let r = try await client.request(
                            .POST, "/messageexchange/ALICE/outbox", as: "ALICE",
                            headers: [("mex-to", "BOB"), ("mex-workflowid", "WF")], body: body, timeout: .seconds(20))
                        load.statuses.withLock { $0[r.status, default: 0] += 1 }
                        if r.status == 202,
                            let id = (try? JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])?["message_id"] as? String
                        {
                            load.accepted.withLock { $0[id] = body }
                            load.acceptedInPhase.withLock { $0[phase, default: 0] += 1 }
                        } else if r.status == 503 {
                            try await Task.sleep(for: .milliseconds(100))
                        }
                    }
                }
            }
            group.addTask {
                try await load.wait(forAcceptedInPhase: 0, 100)
                try Self.cluster(["crash", primary.path])
                try await Task.sleep(for: .milliseconds(500))
                try Self.cluster(["promote", standby.path])
                load.phase.withLock { $0 = 1 }
                try await load.wait(forAcceptedInPhase: 1, 40)
                try Self.cluster(["restart", standby.path])
                load.phase.withLock { $0 = 2 }
                try await load.wait(forAcceptedInPhase: 2, 40)
                load.phase.withLock { $0 = 3 }
            }
            try await group.waitForAll()
        }
        let statuses = load.statuses.withLock { $0 }
        #expect(Set(statuses.keys).isSubset(of: [202, 503]), "statuses during the failover: \(statuses)")
        let perPhase = load.acceptedInPhase.withLock { $0 }
        #expect(perPhase[1, default: 0] >= 40 && perPhase[2, default: 0] >= 40, "the broker did not recover without a restart: \(perPhase)")

        let accepted = load.accepted.withLock { $0 }
        let inbox = try await client.inbox("BOB")
        #expect(Set(inbox).count == inbox.count, "an id listed twice")
        #expect(
            Set(accepted.keys).isSubset(of: Set(inbox)),
            Comment(
                rawValue: "accepted messages lost in the failover: \(Set(accepted.keys).subtracting(inbox).sorted())"
                    + " (clusters in \(primary.deletingLastPathComponent().path))")
        )
        var bodies: [[UInt8]: Int] = [:]
        for id in inbox {
            let download = try await client.request(.GET, "/messageexchange/BOB/inbox/\(id)", as: "BOB", headers: [("accept-encoding", "identity")])
            #expect(download.status == 200)
            bodies[download.body, default: 0] += 1
            if let sent = accepted[id] { #expect(download.body == sent, "\(id) changed") }
        }
        #expect(bodies.values.allSatisfy { $0 == 1 }, "a message stored twice")
        print(
            "PostgreSQL failover and restart: \(accepted.count) accepted (\(perPhase[1, default: 0]) after the promotion, "
                + "\(perPhase[2, default: 0]) after the restart), "
                + "responses \(statuses.sorted { $0.key < $1.key }), \(inbox.count) in the inbox, none lost or doubled")
    }
}
