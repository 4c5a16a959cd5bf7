import Foundation
import NIOSSL

/// TLS for the listener, from PEM files (swift-nio-ssl, TLS 1.2 or later as mesh-client requires).
enum TLSSetup {
    static func serverConfiguration(_ config: ServeConfiguration) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(config.certificate).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: config.privateKey, format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
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
