import COpenSSL
import Foundation
import Synchronization

/// Signs bytes as a detached CMS (PKCS#7) signature with the broker's receipt key, in PEM, so anyone
/// can check a receipt with `openssl cms -verify -binary -content receipt.json -in receipt.p7s`.
public final class CMSReceiptSigner: Sendable {
    private struct Handles: @unchecked Sendable {
        let certificate: OpaquePointer
        let key: OpaquePointer
    }
    private let handles: Mutex<Handles>
    public let certificatePEM: String

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public init(certificatePEM: String, keyPEM: String) throws {
        guard let certificate = Self.withBIO(certificatePEM, { PEM_read_bio_X509($0, nil, nil, nil) }) else {
            throw Failure(description: "the receipt certificate is not a PEM X.509 certificate")
        }
        guard let key = Self.withBIO(keyPEM, { PEM_read_bio_PrivateKey($0, nil, nil, nil) }) else {
            X509_free(certificate)
            throw Failure(description: "the receipt key is not a PEM private key")
        }
        guard X509_check_private_key(certificate, key) == 1 else {
            X509_free(certificate)
            EVP_PKEY_free(key)
            throw Failure(description: "the receipt key does not match the receipt certificate")
        }
        handles = Mutex(Handles(certificate: certificate, key: key))
        self.certificatePEM = certificatePEM
    }

    deinit {
        handles.withLock { h in
            X509_free(h.certificate)
            EVP_PKEY_free(h.key)
        }
    }

    /// The detached signature over `content`, as PEM (`-----BEGIN CMS-----`).
    public func sign(_ content: [UInt8]) throws -> String {
        try handles.withLock { h in
            guard let input = content.withUnsafeBytes({ BIO_new_mem_buf($0.baseAddress, Int32($0.count)) }) else {
                throw Failure(description: "out of memory")
            }
            defer { BIO_free(input) }
            let flags = UInt32(CMS_DETACHED | CMS_BINARY)
            guard let cms = CMS_sign(h.certificate, h.key, nil, input, flags) else {
                throw Failure(description: "CMS_sign failed: \(Self.lastError())")
            }
            defer { CMS_ContentInfo_free(cms) }
            guard let output = BIO_new(BIO_s_mem()) else { throw Failure(description: "out of memory") }
            defer { BIO_free(output) }
            guard PEM_write_bio_CMS_stream(output, cms, nil, 0) == 1 else {
                throw Failure(description: "writing the CMS failed: \(Self.lastError())")
            }
            var pointer: UnsafeMutablePointer<CChar>?
            let length = BIO_ctrl(output, BIO_CTRL_INFO, 0, &pointer)
            guard let pointer, length > 0 else { throw Failure(description: "empty signature") }
            return String(decoding: UnsafeRawBufferPointer(start: pointer, count: Int(length)), as: UTF8.self)
        }
    }

    /// Whether `signaturePEM` is a valid detached CMS signature over exactly `content`, made with this
    /// signer's key and certificate, and that certificate is within its validity period now. Checked
    /// by OpenSSL's `CMS_verify` from the PEM, independently of how the signature was made.
    public func verify(_ content: [UInt8], signaturePEM: String) -> Bool {
        handles.withLock { h in
            // PEM_read_bio_CMS is a C macro Swift cannot see: the PEM's base64 body is read as DER instead.
            let body = signaturePEM.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
            guard let der = Foundation.Data(base64Encoded: String(body)),
                let cms = Array(der).withUnsafeBytes({ raw -> OpaquePointer? in
                    guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
                    defer { BIO_free(bio) }
                    return d2i_CMS_bio(bio, nil)
                })
            else { return false }
            defer { CMS_ContentInfo_free(cms) }
            guard let data = content.withUnsafeBytes({ BIO_new_mem_buf($0.baseAddress, Int32($0.count)) }) else { return false }
            defer { BIO_free(data) }
            // The signature with the certificate it carries; that certificate must then be ours.
            guard CMS_verify(cms, nil, nil, data, nil, UInt32(CMS_DETACHED | CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY)) == 1,
                let signers = CMS_get0_signers(cms)
            else { return false }
            defer { OPENSSL_sk_free(signers) }
            guard OPENSSL_sk_num(signers) == 1, let signer = OPENSSL_sk_value(signers, 0) else { return false }
            return X509_cmp(OpaquePointer(signer), h.certificate) == 0 && X509_cmp_current_time(X509_get0_notAfter(h.certificate)) > 0
                && X509_cmp_current_time(X509_get0_notBefore(h.certificate)) < 0
        }
    }

    /// When the receipt certificate stops being valid, as OpenSSL prints it.
    public var certificateNotAfter: String {
        handles.withLock { h in
            guard let output = BIO_new(BIO_s_mem()) else { return "" }
            defer { BIO_free(output) }
            guard ASN1_TIME_print(output, X509_get0_notAfter(h.certificate)) == 1 else { return "" }
            var pointer: UnsafeMutablePointer<CChar>?
            let length = BIO_ctrl(output, BIO_CTRL_INFO, 0, &pointer)
            guard let pointer, length > 0 else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: pointer, count: Int(length)), as: UTF8.self)
        }
    }

    private static func withBIO<T>(_ text: String, _ body: (OpaquePointer) -> T?) -> T? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { raw -> T? in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else { return nil }
            defer { BIO_free(bio) }
            return body(bio)
        }
    }

    private static func lastError() -> String {
        let code = ERR_get_error()
        guard code != 0 else { return "unknown error" }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
