import Foundation
import HandoverCore
import HandoverServer
import HandoverTestSupport
import Testing

/// `handover client` against the real broker over HTTP: a chunked send, listing, a download that
/// resumes, gzip, acceptance, outcome, tracking, the receipt, acknowledgement, and clear refusals.
@Suite("handover client", .serialized)
struct ClientCLITests {
    struct Run {
        let status: Int32
        let out: String
        let err: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(out.utf8))) as? [String: Any] ?? [:] }
    }

    /// Runs `handover client …` with standard output and standard error kept apart (progress goes to the latter).
    func client(
        _ arguments: [String], config: URL,
        environment: [String: String] = TestBroker.passwords.merging(["TEST_SHARED_KEY": TestBroker.sharedKey]) { $1 }
    )
        throws -> Run
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try BrokerProcess.binaryPath())
        process.arguments = ["client"] + arguments + ["--config", config.path]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let errFile = config.deletingLastPathComponent().appendingPathComponent("stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: errFile.path, contents: nil)
        process.standardOutput = out
        process.standardError = try FileHandle(forWritingTo: errFile)
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, out: String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines),
            err: (try? String(contentsOf: errFile, encoding: .utf8)) ?? "")
    }

    func profiles(port: Int, in folder: URL, extra: String = "", name: String = "client.yaml") throws -> URL {
        let file = folder.appendingPathComponent(name)
        var yaml = "profiles:\n"
        for (name, mailbox) in [("alice", "ALICE"), ("bob", "BOB")] {
            yaml += """
                  \(name):
                    url: http://127.0.0.1:\(port)
                    mailbox: \(mailbox)
                    password_env: \(mailbox)_PW
                    shared_key_env: TEST_SHARED_KEY
                    chunk_size: 1024

                """
        }
        try (yaml + extra).write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test func aMailboxOnTheCommandLineFromSendToReceipt() throws {
        let (folder, routes) = try TestBroker.folderWithRoutes("client")
        // A PKI for the receipt-signing key only: the broker listens on plain HTTP.
        let pki = DevelopmentPKI(folder: folder.appendingPathComponent("pki").path)
        _ = try pki.initialise(mailboxes: [])
        let broker = try BrokerProcess(
            arguments: [
                "--tls", "off", "--routes", routes.path, "--database", "sqlite:" + folder.appendingPathComponent("h.sqlite").path,
                "--shared-key", TestBroker.sharedKey, "--data-dir", folder.appendingPathComponent("data").path,
                "--receipt-cert", pki.folder.appendingPathComponent("receipts.pem").path,
                "--receipt-key", pki.folder.appendingPathComponent("receipts.key").path,
            ],
            environment: TestBroker.passwords, logURL: folder.appendingPathComponent("broker.log"))
        defer { broker.terminate() }
        let config = try profiles(port: broker.port, in: folder)
        let original = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let file = folder.appendingPathComponent("referral.bin")
        try Data(original).write(to: file)

        // A five-chunk send, progress a line per chunk (standard error is not a terminal here).
        let sent = try client(
            ["send", file.path, "--to", "BOB", "--workflow", "WF", "--local-id", "ref-7", "--profile", "alice", "--json"], config: config)
        #expect(sent.status == 0, "\(sent.err)")
        let id = try #require(sent.json["message_id"] as? String)
        #expect(sent.err.contains("chunk 5 of 5"))
        #expect(try client(["inbox", "--profile", "bob", "--json"], config: config).json["messages"] as? [String] == [id])

        // The download is whole, and says who sent it.
        let saved = folder.appendingPathComponent("in.dat")
        let download = try client(["download", id, "--output", saved.path, "--profile", "bob", "--json"], config: config)
        #expect(download.status == 0, "\(download.err)")
        #expect(try Data(contentsOf: saved) == Data(original))
        #expect((download.json["headers"] as? [String: Any])?["mex-from"] as? String == "ALICE")
        #expect(!FileManager.default.fileExists(atPath: saved.path + ".partial"))

        // A download interrupted after its first chunk resumes there: the chunk kept from before is
        // used as it is (marked here so the test can tell), and only the rest is fetched.
        let resumed = folder.appendingPathComponent("resumed.dat")
        let partial = resumed.path + ".partial"
        try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
        try Data(repeating: 0x58, count: 1024).write(to: URL(fileURLWithPath: partial + "/1"))
        try JSONSerialization.data(withJSONObject: ["mex-chunk-range": "1:5", "mex-from": "ALICE"]).write(
            to: URL(fileURLWithPath: partial + "/headers.json"))
        let resuming = try client(["download", id, "--output", resumed.path, "--profile", "bob"], config: config)
        #expect(resuming.status == 0 && resuming.err.contains("chunk 1 of 5 (kept from before)"), "\(resuming.err)")
        #expect(try Data(contentsOf: resumed) == Data(repeating: 0x58, count: 1024) + Data(original[1024...]))

        // Gzip: the compressed bytes are chunked, joined and gunzipped on the way back.
        let text = folder.appendingPathComponent("notes.txt")
        let words = (0..<4000).map { "line \($0) of the discharge summary\n" }.joined()
        try words.write(to: text, atomically: true, encoding: .utf8)
        let zipped = try client(["send", text.path, "--to", "BOB", "--workflow", "WF", "--gzip", "--profile", "alice", "--json"], config: config)
        let zippedID = try #require(zipped.json["message_id"] as? String, "\(zipped.err)")
        #expect(zipped.err.contains("of 2") || zipped.err.contains("chunk 2"), "the gzip send was not chunked: \(zipped.err)")
        let unzipped = folder.appendingPathComponent("notes.out")
        #expect(try client(["download", zippedID, "--output", unzipped.path, "--profile", "bob", "--ack"], config: config).status == 0)
        #expect(try String(contentsOf: unzipped, encoding: .utf8) == words)

        // Responsibility and outcome as a named person; the sender tracks both and fetches the receipt.
        let accepted = try client(["accept", id, "--by", "Sam Patel", "--role", "Social worker", "--profile", "bob", "--json"], config: config)
        #expect(accepted.status == 0 && accepted.json["state"] as? String == "accepted", "\(accepted.out) \(accepted.err)")
        let outcome = try client(["outcome", id, "--code", "assessed", "--by", "Sam Patel", "--profile", "bob"], config: config)
        #expect(outcome.status == 0 && outcome.out == "recorded assessed on \(id)")
        let tracked = try client(["track", id, "--profile", "alice"], config: config)
        #expect(tracked.out.contains("responsibility: accepted") && tracked.out.contains("outcome: assessed"), "\(tracked.out)")
        let receiptFile = folder.appendingPathComponent("receipt.json")
        let receipt = try client(["receipt", id, "--profile", "alice", "--output", receiptFile.path], config: config)
        #expect(receipt.status == 0 && receipt.out.contains("(signed)"))
        #expect(try String(contentsOf: receiptFile, encoding: .utf8).contains("BEGIN"))

        // Acknowledged messages leave the inbox; the rich inbox still lists them.
        #expect(try client(["ack", id, "--profile", "bob"], config: config).status == 0)
        #expect(try client(["inbox", "--profile", "bob", "--json"], config: config).json["messages"] as? [String] == [])
        let rich = try client(["inbox", "--rich", "--profile", "bob"], config: config)
        #expect(rich.out.contains(id) && rich.out.contains("acknowledged") && rich.out.contains("from ALICE"))
    }

    @Test func refusalsAndMistakesAreSaidPlainly() throws {
        let (folder, routes) = try TestBroker.folderWithRoutes("client-refusals")
        let broker = try BrokerProcess(
            arguments: [
                "--tls", "off", "--routes", routes.path, "--database", "sqlite:" + folder.appendingPathComponent("h.sqlite").path,
                "--shared-key", TestBroker.sharedKey, "--data-dir", folder.appendingPathComponent("data").path,
            ],
            environment: TestBroker.passwords, logURL: folder.appendingPathComponent("broker.log"))
        defer { broker.terminate() }
        let config = try profiles(port: broker.port, in: folder)
        let file = folder.appendingPathComponent("x.txt")
        try "hello".write(to: file, atomically: true, encoding: .utf8)

        let unroutable = try client(["send", file.path, "--to", "NOBODY", "--workflow", "WF", "--profile", "alice"], config: config)
        #expect(unroutable.status == 1 && unroutable.err.contains("refused: 417 12"), "\(unroutable.err)")
        let several = try client(["inbox"], config: config)
        #expect(several.status == 2 && several.err.contains("choose one with --profile"))
        let unknown = try client(["inbox", "--profile", "carol"], config: config)
        #expect(unknown.status == 2 && unknown.err.contains("no profile carol"))
        let noPassword = try client(["inbox", "--profile", "alice"], config: config, environment: ["TEST_SHARED_KEY": "TestKey", "ALICE_PW": ""])
        #expect(noPassword.status == 2 && noPassword.err.contains("ALICE_PW is not set"))
        let wrongPassword = try client(
            ["inbox", "--profile", "alice"], config: config, environment: ["TEST_SHARED_KEY": "TestKey", "ALICE_PW": "wrong"])
        #expect(wrongPassword.status == 1 && wrongPassword.err.contains("refused: 403"))
        let typo = try profiles(
            port: broker.port, in: folder, extra: "  typo:\n    url: http://x\n    mailbox: X\n    pasword_env: X\n", name: "typo.yaml")
        let mistyped = try client(["inbox", "--profile", "alice"], config: typo)
        #expect(mistyped.status == 2 && mistyped.err.contains("unknown key pasword_env"))
        // Outcome before acceptance: Handover's code, in words.
        let plain = try client(["send", file.path, "--to", "BOB", "--workflow", "WF", "--profile", "alice", "--json"], config: config)
        let id = try #require(plain.json["message_id"] as? String, "\(plain.out) \(plain.err)")
        let early = try client(["outcome", id, "--code", "assessed", "--by", "Sam", "--profile", "bob", "--json"], config: config)
        #expect(early.status == 1 && (early.json["error"] as? String)?.contains("HANDOVER-NOT-ACCEPTED") == true, "\(early.out)")
    }

    @Test func mutualTLSWithTheProfilesCertificate() throws {
        let (folder, routes) = try TestBroker.folderWithRoutes("client-mtls")
        let pki = DevelopmentPKI(folder: folder.appendingPathComponent("pki").path)
        _ = try pki.initialise(mailboxes: ["ALICE", "BOB"].map(MailboxID.init))
        let p = pki.folder.path
        let broker = try BrokerProcess(
            arguments: [
                "--tls", "mutual", "--cert", p + "/server.pem", "--key", p + "/server.key", "--client-ca", p + "/ca.pem",
                "--routes", routes.path, "--database", "sqlite:" + folder.appendingPathComponent("h.sqlite").path,
                "--shared-key", TestBroker.sharedKey, "--data-dir", folder.appendingPathComponent("data").path,
            ],
            environment: TestBroker.passwords, logURL: folder.appendingPathComponent("broker.log"))
        defer { broker.terminate() }
        func profile(_ name: String, mailbox: String, certificate: String) -> String {
            """
              \(name):
                url: https://localhost:\(broker.port)
                mailbox: \(mailbox)
                password_env: \(mailbox)_PW
                shared_key_env: TEST_SHARED_KEY
                certificate: \(p)/clients/\(certificate).pem
                key: \(p)/clients/\(certificate).key
                ca: \(p)/ca.pem

            """
        }
        let config = folder.appendingPathComponent("tls.yaml")
        try ("profiles:\n" + profile("bob", mailbox: "BOB", certificate: "BOB") + profile("borrowed", mailbox: "BOB", certificate: "ALICE"))
            .write(to: config, atomically: true, encoding: .utf8)
        let own = try client(["inbox", "--profile", "bob", "--json"], config: config)
        #expect(own.status == 0 && own.json["messages"] as? [String] == [], "\(own.out) \(own.err)")
        // ALICE's certificate does not open BOB's mailbox, whatever the password.
        let borrowed = try client(["inbox", "--profile", "borrowed"], config: config)
        #expect(borrowed.status == 1 && borrowed.err.contains("refused: 403"), "\(borrowed.err)")
    }
}
