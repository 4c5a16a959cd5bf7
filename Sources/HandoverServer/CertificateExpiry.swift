import Foundation
import HandoverHTTP
import NIOSSL

/// Puts the expiry of every certificate the broker uses into `/metrics`
/// (`handover_certificate_expiry_timestamp_seconds`), so an alert can fire weeks before one lapses.
enum CertificateExpiry {
    static func record(_ config: ServeConfiguration, metrics: BrokerMetrics) {
        var files: [(String, String)] = [("receipts", config.receiptCertificate)]
        if config.tls != .off { files += [("server", config.certificate), ("client-ca", config.clientCA)] }
        for (name, path) in files {
            guard let first = try? NIOSSLCertificate.fromPEMFile(path).first else { continue }
            metrics.certificateExpiry(name, notAfter: Int64(first.notValidAfter))
        }
    }
}
