import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// One MESH request as the load generator sends it.
struct BenchRequest: Sendable {
    var method: HTTPMethod
    var path: String
    var headers: HTTPHeaders
    var body: ByteBuffer?
}

/// A whole response. `body` is empty when only its size was asked for (large downloads).
/// `elapsed`: from the request's write to the response's last byte, on the connection's event loop.
struct BenchResponse: Sendable {
    let status: HTTPResponseStatus
    let body: ByteBuffer
    let bodyBytes: Int
    let keepAlive: Bool
    let elapsed: TimeAmount
}

enum BenchHTTPError: Error, Equatable, CustomStringConvertible {
    case badURL(String)
    case connectionClosed
    case timedOut

    var description: String {
        switch self {
        case .badURL(let url): "not an http:// or https:// URL with a host and port: \(url)"
        case .connectionClosed: "the broker closed the connection before answering"
        case .timedOut: "no answer in time"
        }
    }
}

/// Keep-alive connections to one broker, each carrying one request at a time, as MESH clients do.
/// The load generator shares the machine's cores with the broker it measures, so it is kept lean:
/// NIO's HTTP/1.1 codec and one small handler, no connection-pool state machine or request
/// validation between a client task and its socket (with AsyncHTTPClient the generator spent about
/// 0.15 ms of CPU a send: 0.6 of the two cores, taken from the broker, at 4,000 sends a second).
final class BenchConnectionPool: Sendable {
    let host: String
    let port: Int
    private let tls: NIOSSLContext?
    private let idle = Mutex<[BenchConnection]>([])

    /// `base`: `http://host:port` or `https://host:port`; an https base without `tls` is checked
    /// against the system's trust roots, with no client certificate.
    init(base: String, tls: NIOSSLContext?) throws {
        guard let url = URL(string: base), let host = url.host, let scheme = url.scheme, scheme == "http" || scheme == "https" else {
            throw BenchHTTPError.badURL(base)
        }
        self.host = host
        self.port = url.port ?? (scheme == "https" ? 443 : 80)
        self.tls = scheme == "https" ? try tls ?? NIOSSLContext(configuration: .makeClientConfiguration()) : nil
    }

    /// Sends on an idle connection (or a new one) and returns the connection to the pool unless
    /// the broker asked to close it or the request failed.
    func execute(_ request: BenchRequest, timeout: TimeAmount, keepBody: Bool = true) async throws -> BenchResponse {
        let connection = try await acquire()
        do {
            let response = try await connection.execute(request, timeout: timeout, keepBody: keepBody)
            if response.keepAlive { idle.withLock { $0.append(connection) } } else { connection.close() }
            return response
        } catch {
            connection.close()
            throw error
        }
    }

    func shutdown() {
        let connections = idle.withLock { pool in
            defer { pool.removeAll() }
            return pool
        }
        for connection in connections { connection.close() }
    }

    private func acquire() async throws -> BenchConnection {
        while let connection = idle.withLock({ $0.popLast() }) {
            if connection.channel.isActive { return connection }
        }
        return try await BenchConnection.connect(host: host, port: port, tls: tls)
    }
}

/// One keep-alive connection: TLS if asked, NIO's HTTP/1.1 codec, and `BenchExchangeHandler`.
final class BenchConnection: Sendable {
    let channel: any Channel

    private init(channel: any Channel) { self.channel = channel }

    static func connect(host: String, port: Int, tls: NIOSSLContext?) async throws -> BenchConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    // No server name: the broker's certificate is checked against the address dialled.
                    if let tls { try pipeline.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: nil)) }
                    try pipeline.addHTTPClientHandlers(leftOverBytesStrategy: .fireError)
                    try pipeline.addHandler(BenchExchangeHandler(host: "\(host):\(port)"))
                }
            }
            .connect(host: host, port: port).get()
        return BenchConnection(channel: channel)
    }

    func execute(_ request: BenchRequest, timeout: TimeAmount, keepBody: Bool) async throws -> BenchResponse {
        let answer = channel.eventLoop.makePromise(of: BenchResponse.self)
        let written = channel.eventLoop.makePromise(of: Void.self)
        // A write that never reaches the handler (the connection already closed) still ends the wait.
        written.futureResult.whenFailure { answer.fail($0) }
        channel.writeAndFlush(BenchExchange(request: request, timeout: timeout, keepBody: keepBody, answer: answer), promise: written)
        return try await answer.futureResult.get()
    }

    func close() { channel.close(promise: nil) }
}

/// A request and where its answer goes.
struct BenchExchange: Sendable {
    let request: BenchRequest
    let timeout: TimeAmount
    let keepBody: Bool
    let answer: EventLoopPromise<BenchResponse>
}

/// Writes one request and gathers its response into the waiting promise; fails it if the
/// connection closes or errs first, or if the answer takes longer than the request's timeout.
final class BenchExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = BenchExchange
    typealias OutboundOut = HTTPClientRequestPart

    private let host: String
    private var pending: (exchange: BenchExchange, deadline: Scheduled<Void>, written: NIODeadline)?
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()
    private var bodyBytes = 0

    init(host: String) { self.host = host }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let written = NIODeadline.now()
        let exchange = unwrapOutboundIn(data)
        let request = exchange.request
        var head = HTTPRequestHead(version: .http1_1, method: request.method, uri: request.path, headers: request.headers)
        head.headers.replaceOrAdd(name: "host", value: host)
        if let body = request.body {
            head.headers.replaceOrAdd(name: "content-length", value: String(body.readableBytes))
        } else if request.method != .GET {
            head.headers.replaceOrAdd(name: "content-length", value: "0")
        }
        let channel = context.channel
        let deadline = context.eventLoop.scheduleTask(in: exchange.timeout) {
            exchange.answer.fail(BenchHTTPError.timedOut)
            channel.close(promise: nil)
        }
        pending = (exchange, deadline, written)
        (self.head, bodyBytes) = (nil, 0)
        body.clear()
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body = request.body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let responseHead):
            head = responseHead
        case .body(var part):
            bodyBytes += part.readableBytes
            if pending?.exchange.keepBody ?? false { body.writeBuffer(&part) }
        case .end:
            guard let (exchange, deadline, written) = pending, let head else { return }
            let elapsed = NIODeadline.now() - written
            pending = nil
            deadline.cancel()
            exchange.answer.succeed(
                BenchResponse(status: head.status, body: body, bodyBytes: bodyBytes, keepAlive: head.isKeepAlive, elapsed: elapsed))
            // The next response fills a buffer of its own: the answer handed out keeps this one.
            body = context.channel.allocator.buffer(capacity: 0)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(BenchHTTPError.connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    private func fail(_ error: any Error) {
        guard let (exchange, deadline, _) = pending else { return }
        pending = nil
        deadline.cancel()
        exchange.answer.fail(error)
    }
}
