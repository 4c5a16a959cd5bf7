import Foundation
import HandoverCore
import HandoverServer
import HandoverStore
import HandoverTestSupport
import Testing

/// `handover db copy` moves a real installation from SQLite to PostgreSQL: every unacknowledged
/// message downloadable byte for byte from a broker on PostgreSQL, acknowledged ones still gone,
/// new messages after the old ones, and a second copy into the same database refused.
@Suite(
    "handover db copy", .serialized,
    .enabled(if: PostgresTestServer.url != nil, "HANDOVER_TEST_POSTGRES_URL is not set; scripts/test starts a PostgreSQL cluster and sets it"))
struct DatabaseCopyTests {
    @Test func copiesAnInstallationFromSQLiteToPostgreSQL() async throws {
        let (folder, routes) = try TestBroker.folderWithRoutes("copy")
        let sqlite = "sqlite:" + folder.appendingPathComponent("h.sqlite").path
        let common = ["--tls", "off", "--routes", routes.path, "--shared-key", "TestKey"]
        var kept: [String: [UInt8]] = [:]
        var acknowledged: [String] = []
        do {
            let broker = try BrokerProcess(
                arguments: common + ["--database", sqlite], environment: TestBroker.passwords,
                logURL: folder.appendingPathComponent("sqlite.log"))
            defer { broker.terminate() }
            let client = MeshWireClient(
                http: .shared, baseURL: "http://127.0.0.1:\(broker.port)", passwords: TestBroker.mailboxPasswords, sharedKey: "TestKey")
            for i in 0..<30 {
                // Every tenth message spans three 1 MiB segments.
                var body = [UInt8](repeating: UInt8(i), count: i % 10 == 0 ? 2_500_000 : 100 + i)
                body[0] = 0xFF
                let id = try #require(try await client.send(from: "ALICE", to: "BOB", body: body))
                if i % 7 == 3 {
                    #expect(try await client.request(.PUT, "/messageexchange/BOB/inbox/\(id)/status/acknowledged", as: "BOB").status == 200)
                    acknowledged.append(id)
                } else {
                    kept[id] = body
                }
            }
        }

        // A directory change waiting for a second admin moves too.
        let source = try await StoreLocation(sqlite).open()
        let base = try #require(try await source.currentDirectory())
        let waiting = try await source.saveDirectoryProposal(
            DirectoryProposal(
                baseVersion: base.version, document: nil, changes: [], reasons: ["workflow WF changed"], proposedBy: "admin:ann",
                proposedAt: SystemClock.now()), document: base.document, now: SystemClock.now())
        await source.close()

        let target = try await PostgresTestServer.newDatabase()
        let copy = try runHandover(["db", "copy", "--from", sqlite, "--to", target])
        #expect(copy.status == 0, "db copy failed: \(copy.output)")
        #expect(copy.output.contains("audit chain: intact") && copy.output.contains("segments: "))
        let again = try runHandover(["db", "copy", "--from", sqlite, "--to", target])
        #expect(again.status != 0 && again.output.contains("copy into an empty database"))
        let copied = try await StoreLocation(target).open()
        let moved = try #require(try await copied.directoryProposal(waiting))
        #expect(
            moved.state == .pending && moved.proposedBy == "admin:ann" && moved.reasons == ["workflow WF changed"] && moved.document == base.document)
        let next = try await copied.saveDirectoryProposal(moved, document: base.document, now: SystemClock.now())
        #expect(next > waiting, "new proposals continue after the copied ones")
        await copied.close()

        let broker = try BrokerProcess(
            arguments: common + ["--database", target, "--data-dir", folder.appendingPathComponent("pg-data").path],
            environment: TestBroker.passwords,
            logURL: folder.appendingPathComponent("postgres.log"))
        defer { broker.terminate() }
        let client = MeshWireClient(
            http: .shared, baseURL: "http://127.0.0.1:\(broker.port)", passwords: TestBroker.mailboxPasswords, sharedKey: "TestKey")
        let inbox = try await client.inbox("BOB")
        #expect(Set(inbox) == Set(kept.keys))
        for (id, body) in kept {
            let r = try await client.request(.GET, "/messageexchange/BOB/inbox/\(id)", as: "BOB", headers: [("accept-encoding", "identity")])
            #expect(r.status == 200 && r.body == body, "\(id) differs after the copy")
        }
        for id in acknowledged {
            #expect(try await client.request(.GET, "/messageexchange/BOB/inbox/\(id)", as: "BOB").status == 410)
        }
        let fresh = try #require(try await client.send(from: "ALICE", to: "BOB", body: [7]))
        #expect(try await client.inbox("BOB").last == fresh, "a new message must come after the copied ones")
    }

    func runHandover(_ arguments: [String]) throws -> (status: Int32, output: String) { try HandoverCommand.run(arguments) }
}
