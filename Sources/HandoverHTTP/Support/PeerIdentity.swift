import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTPTypes
import NIOSSL
import X509

/// The names (subject CN and DNS SANs) and serial of a client certificate: what certificate binding,
/// the admin certificate fence and the revocation list look at.
public struct PeerIdentity: Sendable, Hashable {
    public let names: [String]
    /// Big-endian bytes, as the revocation list holds them.
    public let serial: [UInt8]

    public init(names: [String], serial: [UInt8]) { (self.names, self.serial) = (names, serial) }

    init?(_ certificate: NIOSSLCertificate) {
        guard let parsed = try? Certificate(derEncoded: try certificate.toDERBytes()) else { return nil }
        var names: [String] = []
        for rdn in parsed.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                names.append(String(describing: attribute.value))
            }
        }
        if let sans = try? parsed.extensions.subjectAlternativeNames {
            for name in sans { if case .dnsName(let dns) = name { names.append(dns) } }
        }
        self.init(names: names, serial: Array(parsed.serialNumber.bytes))
    }
}

/// Keeps a connection's parsed client certificate, so a keep-alive connection parses it once rather
/// than once per request. Passes every request part through untouched; lives on the event loop.
public final class PeerIdentityHandler: ChannelInboundHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPRequestPart
    public typealias InboundOut = HTTPRequestPart

    /// nil until asked; then the parsed identity (itself nil for a certificate that does not parse).
    private var parsed: PeerIdentity??

    public init() {}

    func identity(of certificate: NIOSSLCertificate) -> PeerIdentity? {
        if let parsed { return parsed }
        let identity = PeerIdentity(certificate)
        parsed = .some(identity)
        return identity
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.fireChannelRead(data) }
}

/// Reads the connection's client certificate once per request, before the revocation check and the
/// authentication middleware, which all read `context.peer`. Installed only under mutual TLS.
public struct PeerIdentityMiddleware<Context: HandoverContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.peer = await context.resolvePeer()
        return try await next(request, context)
    }
}
