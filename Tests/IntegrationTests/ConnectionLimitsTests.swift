import Foundation
import HandoverBench
import HandoverServer
import HandoverTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Header limits on the real server, over a raw socket (clients would refuse to send such requests).
@Suite("Connection limits", .serialized)
struct ConnectionLimitsTests {
    func rawRequest(port: Int, _ text: String, untilClosed: Bool = false) throws -> String {
        let fd = try loopbackSocket(port: port)
        defer { close(fd) }
        _ = Array(text.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        repeat {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { break }
            received += buffer.prefix(n)
        } while untilClosed
        return String(decoding: received, as: UTF8.self)
    }

    @Test func oversizedHeadersAreRefusedAndTheServerCarriesOn() throws {
        let (folder, routes) = try TestBroker.folderWithRoutes("limits")
        let broker = try BrokerProcess(
            arguments: [
                "--tls", "off", "--routes", routes.path, "--max-header-bytes", "8192",
                "--database", "sqlite:" + folder.appendingPathComponent("h.sqlite").path, "--shared-key", "K",
            ],
            environment: TestBroker.passwords, logURL: folder.appendingPathComponent("log"))
        defer { broker.terminate() }
        let big = try rawRequest(port: broker.port, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 20_000) + "\r\n\r\n")
        #expect(big.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"), "\(big.prefix(60))")
        #expect(big.lowercased().contains("connection: close"), "\(big)")
        let fields = (0..<101).map { "X-F\($0): v\r\n" }.joined()
        let many = try rawRequest(port: broker.port, "GET /health HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n")
        #expect(many.hasPrefix("HTTP/1.1 431 "), "\(many.prefix(60))")
        // Pipelined behind a request, the 431 comes after that request's response, not inside or before it.
        let healthy = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        let oversized = "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 20_000) + "\r\n\r\n"
        let pipelined = try rawRequest(port: broker.port, healthy + oversized, untilClosed: true)
        #expect(pipelined.hasPrefix("HTTP/1.1 200 "), "\(pipelined.prefix(60))")
        #expect(pipelined.components(separatedBy: "HTTP/1.1 ").map { String($0.prefix(3)) } == ["", "200", "431"], "\(pipelined)")
        // A request line and headers that fail to parse for another reason stay 400.
        let malformed = try rawRequest(port: broker.port, "GET /health HTTP/1.1\r\nHost x\r\n\r\n")
        #expect(malformed.hasPrefix("HTTP/1.1 400 "), "\(malformed.prefix(60))")
        // A body's length given twice is refused before any handler reads it (the connection guard
        // and the send take the first Content-Length field as the length).
        let twoLengths = try rawRequest(
            port: broker.port, "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc", untilClosed: true)
        #expect(twoLengths.hasPrefix("HTTP/1.1 400 "), "\(twoLengths.prefix(60))")
        let fine = try rawRequest(port: broker.port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(fine.hasPrefix("HTTP/1.1 200"))
    }
}

/// Idle, trickling, crowding and non-reading sockets cannot hold the broker's connection slots.
@Suite("Connection guard", .serialized)
struct ConnectionGuardTests {
    func connectSocket(_ port: Int, receiveTimeout: Int = 5, receiveBuffer: Int32? = nil) throws -> Int32 {
        try loopbackSocket(port: port, receiveTimeout: receiveTimeout, receiveBuffer: receiveBuffer)
    }

    func write(_ fd: Int32, _ text: String) {
        _ = Array(text.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until the peer closes (returns the bytes and true) or the receive timeout passes (false).
    func readUntilClosed(_ fd: Int32, limit: Int = 64 << 20) -> (bytes: Int, closed: Bool) {
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while total < limit {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 { return (total, true) }
            if n < 0 { return (total, errno == ECONNRESET) }
            total += n
        }
        return (total, false)
    }

    func health(_ port: Int) throws -> Bool {
        let fd = try connectSocket(port)
        defer { close(fd) }
        write(fd, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 && String(decoding: buffer.prefix(n), as: UTF8.self).hasPrefix("HTTP/1.1 200")
    }

    func broker(_ name: String, _ extra: [String]) throws -> (BrokerProcess, URL) {
        let (folder, routes) = try TestBroker.folderWithRoutes(name)
        let broker = try BrokerProcess(
            arguments: [
                "--tls", "off", "--routes", routes.path, "--shared-key", "TestKey",
                "--database", "sqlite:" + folder.appendingPathComponent("h.sqlite").path,
            ] + extra,
            environment: TestBroker.passwords, logURL: folder.appendingPathComponent("log"))
        return (broker, folder)
    }

    @Test func oneAddressCannotTakeEverySlot() throws {
        let (broker, _) = try broker("per-address", ["--max-connections-per-address", "5"])
        defer { broker.terminate() }
        let held = try (0..<5).map { _ in try connectSocket(broker.port) }
        Thread.sleep(forTimeInterval: 0.3)
        let sixth = try connectSocket(broker.port, receiveTimeout: 3)
        #expect(readUntilClosed(sixth).closed, "a sixth connection from one address was kept open")
        close(sixth)
        for fd in held { close(fd) }
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try health(broker.port))
    }

    @Test func tricklingAHeaderDoesNotHoldAConnection() throws {
        let (broker, _) = try broker("trickle", ["--first-request-timeout", "2", "--idle-timeout", "120"])
        defer { broker.terminate() }
        let fd = try connectSocket(broker.port, receiveTimeout: 1)
        defer { close(fd) }
        let start = Date()
        var closed = false
        for byte in "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa".map(String.init) where !closed {
            write(fd, byte)
            closed = readUntilClosed(fd).closed
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(closed && elapsed < 10, "a header trickled for \(Int(elapsed)) s kept its connection")
    }

    /// The console's and the monitoring listener's sockets are guarded as the MESH listener's are:
    /// a trickled header is cut off at the first-request deadline, oversized headers get 431, and one
    /// address cannot hold more connections than its share. (Unguarded, either port could be used to
    /// hold the process's file descriptors and so lock the MESH listener out.)
    @Test func theConsoleAndMonitoringListenersAreGuardedToo() throws {
        let console = try SpawnedBroker.freePort()
        let monitoring = try SpawnedBroker.freePort()
        let (broker, _) = try broker(
            "other-listeners",
            [
                "--console", "on", "--console-port", String(console), "--monitoring-port", String(monitoring),
                "--first-request-timeout", "2", "--idle-timeout", "120", "--max-connections-per-address", "4", "--max-header-bytes", "8192",
            ])
        defer { broker.terminate() }
        for port in [console, monitoring] {
            // The other listeners start beside the MESH one; wait until each accepts.
            let deadline = Date().addingTimeInterval(15)
            while (try? loopbackSocket(port: port)).map({ close($0) }) == nil, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            let oversized = "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 20_000) + "\r\n\r\n"
            let big = try ConnectionLimitsTests().rawRequest(port: port, oversized)
            #expect(big.hasPrefix("HTTP/1.1 431 "), "port \(port): \(big.prefix(40))")
            let fd = try connectSocket(port, receiveTimeout: 1)
            let start = Date()
            var closed = false
            for byte in "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa".map(String.init) where !closed {
                write(fd, byte)
                closed = readUntilClosed(fd).closed
            }
            close(fd)
            #expect(closed && Date().timeIntervalSince(start) < 10, "port \(port): a trickled header kept its connection")
            let held = try (0..<4).map { _ in try connectSocket(port) }
            Thread.sleep(forTimeInterval: 0.3)
            let fifth = try connectSocket(port, receiveTimeout: 3)
            #expect(readUntilClosed(fifth).closed, "port \(port): a fifth connection from one address was kept open")
            close(fifth)
            for fd in held { close(fd) }
        }
    }

    @Test func aTLSHandshakeThatNeverFinishesIsClosed() throws {
        let (folder, routes) = try TestBroker.folderWithRoutes("handshake")
        let pki = DevelopmentPKI(folder: folder.appendingPathComponent("pki").path)
        try pki.initialise(mailboxes: [])
        let p = pki.folder.path
        let broker = try BrokerProcess(
            arguments: [
                "--tls", "server", "--cert", p + "/server.pem", "--key", p + "/server.key", "--client-ca", p + "/ca.pem",
                "--routes", routes.path, "--shared-key", "TestKey", "--first-request-timeout", "2",
                "--database", "sqlite:" + folder.appendingPathComponent("h.sqlite").path,
            ],
            environment: TestBroker.passwords, logURL: folder.appendingPathComponent("log"))
        defer { broker.terminate() }
        let fd = try connectSocket(broker.port, receiveTimeout: 6)
        defer { close(fd) }
        write(fd, "\u{16}\u{03}\u{01}")  // the first bytes of a ClientHello, and then nothing
        let start = Date()
        #expect(readUntilClosed(fd).closed && Date().timeIntervalSince(start) < 5.5, "a stalled handshake kept its connection")
    }

    @Test func idleSocketsHoldingEverySlotAreReleased() throws {
        let (broker, _) = try broker("slots", ["--max-connections", "8", "--max-connections-per-address", "0", "--first-request-timeout", "2"])
        defer { broker.terminate() }
        let held = try (0..<12).map { _ in try connectSocket(broker.port, receiveTimeout: 6) }
        defer { for fd in held { close(fd) } }
        // Within the first-request deadline every idle socket is closed by the broker…
        for fd in held { #expect(readUntilClosed(fd).closed) }
        // …and a mailbox gets in again.
        #expect(try health(broker.port))
    }

    @Test func aClientThatNeverReadsItsResponseIsDropped() async throws {
        let (broker, _) = try broker("slow-reader", ["--write-stall-timeout", "2"])
        defer { broker.terminate() }
        let client = MeshWireClient(
            http: .shared, baseURL: "http://127.0.0.1:\(broker.port)", passwords: TestBroker.mailboxPasswords, sharedKey: "TestKey")
        let size = 8 << 20
        let id = try #require(try await client.send(from: "ALICE", to: "BOB", body: [UInt8](repeating: 7, count: size)))
        let fd = try connectSocket(broker.port, receiveTimeout: 8, receiveBuffer: 4096)
        defer { close(fd) }
        let token = MeshTokenFactory.header(mailbox: "BOB", password: "bob-secret", sharedKey: "TestKey", now: SystemClock.now())
        write(
            fd,
            "GET /messageexchange/BOB/inbox/\(id) HTTP/1.1\r\nHost: x\r\nAccept: application/vnd.mesh.v2+json\r\n"
                + "Accept-Encoding: identity\r\nAuthorization: \(token)\r\n\r\n")
        try await Task.sleep(for: .seconds(5))  // never reading, past the stall timeout
        let (bytes, closed) = readUntilClosed(fd)
        #expect(closed && bytes < size, "read \(bytes) of \(size) bytes; closed: \(closed)")
        #expect(try health(broker.port))
    }
}

/// A TCP socket connected to the broker on 127.0.0.1, with a receive timeout.
func loopbackSocket(port: Int, receiveTimeout: Int = 5, receiveBuffer: Int32? = nil) throws -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        close(fd)
        throw BrokerProcessError("connect failed")
    }
    var timeout = timeval(tv_sec: receiveTimeout, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    return fd
}
