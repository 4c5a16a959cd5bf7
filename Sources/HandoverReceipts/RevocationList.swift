import COpenSSL

/// The serial numbers a certificate revocation list (RFC 5280 CRL, PEM, one or more in a file)
/// revokes, read with the system OpenSSL after checking each CRL's signature against the client CA:
/// a CRL the CA did not sign is refused, never half-trusted.
public struct RevocationList: Sendable, Equatable {
    /// Revoked serial numbers, uppercase hex without leading zeros.
    public let revokedSerials: Set<String>

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public init(crlPEM: String, issuerPEM: String) throws {
        let issuerBytes = Array(issuerPEM.utf8)
        let issuer: OpaquePointer? = issuerBytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_X509(bio, nil, nil, nil)
        }
        guard let issuer else { throw Failure(description: "the client CA is not a PEM certificate") }
        defer { X509_free(issuer) }
        guard let issuerKey = X509_get_pubkey(issuer) else { throw Failure(description: "the client CA has no public key") }
        defer { EVP_PKEY_free(issuerKey) }

        var serials: Set<String> = []
        var count = 0
        let crlBytes = Array(crlPEM.utf8)
        try crlBytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { throw Failure(description: "out of memory") }
            defer { BIO_free(bio) }
            while let crl = PEM_read_bio_X509_CRL(bio, nil, nil, nil) {
                defer { X509_CRL_free(crl) }
                count += 1
                guard X509_CRL_verify(crl, issuerKey) == 1 else {
                    throw Failure(description: "CRL \(count) is not signed by the client CA")
                }
                if let stack = X509_CRL_get_REVOKED(crl) {
                    for i in 0..<OPENSSL_sk_num(stack) {
                        guard let entry = OPENSSL_sk_value(stack, i),
                            let serial = X509_REVOKED_get0_serialNumber(OpaquePointer(entry))
                        else { continue }
                        serials.insert(Self.hex(serial))
                    }
                }
            }
            ERR_clear_error()  // the loop ends on "no start line"
        }
        guard count > 0 else { throw Failure(description: "no PEM CRL (-----BEGIN X509 CRL-----) in the file") }
        revokedSerials = serials
    }

    public init(revokedSerials: Set<String>) { self.revokedSerials = revokedSerials }

    /// Whether the certificate with this serial (big-endian bytes) is revoked.
    public func revokes(serial bytes: [UInt8]) -> Bool { revokedSerials.contains(Self.hex(bytes)) }

    static func hex(_ integer: UnsafePointer<ASN1_INTEGER>) -> String {
        guard let bignum = ASN1_INTEGER_to_BN(integer, nil) else { return "" }
        defer { BN_free(bignum) }
        guard let text = BN_bn2hex(bignum) else { return "" }
        defer { CRYPTO_free(text, #fileID, #line) }
        return normalised(String(cString: text))
    }

    static func hex(_ bytes: [UInt8]) -> String {
        normalised(
            bytes.map {
                String($0, radix: 16, uppercase: true).count == 1
                    ? "0" + String($0, radix: 16, uppercase: true) : String($0, radix: 16, uppercase: true)
            }.joined())
    }

    static func normalised(_ hex: String) -> String {
        let trimmed = hex.uppercased().drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : String(trimmed)
    }
}
