import AsyncHTTPClient
import Foundation
import HandoverBench
import HandoverCore
import HandoverServer
import HandoverTestSupport
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing

let haproxyPath = ["/usr/sbin/haproxy", "/usr/bin/haproxy"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// The docker-compose topology run from Debian's packages: two brokers with mutual TLS on one
/// PostgreSQL database, behind HAProxy with the repository's own deploy/haproxy.cfg (addresses
/// rewritten to loopback). TLS passes through, so client certificates are checked by the brokers;
/// with one broker killed, traffic carries on through the other.
@Suite(
    "TLS-passthrough load balancer", .serialized,
    .enabled(if: PostgresTestServer.url != nil, "HANDOVER_TEST_POSTGRES_URL is not set; scripts/test starts a PostgreSQL cluster and sets it"),
    .enabled(if: haproxyPath != nil, "haproxy is not installed; scripts/test installs it from Debian's packages"))
struct LoadBalancerTests {
    @Test func mutualTLSPassesThroughAndSurvivesALostReplica() async throws {
        let database = try await PostgresTestServer.newDatabase()
        let (folder, routes) = try TestBroker.folderWithRoutes("lb")
        let pki = DevelopmentPKI(folder: folder.appendingPathComponent("pki").path)
        try pki.initialise(mailboxes: ["ALICE", "BOB", "CAROL"].map(MailboxID.init))
        let p = pki.folder.path
        func broker(_ name: String) throws -> BrokerProcess {
            try BrokerProcess(
                arguments: [
                    "--tls", "mutual", "--cert", p + "/server.pem", "--key", p + "/server.key", "--client-ca", p + "/ca.pem",
                    "--routes", routes.path, "--database", database, "--data-dir", folder.appendingPathComponent("data").path, "--shared-key",
                    "TestKey",
                ],
                environment: TestBroker.passwords, logURL: folder.appendingPathComponent("\(name).log"))
        }
        let a = try broker("a"), b = try broker("b")
        defer {
            a.terminate()
            b.terminate()
        }

        let port = try SpawnedBroker.freePort()
        let repositoryConfig = try String(contentsOfFile: Self.repositoryFile("deploy/haproxy.cfg"), encoding: .utf8)
        let config =
            repositoryConfig
            .replacingOccurrences(of: "bind :8443", with: "bind 127.0.0.1:\(port)")
            .replacingOccurrences(of: "handover-1:8443", with: "127.0.0.1:\(a.port)")
            .replacingOccurrences(of: "handover-2:8443", with: "127.0.0.1:\(b.port)")
        #expect(config != repositoryConfig)
        let configURL = folder.appendingPathComponent("haproxy.cfg")
        try config.write(to: configURL, atomically: true, encoding: .utf8)
        let balancer = Process()
        balancer.executableURL = URL(fileURLWithPath: haproxyPath!)
        balancer.arguments = ["-db", "-f", configURL.path]
        balancer.standardOutput = FileHandle.nullDevice
        balancer.standardError = FileHandle.nullDevice
        try balancer.run()
        defer {
            balancer.terminate()
            balancer.waitUntilExit()
        }

        let base = "https://localhost:\(port)"
        func call(
            _ method: HTTPMethod, _ path: String, as mailbox: String, certificate: String, headers: [(String, String)] = [], body: [UInt8]? = nil
        ) async throws -> (Int, [UInt8]) {
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(p + "/ca.pem")
            let cert = pki.clientsFolder.appendingPathComponent(certificate).path
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(cert + ".pem").map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: cert + ".key", format: .pem))
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(tlsConfiguration: tls))
            defer { _ = client.shutdown() }
            var request = HTTPClientRequest(url: base + path)
            request.method = method
            request.headers.add(name: "accept", value: "application/vnd.mesh.v2+json")
            request.headers.add(
                name: "authorization",
                value: MeshTokenFactory.header(
                    mailbox: mailbox, password: TestBroker.mailboxPasswords[mailbox]!, sharedKey: "TestKey", now: SystemClock.now()))
            for (k, v) in headers { request.headers.add(name: k, value: v) }
            if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
            let response = try await client.execute(request, timeout: .seconds(10))
            return (Int(response.status.code), Array(try await response.body.collect(upTo: 1 << 20).readableBytesView))
        }
        try await waitForListener(port: port)

        // Several connections through the balancer, each a fresh TLS session with ALICE's certificate.
        var sent: [String] = []
        for i in 0..<6 {
            let (status, body) = try await call(
                .POST, "/messageexchange/ALICE/outbox", as: "ALICE", certificate: "ALICE",
                headers: [("mex-to", "BOB"), ("mex-workflowid", "WF")], body: Array("via the balancer \(i)".utf8))
            #expect(status == 202)
            if let id = (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])?["message_id"] as? String { sent.append(id) }
        }
        #expect(sent.count == 6)
        // The client certificate reaches the broker untouched: CAROL's certificate cannot read BOB's inbox.
        #expect(try await call(.GET, "/messageexchange/BOB/inbox", as: "BOB", certificate: "CAROL").0 == 403)
        let (listed, listing) = try await call(.GET, "/messageexchange/BOB/inbox", as: "BOB", certificate: "BOB")
        let ids = (try JSONSerialization.jsonObject(with: Data(listing)) as? [String: Any])?["messages"] as? [String] ?? []
        #expect(listed == 200 && Set(ids) == Set(sent))

        // One replica dies: the balancer carries on with the other.
        a.kill9()
        for _ in 0..<4 {
            #expect(try await call(.GET, "/messageexchange/BOB/inbox", as: "BOB", certificate: "BOB").0 == 200)
        }
    }

    static func repositoryFile(_ relative: String) -> String {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while dir.path != "/" && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
            dir = dir.deletingLastPathComponent()
        }
        return dir.appendingPathComponent(relative).path
    }

    func waitForListener(port: Int) async throws {
        for _ in 0..<100 {
            if SpawnedBroker.accepting(port: port) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw BrokerProcessError("haproxy did not start listening on \(port)")
    }
}
