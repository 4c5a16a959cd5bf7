import Foundation
import NIOSSL

/// TLS for the listener, from PEM files (swift-nio-ssl, TLS 1.2 or later as mesh-client requires).
enum TLSSetup {
    static func serverConfiguration(_ config: ServeConfiguration, credentials: ServerCredentials) throws -> TLSConfiguration {
        let loaded = credentials.current.withLock { $0 }
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: loaded.chain, privateKey: loaded.key)
        // Each handshake takes the credentials in force, so SIGHUP can swap them.
        tls.sslContextCallback = credentials.contextCallback
        tls.minimumTLSVersion = .tlsv12
        switch config.tls {
        case .mutual:
            tls.certificateVerification = .noHostnameVerification
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(config.clientCA))
        case .server where FileManager.default.fileExists(atPath: config.clientCA):
            // Optional: a client may present no certificate, but one it presents must chain to the CA.
            tls.certificateVerification = .optionalVerification
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(config.clientCA))
        case .server, .off:
            break
        }
        return tls
    }
}
