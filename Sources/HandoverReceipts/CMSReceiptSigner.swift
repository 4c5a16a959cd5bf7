import COpenSSL
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
