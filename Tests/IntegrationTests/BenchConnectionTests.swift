import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import HandoverBench

/// The load generator's own HTTP/1.1 connections, against a loopback server that answers by path:
/// keep-alive connections are reused, a closed or silent one fails its request instead of hanging
/// the run, and the next request gets a fresh connection.
@Suite("Benchmark connections")
struct BenchConnectionTests {
    @Test func sequentialRequestsShareOneKeepAliveConnection() async throws {
        try await withServerAndPool { server, pool in
            for _ in 0..<3 {
                let response = try await pool.execute(get("/ok"), timeout: .seconds(5))
                #expect(response.status == .ok && String(buffer: response.body) == "ok" && response.bodyBytes == 2)
            }
            #expect(server.accepted == 1)
        }
    }

    @Test func aConnectionTheServerClosesIsReplaced() async throws {
        try await withServerAndPool { server, pool in
            let closing = try await pool.execute(get("/close-after"), timeout: .seconds(5))
            #expect(closing.status == .ok && !closing.keepAlive)
            let next = try await pool.execute(get("/ok"), timeout: .seconds(5))
            #expect(next.status == .ok)
            #expect(server.accepted == 2)
        }
    }

    @Test func aDroppedConnectionFailsItsRequestAndTheNextOneWorks() async throws {
        try await withServerAndPool { server, pool in
            await #expect(throws: BenchHTTPError.connectionClosed) { _ = try await pool.execute(get("/drop"), timeout: .seconds(5)) }
            let next = try await pool.execute(get("/ok"), timeout: .seconds(5))
            #expect(next.status == .ok)
            #expect(server.accepted == 2)
        }
    }

    /// The silent server neither answers nor closes, so only the request's own timeout can end the
    /// request, and the error says it did (without a timeout the test would run into its time limit).
    /// Not timed against the clock: with every other suite running beside it on two cores, connecting
    /// and the timeout's turn on the event loop once took 5.7 s.
    @Test(.timeLimit(.minutes(1)))
    func aSilentServerTimesOut() async throws {
        try await withServerAndPool { _, pool in
            await #expect(throws: BenchHTTPError.timedOut) { _ = try await pool.execute(get("/silent"), timeout: .milliseconds(200)) }
        }
    }

    /// A response's time runs from the request's write to its last byte: here the server's 150 ms pause.
    @Test func aResponseIsTimedFromWriteToLastByte() async throws {
        try await withServerAndPool { _, pool in
            let quick = try await pool.execute(get("/ok"), timeout: .seconds(5))
            let slow = try await pool.execute(get("/slow"), timeout: .seconds(5))
            #expect(slow.status == .ok && slow.elapsed >= .milliseconds(150) && slow.elapsed < .seconds(5), "\(slow.elapsed)")
            #expect(quick.elapsed < slow.elapsed - .milliseconds(100), "\(quick.elapsed) against \(slow.elapsed)")
        }
    }

    /// Large downloads are counted, not kept.
    @Test func aBodyNotKeptIsStillCounted() async throws {
        try await withServerAndPool { _, pool in
            let response = try await pool.execute(get("/ok"), timeout: .seconds(5), keepBody: false)
            #expect(response.bodyBytes == 2 && response.body.readableBytes == 0)
        }
    }

    @Test func onlyHTTPURLsWithAHostAreAccepted() {
        #expect(throws: BenchHTTPError.self) { _ = try BenchConnectionPool(base: "ftp://127.0.0.1:80", tls: nil) }
        #expect(throws: BenchHTTPError.self) { _ = try BenchConnectionPool(base: "not a url", tls: nil) }
        #expect((try? BenchConnectionPool(base: "http://127.0.0.1:8080", tls: nil))?.port == 8080)
    }

    /// An https base is never spoken to in plain text: with no TLS settings given it still gets TLS
    /// (the system's trust roots), so a plain server answers nothing the client accepts.
    @Test func anHTTPSBaseAlwaysSpeaksTLS() async throws {
        try await withServerAndPool(scheme: "https") { _, pool in
            await #expect(throws: (any Error).self) { _ = try await pool.execute(get("/ok"), timeout: .seconds(1)) }
        }
    }

    private func get(_ path: String) -> BenchRequest { BenchRequest(method: .GET, path: path, headers: [:], body: nil) }

    /// A fresh scripted server and a pool of connections to it (`scheme` https: the same port, asked for TLS).
    private func withServerAndPool(scheme: String = "http", _ body: (ScriptedServer, BenchConnectionPool) async throws -> Void) async throws {
        let server = try await ScriptedServer.start()
        defer { server.stop() }
        let pool = try BenchConnectionPool(base: "\(scheme)://127.0.0.1:\(server.port)", tls: nil)
        defer { pool.shutdown() }
        try await body(server, pool)
    }
}

/// Answers each request by its path: `/ok` (keep-alive), `/slow` (the same after 150 ms), `/close-after` (answers, then closes),
/// `/drop` (closes without answering), `/silent` (never answers). Counts the connections it accepts.
private final class ScriptedServer: Sendable {
    let channel: any Channel
    private let connections: Counter

    var port: Int { channel.localAddress?.port ?? 0 }
    var accepted: Int { connections.value }

    private init(channel: any Channel, connections: Counter) { (self.channel, self.connections) = (channel, connections) }

    static func start() async throws -> ScriptedServer {
        let connections = Counter()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                connections.add()
                return child.eventLoop.makeCompletedFuture { try child.pipeline.syncOperations.addHandler(ScriptedAnswers()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return ScriptedServer(channel: channel, connections: connections)
    }

    func stop() { channel.close(promise: nil) }
}

private final class ScriptedAnswers: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var received = ""

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += String(buffer: unwrapInboundIn(data))
        while let end = received.range(of: "\r\n\r\n") {
            let head = received[..<end.lowerBound]
            received = String(received[end.upperBound...])
            let path = head.split(separator: " ").dropFirst().first.map(String.init) ?? ""
            switch path {
            case "/ok": answer(context, close: false)
            case "/slow":
                let later = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: .milliseconds(150)) { later.value.0.answer(later.value.1, close: false) }
            case "/close-after":
                answer(context, close: true)
                context.close(promise: nil)
            case "/drop": context.close(promise: nil)
            default: break  // "/silent"
            }
        }
    }

    private func answer(_ context: ChannelHandlerContext, close: Bool) {
        let text = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n" + (close ? "connection: close\r\n" : "") + "\r\nok"
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
    }
}
