import Foundation
import HandoverCore
import HandoverServer
import HandoverTestSupport
import NIOSSL
import Testing

@testable import HandoverHTTP

/// A connection's client certificate is parsed once and kept for the connection's later requests.
@Suite("Peer identity")
struct PeerIdentityTests {
    @Test func aConnectionKeepsTheFirstParseAndANewConnectionParsesAgain() throws {
        let folder = TestFolders.path("handover-peer")
        defer { try? FileManager.default.removeItem(at: folder) }
        let pki = DevelopmentPKI(folder: folder.path)
        _ = try pki.initialise(mailboxes: [MailboxID("ALICE"), MailboxID("BOB")])
        func certificate(_ name: String) throws -> NIOSSLCertificate {
            try #require(try NIOSSLCertificate.fromPEMFile(pki.clientsFolder.appendingPathComponent("\(name).pem").path).first)
        }
        let alice = try certificate("ALICE"), bob = try certificate("BOB")
        let parsedAlice = try #require(PeerIdentity(alice))
        #expect(parsedAlice.names.contains("ALICE") && !parsedAlice.serial.isEmpty)
        #expect(PeerIdentity(bob)?.serial != parsedAlice.serial)

        let connection = PeerIdentityHandler()
        #expect(connection.identity(of: alice) == parsedAlice)
        // The handler lives as long as its connection: what it parsed first is what it answers.
        #expect(connection.identity(of: bob) == parsedAlice)
        #expect(PeerIdentityHandler().identity(of: bob)?.names.contains("BOB") == true)
    }
}
