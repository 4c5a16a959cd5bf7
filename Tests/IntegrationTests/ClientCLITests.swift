import Foundation
import HandoverCore
import HandoverServer
import HandoverTestSupport
import Testing

/// `handover client` against the real broker over HTTP: a chunked send, listing, a download that
/// resumes, gzip, acceptance, outcome, tracking, the receipt, acknowledgement, and clear refusals.
@Suite("handover client", .serialized)
struct ClientCLITests {
    func client(
        _ f: ClientFixture, _ arguments: [String], config: URL? = nil, environment: [String: String] = ClientFixture.environment
    ) throws
        -> ClientFixture.Run
    {
        try f.run(["client"] + arguments, config: config, environment: environment)
    }

    @Test func aMailboxOnTheCommandLineFromSendToReceipt() throws {
        let f = try ClientFixture("client")
        defer { f.stop() }
        let (folder, config) = (f.folder, f.config)
        let original = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let file = folder.appendingPathComponent("referral.bin")
        try Data(original).write(to: file)

        // A five-chunk send, progress a line per chunk (standard error is not a terminal here).
        let sent = try client(
            f, ["send", file.path, "--to", "BOB", "--workflow", "WF", "--local-id", "ref-7", "--profile", "alice", "--json"], config: config)
        #expect(sent.status == 0, "\(sent.err)")
        let id = try #require(sent.json["message_id"] as? String)
        #expect(sent.err.contains("chunk 5 of 5"))
        #expect(try client(f, ["inbox", "--profile", "bob", "--json"], config: config).json["messages"] as? [String] == [id])

        // The download is whole, and says who sent it.
        let saved = folder.appendingPathComponent("in.dat")
        let download = try client(f, ["download", id, "--output", saved.path, "--profile", "bob", "--json"], config: config)
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
        let resuming = try client(f, ["download", id, "--output", resumed.path, "--profile", "bob"], config: config)
        #expect(resuming.status == 0 && resuming.err.contains("chunk 1 of 5 (kept from before)"), "\(resuming.err)")
        #expect(try Data(contentsOf: resumed) == Data(repeating: 0x58, count: 1024) + Data(original[1024...]))

        // Gzip: the compressed bytes are chunked, joined and gunzipped on the way back.
        let text = folder.appendingPathComponent("notes.txt")
        let words = (0..<4000).map { "line \($0) of the discharge summary\n" }.joined()
        try words.write(to: text, atomically: true, encoding: .utf8)
        let zipped = try client(f, ["send", text.path, "--to", "BOB", "--workflow", "WF", "--gzip", "--profile", "alice", "--json"], config: config)
        let zippedID = try #require(zipped.json["message_id"] as? String, "\(zipped.err)")
        #expect(zipped.err.contains("of 2") || zipped.err.contains("chunk 2"), "the gzip send was not chunked: \(zipped.err)")
        let unzipped = folder.appendingPathComponent("notes.out")
        #expect(try client(f, ["download", zippedID, "--output", unzipped.path, "--profile", "bob", "--ack"], config: config).status == 0)
        #expect(try String(contentsOf: unzipped, encoding: .utf8) == words)

        // Responsibility and outcome as a named person; the sender tracks both and fetches the receipt.
        let accepted = try client(f, ["accept", id, "--by", "Sam Patel", "--role", "Social worker", "--profile", "bob", "--json"], config: config)
        #expect(accepted.status == 0 && accepted.json["state"] as? String == "accepted", "\(accepted.out) \(accepted.err)")
        let outcome = try client(f, ["outcome", id, "--code", "assessed", "--by", "Sam Patel", "--profile", "bob"], config: config)
        #expect(outcome.status == 0 && outcome.out == "recorded assessed on \(id)")
        let tracked = try client(f, ["track", id, "--profile", "alice"], config: config)
        #expect(tracked.out.contains("responsibility: accepted") && tracked.out.contains("outcome: assessed"), "\(tracked.out)")
        let receiptFile = folder.appendingPathComponent("receipt.json")
        let receipt = try client(f, ["receipt", id, "--profile", "alice", "--output", receiptFile.path], config: config)
        #expect(receipt.status == 0 && receipt.out.contains("(signed)"))
        #expect(try String(contentsOf: receiptFile, encoding: .utf8).contains("BEGIN"))

        // Acknowledged messages leave the inbox; the rich inbox still lists them.
        #expect(try client(f, ["ack", id, "--profile", "bob"], config: config).status == 0)
        #expect(try client(f, ["inbox", "--profile", "bob", "--json"], config: config).json["messages"] as? [String] == [])
        let rich = try client(f, ["inbox", "--rich", "--profile", "bob"], config: config)
        #expect(rich.out.contains(id) && rich.out.contains("acknowledged") && rich.out.contains("from ALICE"))
    }

    @Test func refusalsAndMistakesAreSaidPlainly() throws {
        let f = try ClientFixture("client-refusals")
        defer { f.stop() }
        let (folder, config, broker) = (f.folder, f.config, f.broker)
        let file = folder.appendingPathComponent("x.txt")
        try "hello".write(to: file, atomically: true, encoding: .utf8)

        let unroutable = try client(f, ["send", file.path, "--to", "NOBODY", "--workflow", "WF", "--profile", "alice"], config: config)
        #expect(unroutable.status == 1 && unroutable.err.contains("refused: 417 12"), "\(unroutable.err)")
        let several = try client(f, ["inbox"], config: config)
        #expect(several.status == 2 && several.err.contains("choose one with --profile"))
        let unknown = try client(f, ["inbox", "--profile", "carol"], config: config)
        #expect(unknown.status == 2 && unknown.err.contains("no profile carol"))
        let noPassword = try client(f, ["inbox", "--profile", "alice"], config: config, environment: ["TEST_SHARED_KEY": "TestKey", "ALICE_PW": ""])
        #expect(noPassword.status == 2 && noPassword.err.contains("ALICE_PW is not set"))
        let wrongPassword = try client(
            f, ["inbox", "--profile", "alice"], config: config, environment: ["TEST_SHARED_KEY": "TestKey", "ALICE_PW": "wrong"])
        #expect(wrongPassword.status == 1 && wrongPassword.err.contains("refused: 403"))
        let typo = try ClientFixture.profiles(
            port: broker.port, in: folder, extra: "  typo:\n    url: http://x\n    mailbox: X\n    pasword_env: X\n", name: "typo.yaml")
        let mistyped = try client(f, ["inbox", "--profile", "alice"], config: typo)
        #expect(mistyped.status == 2 && mistyped.err.contains("unknown key pasword_env"))
        // Outcome before acceptance: Handover's code, in words.
        let plain = try client(f, ["send", file.path, "--to", "BOB", "--workflow", "WF", "--profile", "alice", "--json"], config: config)
        let id = try #require(plain.json["message_id"] as? String, "\(plain.out) \(plain.err)")
        let early = try client(f, ["outcome", id, "--code", "assessed", "--by", "Sam", "--profile", "bob", "--json"], config: config)
        #expect(early.status == 1 && (early.json["error"] as? String)?.contains("HANDOVER-NOT-ACCEPTED") == true, "\(early.out)")
        // A decline with a reason code; a code outside the list is refused by Handover's code.
        #expect(try client(f, ["download", id, "--output", folder.appendingPathComponent("d.dat").path, "--profile", "bob"]).status == 0)
        let wrong = try client(f, ["decline", id, "--by", "Sam", "--note", "not ours", "--reason", "nope", "--profile", "bob"])
        #expect(wrong.status == 1 && wrong.err.contains("HANDOVER-UNKNOWN-DECLINE-REASON"), "\(wrong.err)")
        let declined = try client(f, ["decline", id, "--by", "Sam", "--note", "not ours", "--reason", "wrong-area", "--profile", "bob", "--json"])
        #expect(declined.json["state"] as? String == "declined" && declined.json["reason"] as? String == "wrong-area", "\(declined.out)")
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
        let own = try ClientFixture.run(["client", "inbox", "--profile", "bob", "--json"], folder: folder, config: config)
        #expect(own.status == 0 && own.json["messages"] as? [String] == [], "\(own.out) \(own.err)")
        // ALICE's certificate does not open BOB's mailbox, whatever the password.
        let borrowed = try ClientFixture.run(["client", "inbox", "--profile", "borrowed"], folder: folder, config: config)
        #expect(borrowed.status == 1 && borrowed.err.contains("refused: 403"), "\(borrowed.err)")
    }
}
