import Crypto
import Foundation
import HandoverCore
import HandoverHTTP
import HandoverReceipts
import HandoverTestSupport
import Testing

@Suite("Signed crossing receipts")
struct ReceiptTests {
    /// Runs `openssl cms -verify` on a receipt, as the docs tell a user to.
    func opensslVerifies(receipt: String, signature: String, ca: String, in folder: URL) throws -> Bool {
        let r = folder.appendingPathComponent("receipt.json"), s = folder.appendingPathComponent("receipt.p7s")
        try receipt.write(to: r, atomically: true, encoding: .utf8)
        try signature.write(to: s, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "cms", "-verify", "-binary", "-inform", "PEM", "-in", s.path, "-content", r.path, "-CAfile", ca, "-out", "/dev/null",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus == 0
    }

    /// A delivered payload is hashed once: a second receipt call does not read it again (here, it could
    /// not: the payload has been purged in between, and the receipt still names its digest).
    @Test func aReceiptDoesNotReadThePayloadAgain() async throws {
        let broker = try await TestBroker()
        try await MeshHarness.run(broker) { h in
            let id = try await h.send(body: Array("hashed once".utf8))
            let first = try await h.call(.get, "/messageexchange/ALICE/outbox/\(id)/receipt", as: "ALICE")
            #expect(first.status == .ok)
            #expect(
                try await broker.parts.store.purgePayloads(deliveredBefore: broker.clock.now.adding(seconds: 1), limit: 10, now: broker.clock.now)
                    == 1)
            let second = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)/receipt", as: "BOB")
            #expect(second.status == .ok && second.json["receipt"] as? String == first.json["receipt"] as? String)
        }
    }

    @Test func receiptsVerifyWithOpenSSLAndNameWhatCrossed() async throws {
        let broker = try await TestBroker()
        try await MeshHarness.run(broker) { h in
            let body = Array("referral for Mrs Smith".utf8)
            let id = try await h.send(body: body, headers: ["mex-localid": "ref-42"])
            let bySender = try await h.call(.get, "/messageexchange/ALICE/outbox/\(id)/receipt", as: "ALICE")
            let byRecipient = try await h.call(.get, "/messageexchange/BOB/inbox/\(id)/receipt", as: "BOB")
            #expect(bySender.status == .ok && byRecipient.status == .ok)
            let receipt = try #require(bySender.json["receipt"] as? String)
            #expect(byRecipient.json["receipt"] as? String == receipt)
            let fields = try #require(try JSONSerialization.jsonObject(with: Data(receipt.utf8)) as? [String: Any])
            let digest = SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
            #expect(fields["payload_sha256"] as? String == digest && fields["message_id"] as? String == id)
            #expect(fields["sender"] as? String == "ALICE" && fields["recipient"] as? String == "BOB" && fields["local_id"] as? String == "ref-42")
            #expect((fields["route"] as? [String: Any])?["addressed_by"] as? String == "mailbox")
            #expect(!receipt.contains("Mrs Smith"))

            let ca = broker.folder.appendingPathComponent("pki/ca.pem").path
            let signature = try #require(bySender.json["signature"] as? String)
            #expect(signature.hasPrefix("-----BEGIN CMS-----"))
            #expect(try opensslVerifies(receipt: receipt, signature: signature, ca: ca, in: broker.folder))
            let tampered = receipt.replacingOccurrences(of: "\"BOB\"", with: "\"CAROL\"")
            #expect(try !opensslVerifies(receipt: tampered, signature: signature, ca: ca, in: broker.folder))

            #expect(try await h.call(.get, "/messageexchange/CAROL/inbox/\(id)/receipt", as: "CAROL").status == .notFound)
            #expect(try await h.call(.get, "/messageexchange/BOB/outbox/\(id)/receipt", as: "BOB").status == .notFound)
            let uploading = try #require(
                try await h.call(
                    .post, "/messageexchange/ALICE/outbox", as: "ALICE",
                    headers: ["mex-to": "BOB", "mex-workflowid": "WF", "mex-chunk-range": "1:2"], body: [1]
                ).json["message_id"] as? String)
            #expect(try await h.call(.get, "/messageexchange/ALICE/outbox/\(uploading)/receipt", as: "ALICE").status == .conflict)
            // Downloads of chunk 1 still work beside the receipt route.
            #expect(try await h.call(.get, "/messageexchange/BOB/inbox/\(id)/1", as: "BOB").text == "referral for Mrs Smith")
        }
    }

    /// The console's receipt check: made, then verified by OpenSSL from the PEM; a changed receipt, a
    /// signature by another key, junk, or a payload that no longer has its recorded digest is not verified.
    @Test func theReceiptCheckVerifiesAndCatchesWhatDoesNotMatch() async throws {
        let broker = try await TestBroker()
        try await MeshHarness.run(broker) { h in
            let id = try await h.send(body: Array("checked by the broker".utf8))
            let message = try #require(try await broker.parts.store.message(MessageID(id)))
            let check = try #require(try await broker.parts.broker.checkedReceipt(for: message))
            #expect(check.signatureVerified && check.payloadMatches == true && check.verified)
            #expect(check.certificateNotAfter.contains("GMT"))
            let ca = broker.folder.appendingPathComponent("pki/ca.pem").path
            #expect(try opensslVerifies(receipt: check.receipt, signature: check.signature, ca: ca, in: broker.folder))

            let signer = try #require(broker.parts.broker.receiptSigner)
            #expect(!signer.verify(Array((check.receipt + " ").utf8), signaturePEM: check.signature))
            #expect(!signer.verify(Array(check.receipt.utf8), signaturePEM: "-----BEGIN CMS-----\nbm90IGEgc2lnbmF0dXJl\n-----END CMS-----\n"))
            // Signed by another key (a certificate made here with openssl): not the broker's.
            let other = broker.folder.appendingPathComponent("other")
            let make = Process()
            make.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            make.arguments = [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=not the broker",
                "-keyout", other.path + ".key", "-out", other.path + ".pem",
            ]
            make.standardError = FileHandle.nullDevice
            try make.run()
            make.waitUntilExit()
            let impostor = try CMSReceiptSigner(
                certificatePEM: String(contentsOfFile: other.path + ".pem", encoding: .utf8),
                keyPEM: String(contentsOfFile: other.path + ".key", encoding: .utf8))
            #expect(!signer.verify(Array(check.receipt.utf8), signaturePEM: try impostor.sign(Array(check.receipt.utf8))))

            // A record whose recorded digest differs from the payload held: not verified.
            var altered = message
            altered.crossing?.derived?.payloadSHA256 = String(repeating: "0", count: 64)
            let differs = try #require(try await broker.parts.broker.checkedReceipt(for: altered))
            #expect(differs.payloadMatches == false && !differs.verified)
        }
    }
}
