import AsyncHTTPClient
import Crypto
import Foundation
import HandoverCore
import HandoverServer
import HandoverTestSupport
import NIOCore
import NIOSSL
import Testing
import X509

/// Real TLS handshakes against `handover serve --tls mutual` with a development PKI.
@Suite("Mutual TLS", .serialized)
struct MutualTLSTests {
    struct Fixture {
        let folder: URL
        let pki: DevelopmentPKI
        let broker: BrokerProcess
        var base: String { "https://localhost:\(broker.port)" }
    }

    func withBroker(
        mode: String = "mutual", extra: [String] = [], yaml: String = TestBroker.defaultRoutes,
        _ body: (Fixture) async throws -> Void
    ) async throws {
        let (folder, routes) = try TestBroker.folderWithRoutes("mtls", yaml: yaml)
        let pki = DevelopmentPKI(folder: folder.appendingPathComponent("pki").path)
        try pki.initialise(mailboxes: ["ALICE", "BOB", "CAROL"].map(MailboxID.init))
        let p = folder.appendingPathComponent("pki").path
        let broker = try BrokerProcess(
            arguments: [
                "--tls", mode, "--cert", p + "/server.pem", "--key", p + "/server.key", "--client-ca", p + "/ca.pem",
                "--routes", routes.path, "--database", "sqlite:" + folder.appendingPathComponent("h.sqlite").path, "--shared-key", "TestKey",
            ] + extra,
            environment: TestBroker.passwords,
            logURL: folder.appendingPathComponent("broker.log"))
        defer { broker.terminate() }
        try await body(Fixture(folder: folder, pki: pki, broker: broker))
    }

    /// GET BOB's inbox presenting `certificate` (files without extension) and a token for `mailbox`.
    func call(_ f: Fixture, certificate: String?, mailbox: String = "BOB", password: String = "bob-secret", token: String? = nil) async throws -> Int
    {
        let authorization = token ?? MeshTokenFactory.header(mailbox: mailbox, password: password, sharedKey: "TestKey", now: SystemClock.now())
        return try await get(f, "/messageexchange/\(mailbox)/inbox", certificate: certificate, authorization: authorization)
    }

    func get(_ f: Fixture, _ path: String, certificate: String?, authorization: String) async throws -> Int {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(f.pki.folder.appendingPathComponent("ca.pem").path)
        if let certificate {
            tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certificate + ".pem").map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: certificate + ".key", format: .pem))
        }
        var config = HTTPClient.Configuration(tlsConfiguration: tls)
        config.timeout = .init(connect: .seconds(5), read: .seconds(10))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        defer { _ = client.shutdown() }
        var request = HTTPClientRequest(url: f.base + path)
        request.headers.add(name: "accept", value: "application/vnd.mesh.v2+json")
        request.headers.add(name: "authorization", value: authorization)
        let response = try await client.execute(request, timeout: .seconds(10))
        return Int(response.status.code)
    }

    @Test func handshakesAndBindings() async throws {
        try await withBroker { f in
            let clients = f.pki.clientsFolder
            #expect(try await call(f, certificate: clients.appendingPathComponent("BOB").path) == 200)
            // Another mailbox's certificate, with a valid token for BOB: refused by the binding.
            #expect(try await call(f, certificate: clients.appendingPathComponent("CAROL").path) == 403)
            // No certificate, a certificate from another CA, an expired certificate: no TLS session at all.
            await #expect(throws: (any Error).self) { _ = try await call(f, certificate: nil) }
            let otherPKI = DevelopmentPKI(folder: f.folder.appendingPathComponent("other-pki").path)
            try otherPKI.initialise(mailboxes: [MailboxID("BOB")])
            await #expect(throws: (any Error).self) { _ = try await call(f, certificate: otherPKI.clientsFolder.appendingPathComponent("BOB").path) }
            try f.pki.issue(commonName: "BOB", dnsNames: ["BOB"], named: "BOB-expired", in: clients, ca: try caOf(f.pki), now: Date(), validDays: -1)
            await #expect(throws: (any Error).self) { _ = try await call(f, certificate: clients.appendingPathComponent("BOB-expired").path) }
            // A certificate naming the organisation (X27) is bound to all its mailboxes.
            try f.pki.issue(commonName: "SERVER001.X27.api.mesh-client.nhs.uk", named: "org-x27", in: clients, ca: try caOf(f.pki), now: Date())
            #expect(try await call(f, certificate: clients.appendingPathComponent("org-x27").path) == 200)
            // Replayed and stale tokens over a good session.
            let token = MeshTokenFactory.header(mailbox: "BOB", password: "bob-secret", sharedKey: "TestKey", now: SystemClock.now())
            #expect(try await call(f, certificate: clients.appendingPathComponent("BOB").path, token: token) == 200)
            #expect(try await call(f, certificate: clients.appendingPathComponent("BOB").path, token: token) == 403)
            let stale = MeshTokenFactory.header(
                mailbox: "BOB", password: "bob-secret", sharedKey: "TestKey", now: SystemClock.now().adding(seconds: -3 * 3600))
            #expect(try await call(f, certificate: clients.appendingPathComponent("BOB").path, token: stale) == 403)
            let log = try String(contentsOf: f.broker.logURL, encoding: .utf8)
            #expect(log.contains("client certificate is not bound to this mailbox") && log.contains("token replayed"))
            #expect(log.contains("TLS handshake failed"), "refused handshakes are logged (at most one line a second)")
            #expect(!log.contains("bob-secret") && !log.contains(String(token.suffix(64))))
        }
    }

    @Test func theAdminAPINeedsTheAdminCertificateAsWellAsAToken() async throws {
        try await withBroker { f in
            let token = try String(contentsOf: f.folder.appendingPathComponent("admin-token"), encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines)
            let clients = f.pki.clientsFolder
            // A mailbox's certificate from the same CA, with a valid admin token: refused.
            #expect(
                try await get(f, "/admin/directory", certificate: clients.appendingPathComponent("BOB").path, authorization: "Bearer " + token) == 403
            )
            #expect(
                try await get(f, "/admin/directory", certificate: clients.appendingPathComponent("admin").path, authorization: "Bearer " + token)
                    == 200)
            #expect(
                try await get(f, "/admin/directory", certificate: clients.appendingPathComponent("admin").path, authorization: "Bearer wrong") == 401)
            // Lookups apply the certificate binding like every other MESH call.
            let carolToken = MeshTokenFactory.header(mailbox: "CAROL", password: "carol-secret", sharedKey: "TestKey", now: SystemClock.now())
            #expect(
                try await get(
                    f, "/messageexchange/endpointlookup/X26/WF", certificate: clients.appendingPathComponent("BOB").path, authorization: carolToken)
                    == 403)
        }
    }

    @Test func serverModeMakesClientCertificatesOptionalButChecked() async throws {
        try await withBroker(mode: "server") { f in
            #expect(try await call(f, certificate: nil) == 200)
            // Not bound to mailboxes in this mode (a proxy in front does mutual TLS itself).
            #expect(try await call(f, certificate: f.pki.clientsFolder.appendingPathComponent("CAROL").path) == 200)
            let otherPKI = DevelopmentPKI(folder: f.folder.appendingPathComponent("other-pki").path)
            try otherPKI.initialise(mailboxes: [MailboxID("BOB")])
            await #expect(throws: (any Error).self) { _ = try await call(f, certificate: otherPKI.clientsFolder.appendingPathComponent("BOB").path) }
        }
    }

    func caOf(_ pki: DevelopmentPKI) throws -> (Certificate, P256.Signing.PrivateKey) { try pki.loadCAForTests() }

    /// The serial number of the certificate the broker presents, as `openssl s_client` sees it.
    func presentedSerial(port: Int) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "openssl s_client -connect 127.0.0.1:\(port) </dev/null 2>/dev/null | openssl x509 -noout -serial"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func explicitBindingAcceptsOnlyTheCertificatesTheDirectoryLists() async throws {
        let yaml = TestBroker.defaultRoutes.replacingOccurrences(
            of: #"{id: BOB, organisation: X27, name: Bob box, password: "${BOB_PW}"}"#,
            with: #"{id: BOB, organisation: X27, name: Bob box, password: "${BOB_PW}", certificates: [bob-integration.example.nhs.uk]}"#)
        #expect(yaml != TestBroker.defaultRoutes, "the fixture's BOB line changed; update this test")
        try await withBroker(extra: ["--certificate-binding", "explicit"], yaml: yaml) { f in
            let clients = f.pki.clientsFolder
            try f.pki.issue(commonName: "bob-integration.example.nhs.uk", named: "bob-listed", in: clients, ca: try caOf(f.pki), now: Date())
            // Named BOB, or naming BOB's organisation, is not enough in explicit mode…
            #expect(try await call(f, certificate: clients.appendingPathComponent("BOB").path) == 403)
            try f.pki.issue(commonName: "SERVER001.X27.api.mesh-client.nhs.uk", named: "org-x27", in: clients, ca: try caOf(f.pki), now: Date())
            #expect(try await call(f, certificate: clients.appendingPathComponent("org-x27").path) == 403)
            // …only the name the directory lists.
            #expect(try await call(f, certificate: clients.appendingPathComponent("bob-listed").path) == 200)
        }
    }

    /// A CRL made by `openssl ca -gencrl` from the PKI's CA, revoking the certificates named.
    func makeCRL(_ pki: DevelopmentPKI, revoking names: [String], in folder: URL) throws -> URL {
        let work = folder.appendingPathComponent("crl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        var index = ""
        for name in names {
            let serial = try shell("openssl x509 -in \(pki.clientsFolder.appendingPathComponent(name + ".pem").path) -noout -serial")
                .replacingOccurrences(of: "serial=", with: "").trimmingCharacters(in: .whitespacesAndNewlines)
            index += "R\t301231000000Z\t261101000000Z\t\(serial)\tunknown\t/CN=\(name)\n"
        }
        try index.write(to: work.appendingPathComponent("index.txt"), atomically: true, encoding: .utf8)
        try "01\n".write(to: work.appendingPathComponent("crlnumber"), atomically: true, encoding: .utf8)
        try """
        [ ca ]
        default_ca = dev
        [ dev ]
        database = \(work.path)/index.txt
        crlnumber = \(work.path)/crlnumber
        default_md = sha256
        default_crl_days = 30
        """.write(to: work.appendingPathComponent("ca.cnf"), atomically: true, encoding: .utf8)
        let crl = work.appendingPathComponent("crl.pem")
        _ = try shell(
            "openssl ca -gencrl -config \(work.path)/ca.cnf -keyfile \(pki.folder.path)/ca.key -cert \(pki.folder.path)/ca.pem -out \(crl.path) 2>&1")
        return crl
    }

    func shell(_ command: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }

    @Test func aRevokedClientCertificateIsRefused() async throws {
        let (folder, routes) = try TestBroker.folderWithRoutes("crl")
        let pki = DevelopmentPKI(folder: folder.appendingPathComponent("pki").path)
        try pki.initialise(mailboxes: ["ALICE", "BOB"].map(MailboxID.init))
        let crl = try makeCRL(pki, revoking: ["BOB"], in: folder)
        #expect(try String(contentsOf: crl, encoding: .utf8).contains("BEGIN X509 CRL"))
        let p = pki.folder.path
        let common = [
            "--tls", "mutual", "--cert", p + "/server.pem", "--key", p + "/server.key", "--client-ca", p + "/ca.pem",
            "--routes", routes.path, "--database", "sqlite:" + folder.appendingPathComponent("h.sqlite").path, "--shared-key", "TestKey",
        ]
        let broker = try BrokerProcess(
            arguments: common + ["--client-crl", crl.path], environment: TestBroker.passwords,
            logURL: folder.appendingPathComponent("broker.log"))
        defer { broker.terminate() }
        let f = Fixture(folder: folder, pki: pki, broker: broker)
        #expect(try await call(f, certificate: pki.clientsFolder.appendingPathComponent("BOB").path) == 403, "a revoked certificate was served")
        #expect(
            try await call(f, certificate: pki.clientsFolder.appendingPathComponent("ALICE").path, mailbox: "ALICE", password: "alice-secret") == 200)
        let log = try String(contentsOf: broker.logURL, encoding: .utf8)
        #expect(log.contains("the client certificate is revoked"))
        // A CRL the client CA did not sign stops the start.
        let other = DevelopmentPKI(folder: folder.appendingPathComponent("other").path)
        try other.initialise(mailboxes: [MailboxID("BOB")])
        let foreign = try makeCRL(other, revoking: ["BOB"], in: folder)
        #expect(throws: BrokerProcessError.self) {
            _ = try BrokerProcess(
                arguments: common + ["--client-crl", foreign.path, "--database", "sqlite:" + folder.appendingPathComponent("h2.sqlite").path],
                environment: TestBroker.passwords, logURL: folder.appendingPathComponent("foreign.log"))
        }
        #expect(try String(contentsOf: folder.appendingPathComponent("foreign.log"), encoding: .utf8).contains("not signed by the client CA"))
    }

    @Test func sighupReloadsTheServerCertificateWithoutARestart() async throws {
        try await withBroker(mode: "server") { f in
            let before = try presentedSerial(port: f.broker.port)
            #expect(before.hasPrefix("serial="))
            // A renewed server certificate in the same files, then SIGHUP.
            try f.pki.issue(
                commonName: "localhost", dnsNames: ["localhost"], ipAddresses: [[127, 0, 0, 1]], serverAuth: true, named: "server",
                in: f.pki.folder, ca: try caOf(f.pki), now: Date())
            kill(f.broker.process.processIdentifier, SIGHUP)
            var after = before
            for _ in 0..<40 where after == before {
                try await Task.sleep(for: .milliseconds(250))
                after = try presentedSerial(port: f.broker.port)
            }
            #expect(after.hasPrefix("serial=") && after != before, "still presenting \(before) after SIGHUP")
            #expect(f.broker.process.isRunning)
            #expect(try await call(f, certificate: nil) == 200)
            let log = try String(contentsOf: f.broker.logURL, encoding: .utf8)
            #expect(log.contains("SIGHUP: server certificate, receipt key and client CRL reloaded"))
        }
    }
}
