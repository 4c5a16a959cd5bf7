import Crypto

/// Encrypts secrets the broker must keep in a readable form (rotated mailbox passwords, which the
/// HMAC check needs in the clear) under a master key, with AES-256-GCM. Stored form:
/// `v1:<base64url(nonce | ciphertext | tag)>`.
public struct SecretBox: Sendable {
    /// Kept as bytes (SymmetricKey is not Sendable); a key is made per use.
    let keyBytes: [UInt8]
    var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    public init(keyBytes: [UInt8]) throws {
        guard keyBytes.count == 32 else { throw SecretBoxError.badKey }
        self.keyBytes = keyBytes
    }

    public static func generateKeyBytes() -> [UInt8] {
        SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
    }

    public func seal(_ plaintext: String) throws -> String {
        let box = try AES.GCM.seal(Array(plaintext.utf8), using: key)
        guard let combined = box.combined else { throw SecretBoxError.cannotSeal }
        return "v1:" + base64URLEncode(Array(combined))
    }

    public func open(_ stored: String) throws -> String {
        guard stored.hasPrefix("v1:"), let bytes = base64URLDecode(String(stored.dropFirst(3))) else { throw SecretBoxError.notSealed }
        let plain = try AES.GCM.open(try AES.GCM.SealedBox(combined: bytes), using: key)
        return String(decoding: plain, as: UTF8.self)
    }

    /// A key written as base64url (the `HANDOVER_MASTER_KEY` and key-file form).
    public static func decodeKey(_ text: String) -> [UInt8]? { base64URLDecode(text.trimmingWhitespace()) }
    public static func encodeKey(_ bytes: [UInt8]) -> String { base64URLEncode(bytes) }
}

public enum SecretBoxError: Error, Sendable { case badKey, cannotSeal, notSealed }
