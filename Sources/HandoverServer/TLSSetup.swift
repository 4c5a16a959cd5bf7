import NIOSSL

/// TLS for the listener, from PEM files (swift-nio-ssl, TLS 1.2 or later as mesh-client requires).
enum TLSSetup {
    static func serverConfiguration(_ config: ServeConfiguration) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(config.certificate).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: config.privateKey, format: .pem)
        var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        tls.minimumTLSVersion = .tlsv12
        if config.tls == .mutual {
            tls.certificateVerification = .noHostnameVerification
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(config.clientCA))
        }
        return tls
    }
}
