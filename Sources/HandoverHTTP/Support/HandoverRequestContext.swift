import Hummingbird
import Logging
import NIOCore
import NIOSSL
import X509

/// The request context: Hummingbird's core storage plus the connection, from which the TLS peer
/// certificate is read when mutual TLS binds certificates to mailboxes.
public struct HandoverRequestContext: RequestContext, ClientCertificateContext {
    public var coreContext: CoreRequestContextStorage
    let channel: (any Channel)?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The peer's IP address, for per-address limits and logs.
    public var clientAddress: String? { channel?.remoteAddress?.ipAddress }

    /// The client's certificate, or nil without TLS or a certificate.
    public func clientCertificate() async -> Certificate? {
        guard let channel else { return nil }
        let certificate: NIOSSLCertificate?? = try? await channel.eventLoop.submit {
            try? channel.pipeline.syncOperations.handler(type: NIOSSLHandler.self).peerCertificate
        }.get()
        guard let certificate = certificate ?? nil else { return nil }
        return try? Certificate(derEncoded: try certificate.toDERBytes())
    }

    /// The subject CN and DNS SANs of the client's certificate, or nil without TLS or a certificate.
    public func clientCertificateNames() async -> [String]? {
        guard let parsed = await clientCertificate() else { return nil }
        var names: [String] = []
        for rdn in parsed.subject {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                names.append(String(describing: attribute.value))
            }
        }
        if let sans = try? parsed.extensions.subjectAlternativeNames {
            for name in sans { if case .dnsName(let dns) = name { names.append(dns) } }
        }
        return names
    }

    /// The serial number of the client's certificate (big-endian bytes), for revocation checks.
    public func clientCertificateSerial() async -> [UInt8]? {
        (await clientCertificate()).map { Array($0.serialNumber.bytes) }
    }
}

/// A context that can name the client certificate of its connection.
public protocol ClientCertificateContext: RequestContext {
    func clientCertificateNames() async -> [String]?
    func clientCertificateSerial() async -> [UInt8]?
    /// The peer's IP address, or nil where there is no connection (in-process tests).
    var clientAddress: String? { get }
}
