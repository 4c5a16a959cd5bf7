import Foundation
import HandoverTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Header limits on the real server, over a raw socket (clients would refuse to send such requests).
@Suite("Connection limits", .serialized)
struct ConnectionLimitsTests {
    func rawRequest(port: Int, _ text: String) throws -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { throw BrokerProcessError("connect failed") }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = Array(text.utf8).withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self) : ""
    }

    @Test func oversizedHeadersAreRefusedAndTheServerCarriesOn() throws {
        let (folder, routes) = try TestBroker.folderWithRoutes("limits")
        let broker = try BrokerProcess(arguments: ["--tls", "off", "--routes", routes.path, "--max-header-bytes", "8192",
                                                   "--database", "sqlite:" + folder.appendingPathComponent("h.sqlite").path, "--shared-key", "K"],
                                       environment: TestBroker.passwords, logURL: folder.appendingPathComponent("log"))
        defer { broker.terminate() }
        let big = try rawRequest(port: broker.port, "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 20_000) + "\r\n\r\n")
        #expect(big.hasPrefix("HTTP/1.1 400") || big.hasPrefix("HTTP/1.1 431"), "\(big.prefix(40))")
        let fine = try rawRequest(port: broker.port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(fine.hasPrefix("HTTP/1.1 200"))
    }
}
