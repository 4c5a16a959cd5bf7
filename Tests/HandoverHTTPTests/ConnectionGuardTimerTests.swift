import HTTPTypes
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

@testable import HandoverServer

/// The connection guard's request deadlines on a virtual clock: one timer per connection, set again
/// only when it fires early or would fire after a new, nearer deadline, closes a connection whose
/// request is late and never one whose request came in whole.
@Suite("Connection guard deadlines")
struct ConnectionGuardTimerTests {
    /// A connected channel with the guard: the first request's head is due 30 s in, a request 60 s
    /// after its head plus a second per 64 KiB it declares.
    func connection() throws -> (EmbeddedChannel, EmbeddedEventLoop) {
        let loop = EmbeddedEventLoop()
        let ledger = ConnectionLedger(maxPerAddress: 0, logger: Logger(label: "test"))
        let guardHandler = ConnectionGuardHandler(limits: ConnectionLimits(), ledger: ledger)
        let channel = EmbeddedChannel(handler: guardHandler, loop: loop)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        return (channel, loop)
    }

    func head(_ channel: EmbeddedChannel, declaring length: Int? = nil) throws {
        var fields = HTTPFields()
        if let length { fields[.contentLength] = String(length) }
        try channel.writeInbound(HTTPRequestPart.head(HTTPRequest(method: .post, scheme: nil, authority: nil, path: "/", headerFields: fields)))
    }

    func end(_ channel: EmbeddedChannel) throws { try channel.writeInbound(HTTPRequestPart.end(nil)) }

    /// Moves the virtual clock to `seconds` after the start.
    func at(_ seconds: Int64, _ loop: EmbeddedEventLoop, from start: NIODeadline) { loop.advanceTime(to: start + .seconds(seconds)) }

    @Test func aConnectionWithNoRequestIsClosedAtTheFirstDeadline() throws {
        let (channel, loop) = try connection()
        let start = loop.now
        at(29, loop, from: start)
        #expect(channel.isActive)
        at(31, loop, from: start)
        #expect(!channel.isActive)
    }

    @Test func aRequestStartedBeforeTheFirstCheckIsHeldToItsOwnDeadline() throws {
        let (channel, loop) = try connection()
        let start = loop.now
        at(10, loop, from: start)
        try head(channel)  // due at 70; the check set for 30 fires first and is set again for 70
        at(69, loop, from: start)
        #expect(channel.isActive)
        at(71, loop, from: start)
        #expect(!channel.isActive)
    }

    @Test func requestsThatComeInWholeKeepTheConnectionAndALateOneCloses() throws {
        let (channel, loop) = try connection()
        let start = loop.now
        at(10, loop, from: start)
        try head(channel)
        try end(channel)
        at(200, loop, from: start)  // between requests nothing is due, however long
        #expect(channel.isActive)
        try head(channel)  // due at 260, with no check pending
        at(259, loop, from: start)
        #expect(channel.isActive)
        at(261, loop, from: start)
        #expect(!channel.isActive)
    }

    @Test func aNearerDeadlineReplacesALaterCheck() throws {
        let (channel, loop) = try connection()
        let start = loop.now
        at(1, loop, from: start)
        try head(channel, declaring: 1_000 * 64 * 1024)  // due at 1,061: the check at 30 is set again for 1,061
        at(31, loop, from: start)
        try end(channel)
        at(32, loop, from: start)
        try head(channel)  // due at 92, before the pending check
        at(91, loop, from: start)
        #expect(channel.isActive)
        at(93, loop, from: start)
        #expect(!channel.isActive)
    }
}
