import AsyncHTTPClient
import Foundation
import HandoverBench
import HandoverCore
import HandoverPostgres
import HandoverServer
import HandoverStore
import HandoverTestSupport
import NIOCore
import Testing

/// Two real `handover serve` processes on one PostgreSQL database: any instance serves any mailbox,
/// a token spent on one is refused by the other, a directory edit reaches both within a second, and
/// when the instance that planned an escalation is killed the other raises the alert, exactly once.
@Suite(
    "Several instances on PostgreSQL", .serialized,
    .enabled(if: PostgresTestServer.url != nil, "HANDOVER_TEST_POSTGRES_URL is not set; scripts/test starts a PostgreSQL cluster and sets it"))
struct MultiInstanceTests {
    static let routes =
        TestBroker.defaultRoutes + """

              - {id: WF_URGENT, senders: [ALICE], receivers: [BOB], expiry: 1d, responsibility: required, escalation: fast}
              - {id: SG, senders: [ALICE], receivers: [X27], safeguarding: true, crossing: {identity: flagged}}
            escalation_policies:
              - id: fast
                stages:
                  - {after: 6s, when: not-accepted, notify: [{mailbox: CAROL}]}
            """

    func start(_ name: String, database: String, routes: URL, folder: URL) throws -> BrokerProcess {
        try BrokerProcess(
            arguments: [
                "--tls", "off", "--routes", routes.path, "--database", database, "--data-dir", folder.appendingPathComponent("data").path,
                "--shared-key", "TestKey",
            ],
            environment: TestBroker.passwords, logURL: folder.appendingPathComponent("\(name).log"))
    }

    /// Two instances, "a" and "b", on a new database; the folder and routes start more.
    func startTwo(_ name: String) async throws -> (a: BrokerProcess, b: BrokerProcess, database: String, folder: URL, routes: URL) {
        let database = try await PostgresTestServer.newDatabase()
        let (folder, routes) = try TestBroker.folderWithRoutes(name, yaml: Self.routes)
        let a = try start("a", database: database, routes: routes, folder: folder)
        do {
            return (a, try start("b", database: database, routes: routes, folder: folder), database, folder, routes)
        } catch {
            a.terminate()
            throw error
        }
    }

    /// A MESH client of one instance, with the test mailboxes' passwords.
    func client(of broker: BrokerProcess) -> MeshWireClient {
        MeshWireClient(http: .shared, baseURL: "http://127.0.0.1:\(broker.port)", passwords: TestBroker.mailboxPasswords, sharedKey: "TestKey")
    }

    /// A fresh NHSMESH token for ALICE.
    func aliceToken() -> String {
        MeshTokenFactory.header(mailbox: "ALICE", password: "alice-secret", sharedKey: "TestKey", now: SystemClock.now())
    }

    @Test func instancesShareMailboxesTokensDirectoryAndEscalation() async throws {
        let (a, b, database, folder, routes) = try await startTwo("multi")
        defer {
            a.terminate()
            b.terminate()
        }
        let clientA = client(of: a)
        let clientB = client(of: b)

        // Send through A, receive through B.
        var sent: [String: [UInt8]] = [:]
        for i in 0..<20 {
            let body = Array("message \(i) crossing instances".utf8)
            let id = try #require(try await clientA.send(from: "ALICE", to: "BOB", body: body))
            sent[id] = body
        }
        let inboxOnB = try await clientB.inbox("BOB")
        #expect(Set(inboxOnB) == Set(sent.keys))
        let first = try #require(inboxOnB.first)
        let download = try await clientB.request(.GET, "/messageexchange/BOB/inbox/\(first)", as: "BOB", headers: [("accept-encoding", "identity")])
        #expect(download.status == 200 && download.body == sent[first])
        let ack = try await clientB.request(.PUT, "/messageexchange/BOB/inbox/\(first)/status/acknowledged", as: "BOB")
        #expect(ack.status == 200)
        #expect(try await clientA.inbox("BOB").count == 19)

        // One token, two instances: the second use is a replay.
        let header = MeshTokenFactory.header(mailbox: "BOB", password: "bob-secret", sharedKey: "TestKey", now: SystemClock.now())
        #expect(try await rawStatus(port: a.port, path: "/messageexchange/BOB/inbox", authorization: header) == 200)
        #expect(try await rawStatus(port: b.port, path: "/messageexchange/BOB/inbox", authorization: header) == 403)

        // A send spends its token in its delivery's commit: a replay on the other instance is still
        // refused, whichever request came first, and a refused send delivers nothing.
        let waitingBefore = try await clientA.inbox("BOB").count
        let sendTwice = aliceToken()
        #expect(try await rawSend(port: a.port, authorization: sendTwice) == 202)
        #expect(try await rawSend(port: b.port, authorization: sendTwice) == 403)
        let listThenSend = aliceToken()
        #expect(try await rawStatus(port: a.port, path: "/messageexchange/ALICE/inbox", authorization: listThenSend) == 200)
        #expect(try await rawSend(port: b.port, authorization: listThenSend) == 403)
        let sendThenList = aliceToken()
        #expect(try await rawSend(port: a.port, authorization: sendThenList) == 202)
        #expect(try await rawStatus(port: b.port, path: "/messageexchange/ALICE/inbox", authorization: sendThenList) == 403)
        // A send refused before it wrote anything (an unknown recipient) has spent its token all the same.
        let refusedThenList = aliceToken()
        #expect(try await rawSend(port: a.port, authorization: refusedThenList, to: "NOBODY") == 417)
        #expect(try await rawStatus(port: b.port, path: "/messageexchange/ALICE/inbox", authorization: refusedThenList) == 403)
        // Many sends at once on both instances, each token sent to both: each delivered once.
        let tokens = (0..<12).map { _ in aliceToken() }
        let accepted = try await withThrowingTaskGroup(of: Int.self) { group in
            for token in tokens {
                for port in [a.port, b.port] { group.addTask { try await rawSend(port: port, authorization: token) == 202 ? 1 : 0 } }
            }
            return try await group.reduce(0, +)
        }
        #expect(accepted == tokens.count)
        #expect(try await clientB.inbox("BOB").count == waitingBefore + 2 + tokens.count)
        // A body longer than one segment is written as it arrives: its token is spent before the
        // first segment, so a replay of it writes nothing.
        let segments = try await PostgresStore.connect(url: database, maximumConnections: 1)
        defer { segments.cancel() }
        let large = ByteBuffer(repeating: 1, count: ChunkStager.defaultSegmentSize + 1)
        let segmentsBefore = try await segments.rowCount(table: "segments")
        let listThenLargeSend = aliceToken()
        #expect(try await rawStatus(port: a.port, path: "/messageexchange/ALICE/inbox", authorization: listThenLargeSend) == 200)
        #expect(try await rawSend(port: b.port, authorization: listThenLargeSend, body: large) == 403)
        #expect(try await segments.rowCount(table: "segments") == segmentsBefore)
        #expect(try await rawSend(port: b.port, authorization: aliceToken(), body: large) == 202)
        #expect(try await segments.rowCount(table: "segments") == segmentsBefore + 2)

        // A directory edit saved through one process reaches both instances within a second.
        let store = try await PostgresStore.connect(url: database, maximumConnections: 2)
        defer { store.cancel() }
        let current = try #require(try await store.currentDirectory())
        var edited = current.document
        edited.workflows = (edited.workflows ?? []) + [.init(id: "WF_NEW", senders: ["ALICE"], receivers: ["BOB"])]
        #expect(try await clientB.send(from: "ALICE", to: "BOB", workflow: "WF_NEW", body: [1]) == nil)
        let saved = Date()
        _ = try await store.saveDirectory(edited, expectedVersion: current.version, actor: "test", changes: [], now: SystemClock.now())
        var reachedBoth = false
        while Date().timeIntervalSince(saved) < 1.0 {
            async let onA = clientA.send(from: "ALICE", to: "BOB", workflow: "WF_NEW", body: [2])
            async let onB = clientB.send(from: "ALICE", to: "BOB", workflow: "WF_NEW", body: [3])
            if try await onA != nil, try await onB != nil {
                reachedBoth = true
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(reachedBoth, "the new workflow was not in force on both instances within 1 s")

        // Escalation: A delivers (and plans the 6 s deadline), then dies just before it falls due.
        let urgent = try #require(try await clientA.send(from: "ALICE", to: "BOB", workflow: "WF_URGENT", body: Array("safeguarding".utf8)))
        try await waitUntil(seconds: 5) { try await store.events(messageID: MessageID(urgent)).isEmpty == false }
        try await Task.sleep(for: .seconds(5))
        a.kill9()
        try await waitUntil(seconds: 15) { try await store.alerts(messageID: MessageID(urgent)).count == 1 }
        // Give B (and a restarted A) time to raise it again if the claim were not exclusive.
        let a2 = try start("a2", database: database, routes: routes, folder: folder)
        defer { a2.terminate() }
        try await Task.sleep(for: .seconds(3))
        let alerts = try await store.alerts(messageID: MessageID(urgent))
        #expect(alerts.count == 1 && alerts.first?.state == .open)
        let duty = try await clientB.inbox("CAROL")
        #expect(duty.count == 1, "CAROL should hold exactly one alert message, has \(duty.count)")
    }

    /// A safeguarding concern refused by crossing policy tells the sender's duty contact (here the
    /// sending mailbox itself: its organisation names no duty mailbox or lead). The same request
    /// replayed on the other instance is refused as a replay before that instance writes a notice of
    /// its own, while a new request there is told as usual.
    @Test func aReplayedRefusedSafeguardingSendTellsTheDutyContactOnce() async throws {
        let (a, b, _, _, _) = try await startTwo("multi-sg")
        defer {
            a.terminate()
            b.terminate()
        }
        let client = client(of: a)
        // An NHS number whose check digit is wrong: refused, naming the field.
        let declaration = base64URLEncode(Array(#"{"subject":{"nhs_number":"4010232138"}}"#.utf8))
        func refusedConcern(port: Int, token: String) async throws -> Int {
            try await rawSend(port: port, authorization: token, workflow: "SG", headers: [("mex-handover-crossing", declaration)])
        }
        let token = aliceToken()
        #expect(try await refusedConcern(port: a.port, token: token) == 400)
        #expect(try await client.inbox("ALICE").count == 1)
        #expect(try await refusedConcern(port: b.port, token: token) == 403)
        #expect(try await client.inbox("ALICE").count == 1, "a replayed request wrote a second notice")
        #expect(try await refusedConcern(port: b.port, token: aliceToken()) == 400)
        #expect(try await client.inbox("ALICE").count == 2)
    }

    @Test func unreachableDatabaseAtStartIsAClearErrorAndNonZeroExit() async throws {
        let (folder, routes) = try TestBroker.folderWithRoutes("pg-down")
        #expect(throws: BrokerProcessError.self) {
            _ = try start("refused", database: "postgres://handover:hunter2@127.0.0.1:1/handover", routes: routes, folder: folder)
        }
        let log = try String(contentsOf: folder.appendingPathComponent("refused.log"), encoding: .utf8)
        #expect(log.contains("cannot start: cannot use postgres://handover:***@127.0.0.1:1/handover") && log.contains("Connection refused"))
        #expect(!log.contains("hunter2"), "the password reached the log")
    }

    /// The database goes away under a running broker (every connection cut, new ones refused):
    /// requests get 503, the broker stays up, and once the database is back the pool reconnects and
    /// every message that got its 202 is still there.
    @Test func lostDatabaseGives503AndThePoolRecovers() async throws {
        let database = try await PostgresTestServer.newDatabase()
        let name = try #require(URLComponents(string: database)?.path.dropFirst())
        let (folder, routes) = try TestBroker.folderWithRoutes("pg-lost")
        let broker = try BrokerProcess(
            arguments: [
                "--tls", "off", "--routes", routes.path, "--database", database, "--data-dir", folder.appendingPathComponent("data").path,
                "--shared-key", "TestKey",
                "--database-timeout", "2", "--monitoring-port", String(try SpawnedBroker.freePort()),
            ],
            environment: TestBroker.passwords, logURL: folder.appendingPathComponent("broker.log"))
        defer { broker.terminate() }
        let monitoringPort = try #require(broker.process.arguments?.last.flatMap(Int.init))
        func monitor(_ path: String) async throws -> (status: Int, body: String) {
            let response = try await HTTPClient.shared.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(monitoringPort)\(path)"), timeout: .seconds(10))
            return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
        }
        #expect(try await monitor("/ready").status == 200)
        let client = client(of: broker)
        var accepted: [String: [UInt8]] = [:]
        for i in 0..<5 {
            let body = Array("before the outage \(i)".utf8)
            accepted[try #require(try await client.send(from: "ALICE", to: "BOB", body: body))] = body
        }

        try await PostgresTestServer.execute("ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
        let outage: Result<Void, any Error>
        do {
            try await PostgresTestServer.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)'")
            let started = Date()
            let send = try await client.request(
                .POST, "/messageexchange/ALICE/outbox", as: "ALICE", headers: [("mex-to", "BOB"), ("mex-workflowid", "WF")], body: [1])
            // One timeout, not two: the failed delivery's token spend (which would wait out a second
            // one against the same unreachable database) is left to finish behind the answer.
            let sendSeconds = Date().timeIntervalSince(started)
            #expect(sendSeconds < 3.5, "the send's 503 took \(sendSeconds) s at --database-timeout 2")
            let list = try await client.request(.GET, "/messageexchange/BOB/inbox", as: "BOB")
            #expect(send.status == 503 && list.status == 503, "during the outage: send \(send.status), list \(list.status)")
            // Each waited at most --database-timeout (2 s) per database call, not indefinitely.
            #expect(Date().timeIntervalSince(started) < 15)
            #expect(broker.process.isRunning)
            // Readiness says so, liveness does not, and /metrics still answers, with the store down.
            #expect(try await monitor("/ready").status == 503)
            #expect(try await monitor("/health").status == 200)
            let metrics = try await monitor("/metrics")
            #expect(
                metrics.status == 200 && metrics.body.contains("handover_store_up 0") && metrics.body.contains("handover_database_pool_connections"))
            #expect(metrics.body.contains("handover_http_requests_total") && metrics.body.contains("status=\"503\""))
            try await Task.sleep(for: .seconds(6))  // the watcher's next probe logs the loss
            outage = .success(())
        } catch {
            outage = .failure(error)
        }
        // Give the database back whatever happened above, so other tests and the broker's shutdown are unaffected.
        try await PostgresTestServer.execute("ALTER DATABASE \(name) ALLOW_CONNECTIONS true")
        try outage.get()
        // Each pool reconnects on its own: a listing answers (its token is spent on the replay cache's
        // connections, a send's in its delivery's statement), then a send.
        var recovered: String?
        let deadline = Date().addingTimeInterval(20)
        while recovered == nil, Date() < deadline {
            if (try? await client.request(.GET, "/messageexchange/BOB/inbox", as: "BOB"))?.status == 200 {
                recovered = try? await client.send(from: "ALICE", to: "BOB", body: Array("after the outage".utf8))
            }
            if recovered == nil { try await Task.sleep(for: .milliseconds(250)) }
        }
        let after = try #require(recovered, "the broker did not recover within 20 s of the database returning")
        accepted[after] = Array("after the outage".utf8)
        #expect(Set(try await client.inbox("BOB")) == Set(accepted.keys))
        for (id, body) in accepted {
            let r = try await client.request(.GET, "/messageexchange/BOB/inbox/\(id)", as: "BOB", headers: [("accept-encoding", "identity")])
            #expect(r.status == 200 && r.body == body)
        }
        // The outage was logged, but never with a statement's values: no payload, no password.
        var log = try String(contentsOf: folder.appendingPathComponent("broker.log"), encoding: .utf8)
        for _ in 0..<40 where !log.contains("database restored") {
            try await Task.sleep(for: .milliseconds(250))
            log = try String(contentsOf: folder.appendingPathComponent("broker.log"), encoding: .utf8)
        }
        #expect(log.contains("store unavailable") && log.contains("database lost") && log.contains("database restored"))
        #expect(try await monitor("/ready").status == 200)
        #expect(!log.contains("before the outage") && !log.contains("after the outage") && !log.contains("bob-secret"))
    }

    /// SIGTERM stops a broker even while its database is unreachable: in-flight requests end with
    /// their 503 after `--database-timeout`, and nothing waits for a connection that will not come.
    @Test func brokerStopsOnSIGTERMWhileTheDatabaseIsDown() async throws {
        let database = try await PostgresTestServer.newDatabase()
        let name = try #require(URLComponents(string: database)?.path.dropFirst())
        let (folder, routes) = try TestBroker.folderWithRoutes("pg-term")
        let broker = try BrokerProcess(
            arguments: [
                "--tls", "off", "--routes", routes.path, "--database", database, "--data-dir", folder.appendingPathComponent("data").path,
                "--shared-key", "TestKey",
                "--database-timeout", "5",
            ],
            environment: TestBroker.passwords, logURL: folder.appendingPathComponent("broker.log"))
        try await PostgresTestServer.execute("ALTER DATABASE \(name) ALLOW_CONNECTIONS false")
        try await PostgresTestServer.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)'")
        // A request now waits for the database (up to 5 s); shut down underneath it.
        let client = client(of: broker)
        let pending = Task { try? await client.request(.GET, "/messageexchange/BOB/inbox", as: "BOB") }
        try await Task.sleep(for: .seconds(2))
        let stopping = Date()
        kill(broker.process.processIdentifier, SIGTERM)
        var exited = false
        while Date().timeIntervalSince(stopping) < 20 {
            if !broker.process.isRunning {
                exited = true
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await PostgresTestServer.execute("ALTER DATABASE \(name) ALLOW_CONNECTIONS true")
        if !exited { broker.kill9() }
        _ = await pending.value
        #expect(exited, "the broker was still running 20 s after SIGTERM")
    }

    func rawStatus(port: Int, path: String, authorization: String) async throws -> Int {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.headers.add(name: "authorization", value: authorization)
        request.headers.add(name: "accept", value: "application/vnd.mesh.v2+json")
        return Int(try await HTTPClient.shared.execute(request, timeout: .seconds(10)).status.code)
    }

    /// A send from ALICE to `recipient` with the given token (one byte unless `body` is given).
    func rawSend(
        port: Int, authorization: String, to recipient: String = "BOB", workflow: String = "WF", headers: [(String, String)] = [],
        body: ByteBuffer = ByteBuffer(string: "x")
    ) async throws -> Int {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/messageexchange/ALICE/outbox")
        request.method = .POST
        request.headers.add(name: "authorization", value: authorization)
        request.headers.add(name: "accept", value: "application/vnd.mesh.v2+json")
        request.headers.add(name: "mex-workflowid", value: workflow)
        request.headers.add(contentsOf: headers)
        request.headers.add(name: "content-type", value: "application/octet-stream")
        request.headers.add(name: "mex-to", value: recipient)
        request.body = .bytes(body)
        return Int(try await HTTPClient.shared.execute(request, timeout: .seconds(10)).status.code)
    }

    func waitUntil(seconds: Double, _ condition: () async throws -> Bool) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("condition not met within \(seconds) s")
    }
}
