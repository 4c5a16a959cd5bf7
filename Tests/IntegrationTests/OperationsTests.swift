import Foundation
import GRDB
import HandoverCore
import HandoverServer
import HandoverStore
import HandoverTestSupport
import Logging
import Testing

/// Starting safely: master keys that must match their store, one first admin token per store, and a
/// stopped SQLite store whose main file is complete.
@Suite("Operations: keys, first start, shutdown", .serialized)
struct OperationsTests {
    func configuration(_ folder: URL, database: String? = nil) throws -> ServeConfiguration {
        var config = ServeConfiguration()
        let routes = folder.appendingPathComponent("routes")
        try FileManager.default.createDirectory(at: routes, withIntermediateDirectories: true)
        try TestBroker.defaultRoutes.write(to: routes.appendingPathComponent("d.yaml"), atomically: true, encoding: .utf8)
        config.routes = routes.path
        config.database = database ?? "sqlite:" + folder.appendingPathComponent("h.sqlite").path
        config.sharedKey = "TestKey"
        config.tls = .off
        config.dataFolder = folder.path
        config.databaseTimeoutSeconds = 60  // suites migrate databases at once on two cores
        return config
    }

    func key() -> String { SecretBox.encodeKey(SecretBox.generateKeyBytes()) }

    /// Why the broker refused to start with this environment, or nil if it started.
    func refusal(_ config: ServeConfiguration, environment: [String: String]) async -> String? {
        do {
            let parts = try await BrokerApplication.assemble(config, logger: Logger(label: "test"), environment: environment)
            await parts.store.close()
            return nil
        } catch {
            return "\(error)"
        }
    }

    var withoutMasterKey: [String: String] { TestBroker.passwords.filter { $0.key != "HANDOVER_MASTER_KEY" } }

    @Test func aWrongOrMissingMasterKeyIsOneClearLine() async throws {
        let folder = TestFolders.path("handover-key")
        let config = try configuration(folder)
        let first = key()
        let parts = try await BrokerApplication.assemble(
            config, logger: Logger(label: "test"), environment: TestBroker.passwords.merging(["HANDOVER_MASTER_KEY": first]) { $1 })
        _ = try await parts.directoryManager.rotatePassword(MailboxID("BOB"), actor: "test")
        await parts.store.close()
        let wrongKey = await refusal(config, environment: TestBroker.passwords.merging(["HANDOVER_MASTER_KEY": key()]) { $1 })
        #expect(
            wrongKey?.contains("sealed with another master key") == true && wrongKey?.contains("HANDOVER_MASTER_KEY") == true,
            "\(wrongKey ?? "started")")
        let noKey = await refusal(config, environment: withoutMasterKey)
        #expect(
            noKey?.contains("holds secrets sealed with a master key") == true,
            "\(noKey ?? "generated a new key for a store that holds sealed secrets")")
        #expect(!FileManager.default.fileExists(atPath: config.dataDirectory + "/master.key"))
        // The right key still opens it, and the rotated password still works.
        let again = try await BrokerApplication.assemble(
            config, logger: Logger(label: "test"), environment: TestBroker.passwords.merging(["HANDOVER_MASTER_KEY": first]) { $1 })
        #expect(again.directory.snapshot.credentials(for: MailboxID("BOB"))?.password != nil)
        await again.store.close()
    }

    @Test(.enabled(if: PostgresTestServer.url != nil, "needs HANDOVER_TEST_POSTGRES_URL (scripts/test starts a server)"))
    func noMasterKeyIsGeneratedOnPostgreSQL() async throws {
        let folder = TestFolders.path("handover-pgkey")
        let config = try configuration(folder, database: try await PostgresTestServer.newDatabase())
        let refused = await refusal(config, environment: withoutMasterKey)
        #expect(refused?.contains("set HANDOVER_MASTER_KEY") == true, "\(refused ?? "a master key was generated on PostgreSQL")")
    }

    @Test(.enabled(if: PostgresTestServer.url != nil, "needs HANDOVER_TEST_POSTGRES_URL (scripts/test starts a server)"))
    func replicasStartingTogetherCreateOneAdminToken() async throws {
        let database = try await PostgresTestServer.newDatabase()
        let folders = (0..<3).map { _ in TestFolders.path("handover-replica") }
        for folder in folders { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
        let stores = try await withThrowingTaskGroup(of: (any BrokerStore).self) { group in
            for _ in folders { group.addTask { try await StoreLocation(database).open(timeout: .seconds(60)) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (store, folder) in zip(stores, folders) { group.addTask { _ = try await FirstAdminToken.ensure(store: store, folder: folder.path) } }
            try await group.waitForAll()
        }
        #expect(try await stores[0].adminTokens().count == 1)
        #expect(folders.filter { FileManager.default.fileExists(atPath: $0.appendingPathComponent("admin-token").path) }.count == 1)
        for store in stores { await store.close() }
    }

    @Test func sigtermLeavesACompleteMainFile() async throws {
        let (folder, routes) = try TestBroker.folderWithRoutes("shutdown")
        let path = folder.appendingPathComponent("h.sqlite").path
        let broker = try BrokerProcess(
            arguments: ["--tls", "off", "--routes", routes.path, "--database", "sqlite:" + path, "--shared-key", "TestKey"],
            environment: TestBroker.passwords, logURL: folder.appendingPathComponent("log"))
        let client = MeshWireClient(
            http: .shared, baseURL: "http://127.0.0.1:\(broker.port)", passwords: TestBroker.mailboxPasswords, sharedKey: "TestKey")
        var sent: [String] = []
        for i in 0..<20 { sent.append(try #require(try await client.send(from: "ALICE", to: "BOB", body: Array("message \(i)".utf8)))) }
        broker.terminate()
        #expect(broker.process.terminationReason == .exit && broker.process.terminationStatus == 0)
        // Only the main file, as a naive file copy of a stopped store would take it.
        let copy = folder.appendingPathComponent("copy.sqlite").path
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let queue = try DatabaseQueue(path: copy)
        let ids = try await queue.read { db in try String.fetchAll(db, sql: "SELECT message_id FROM messages") }
        #expect(Set(ids) == Set(sent))
        let log = try String(contentsOf: folder.appendingPathComponent("log"), encoding: .utf8)
        #expect(log.contains("closing the store"))
    }
}
