import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOSSL
import Synchronization

/// Time and count limits on connections, so idle, trickling or non-reading sockets cannot hold the
/// broker's connection slots and lock mailboxes out (Hummingbird's idle timeout alone lets a client
/// hold a slot by trickling one byte at a time, or by never reading a response).
public struct ConnectionLimits: Sendable {
    /// From connect to the first complete request head: covers a TLS handshake that never finishes
    /// and headers sent a byte at a time.
    public var firstRequestSeconds: Int64 = 30
    /// A whole request (head to end of body) at least this long…
    public var requestBaseSeconds: Int64 = 60
    /// …plus its declared length at this rate: a 100 MB chunk may take 60 s + 100 MB / 64 KiB/s.
    public var minimumBytesPerSecond: Int64 = 64 * 1024
    /// A response the client does not read for this long (the socket stays unwritable) is dropped.
    public var writeStallSeconds: Int64 = 60
    /// Open connections per client address; 0 for no limit (behind a proxy every client shares its address).
    public var maxPerAddress = 128

    public init() {}

    func requestSeconds(contentLength: Int64?) -> Int64 {
        requestBaseSeconds + max(0, contentLength ?? 0) / max(1, minimumBytesPerSecond)
    }
}

/// Open connections per client address, shared by every connection's guard.
public final class ConnectionLedger: Sendable {
    let counts = Mutex<[String: Int]>([:])
    let maxPerAddress: Int
    let logger: Logger
    /// When a TLS failure was last logged: at most one line a second, however many fail.
    let lastTLSFailureLog = Mutex<ContinuousClock.Instant?>(nil)

    public init(maxPerAddress: Int, logger: Logger) { (self.maxPerAddress, self.logger) = (maxPerAddress, logger) }

    func tlsFailed(address: String?, error: any Error) {
        let now = ContinuousClock.now
        let due = lastTLSFailureLog.withLock { last in
            guard last.map({ now - $0 >= .seconds(1) }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        logger.info(
            "TLS handshake failed",
            metadata: [
                "handover.client_address": "\(address ?? "unknown")", "handover.error_type": "\(type(of: error))",
                "handover.error": "\(String(describing: error).prefix(200))",
            ])
    }

    func open(_ address: String) -> Bool {
        counts.withLock { counts in
            let n = counts[address] ?? 0
            guard maxPerAddress <= 0 || n < maxPerAddress else { return false }
            counts[address] = n + 1
            return true
        }
    }

    func close(_ address: String) {
        counts.withLock { counts in
            if let n = counts[address] { counts[address] = n > 1 ? n - 1 : nil }
        }
    }

    public var open: Int { counts.withLock { $0.values.reduce(0, +) } }
}

/// Enforces `ConnectionLimits` on one connection: sits after HTTP decoding (it sees whole heads),
/// but is added when the connection opens, before any TLS handshake completes.
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let limits: ConnectionLimits
    let ledger: ConnectionLedger
    private var address: String?
    /// When the request under way (or the first request's head) must be in; nil between requests.
    private var requestDeadline: NIODeadline?
    /// The timer that checks `requestDeadline`, and when it fires. It is set again only when it would
    /// fire after a new deadline, or fires before the deadline it finds: scheduling and cancelling a
    /// timer for every request was about 1 % of the broker's CPU in a profile of saturated sends.
    private var deadlineCheck: (task: Scheduled<Void>, at: NIODeadline)?
    private var writeStall: Scheduled<Void>?
    /// Requests whose head has come in and whose response has not yet gone out (a client may pipeline).
    private var responsesOwed = 0
    /// Headers over the limit arrived while responses were owed: 431 goes out after the last of them.
    private var refusalWaiting = false

    init(limits: ConnectionLimits, ledger: ConnectionLedger) {
        (self.limits, self.ledger) = (limits, ledger)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if let ip = context.channel.remoteAddress?.ipAddress {
            guard ledger.open(ip) else {
                context.close(promise: nil)
                return
            }
            address = ip
        }
        arm(context, seconds: limits.firstRequestSeconds)
    }

    func handlerRemoved(context: ChannelHandlerContext) { release() }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            responsesOwed += 1
            // The first field, not `HTTPFields`' subscript, which joins every value through a generic
            // `joined` (0.4 % of a saturated send's CPU); the parser refuses a repeated length.
            let length = head.headerFields.first { $0.name == .contentLength }.flatMap { Int64($0.value) }
            arm(context, seconds: limits.requestSeconds(contentLength: length))
        case .end:
            // The request is in; the response's pace is the write-stall timer's concern.
            requestDeadline = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is NIOSSLError || error is BoringSSLError {
            ledger.tlsFailed(address: address ?? context.channel.remoteAddress?.ipAddress, error: error)
        }
        if let parse = error as? HTTPParserError, parse == .headerOverflow {
            // The error arrives as soon as the bytes are parsed, ahead of the responses to requests
            // pipelined before it, so the 431 waits for them.
            if responsesOwed == 0 { refuseOversizedHeaders(context) } else { refusalWaiting = true }
            return
        }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
        guard case .end = unwrapOutboundIn(data) else { return }
        responsesOwed -= 1
        if refusalWaiting && responsesOwed == 0 { refuseOversizedHeaders(context) }
    }

    /// A header block over `--max-header-bytes` or 100 fields: 431, as RFC 6585 asks, then close.
    /// Answered here because the server's own handling answers every parse error 400. The decoder
    /// reads nothing after its error, so no request follows and this is the connection's last response.
    private func refuseOversizedHeaders(_ context: ChannelHandlerContext) {
        refusalWaiting = false
        let head = HTTPResponse(
            status: .init(code: 431, reasonPhrase: "Request Header Fields Too Large"),
            headerFields: [.connection: "close", .contentLength: "0"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable {
            writeStall?.cancel()
            writeStall = nil
        } else if writeStall == nil {
            let loop = context.eventLoop.assumeIsolated()
            writeStall = loop.scheduleTask(in: .seconds(limits.writeStallSeconds)) { context.close(promise: nil) }
        }
        context.fireChannelWritabilityChanged()
    }

    private func arm(_ context: ChannelHandlerContext, seconds: Int64) {
        let due = context.eventLoop.now + .seconds(seconds)
        requestDeadline = due
        if let check = deadlineCheck, check.at <= due { return }  // it fires first and finds `due`
        deadlineCheck?.task.cancel()
        scheduleCheck(context, at: due)
    }

    private func scheduleCheck(_ context: ChannelHandlerContext, at time: NIODeadline) {
        let loop = context.eventLoop.assumeIsolated()
        deadlineCheck = (loop.scheduleTask(deadline: time) { self.checkDeadline(context) }, time)
    }

    /// Closes the connection when its request is late; otherwise checks again at the deadline.
    private func checkDeadline(_ context: ChannelHandlerContext) {
        deadlineCheck = nil
        guard let due = requestDeadline else { return }
        if context.eventLoop.now >= due {
            context.close(promise: nil)
        } else {
            scheduleCheck(context, at: due)
        }
    }

    private func release() {
        deadlineCheck?.task.cancel()
        writeStall?.cancel()
        (requestDeadline, deadlineCheck, writeStall) = (nil, nil, nil)
        if let address {
            ledger.close(address)
            self.address = nil
        }
    }
}
