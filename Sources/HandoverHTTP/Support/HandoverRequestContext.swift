import HandoverCore
import Hummingbird
import Logging
import NIOCore
import NIOSSL

/// The request context: Hummingbird's core storage, the connection, and who the request is from.
/// The callers are set by the authentication middleware of each route group (`MeshAuthentication`,
/// `AdminAuthentication`) before any handler runs; a handler reads them and never authenticates itself.
public struct HandoverRequestContext: HandoverContext {
    public var coreContext: CoreRequestContextStorage
    let channel: (any Channel)?
    public var peer: PeerIdentity?
    public var mesh: MeshCaller?
    public var admin: AdminPrincipal?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The peer's IP address, for per-address limits and logs.
    public var clientAddress: String? { channel?.remoteAddress?.ipAddress }

    /// The client certificate's names and serial, parsed once per connection (`PeerIdentityHandler`),
    /// or nil without TLS or a certificate.
    public func resolvePeer() async -> PeerIdentity? {
        guard let channel else { return nil }
        let identity: PeerIdentity?? = try? await channel.eventLoop.submit {
            let operations = channel.pipeline.syncOperations
            guard let tls = try? operations.handler(type: NIOSSLHandler.self), let certificate = tls.peerCertificate else { return nil }
            if let cache = try? operations.handler(type: PeerIdentityHandler.self) { return cache.identity(of: certificate) }
            return PeerIdentity(certificate)
        }.get()
        return identity ?? nil
    }
}

/// What the endpoints need of a request context; `HandoverRequestContext` is the one the server uses.
public protocol HandoverContext: RequestContext {
    /// The client certificate of the connection, set once per request by `PeerIdentityMiddleware`
    /// (mutual TLS only); nil otherwise.
    var peer: PeerIdentity? { get set }
    /// The authenticated MESH caller, set by `MeshAuthentication`.
    var mesh: MeshCaller? { get set }
    /// The authenticated admin token's principal, set by `AdminAuthentication`.
    var admin: AdminPrincipal? { get set }
    func resolvePeer() async -> PeerIdentity?
    /// The peer's IP address, or nil where there is no connection (in-process tests).
    var clientAddress: String? { get }
}

extension HandoverContext {
    /// The MESH caller; a route registered without `MeshAuthentication` fails closed with MESH's 403.
    func meshCaller() throws -> MeshCaller {
        guard let mesh else { throw MeshError.auth(.missingHeader) }
        return mesh
    }

    /// The admin principal; a route registered without `AdminAuthentication` fails closed with 401.
    func adminCaller() throws -> AdminPrincipal {
        guard let admin else { throw AdminProblem.unauthorized }
        return admin
    }
}
