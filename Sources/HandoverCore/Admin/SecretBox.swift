import Crypto

/// Encrypts secrets the broker must keep in a readable form (rotated mailbox passwords, which the
/// HMAC check needs in the clear) under a master key, with AES-256-GCM. Stored form:
/// `v2:<base64url(nonce | ciphertext | tag)>`, sealed with what it belongs to (the mailbox id) as
/// additional data, so a sealed password copied onto another mailbox's row does not open.
/// `v1:` values (no additional data, from earlier versions) still open.
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

    public func seal(_ plaintext: String, boundTo owner: String) throws -> String {
        let box = try AES.GCM.seal(Array(plaintext.utf8), using: key, authenticating: Array(owner.utf8))
        guard let combined = box.combined else { throw SecretBoxError.cannotSeal }
        return "v2:" + base64URLEncode(Array(combined))
    }

    public func open(_ stored: String, boundTo owner: String) throws -> String {
        guard stored.hasPrefix("v1:") || stored.hasPrefix("v2:"), let bytes = base64URLDecode(String(stored.dropFirst(3))) else {
            throw SecretBoxError.notSealed
        }
        let box = try AES.GCM.SealedBox(combined: bytes)
        let plain = stored.hasPrefix("v2:") ? try AES.GCM.open(box, using: key, authenticating: Array(owner.utf8)) : try AES.GCM.open(box, using: key)
        return String(decoding: plain, as: UTF8.self)
    }

    /// A key written as base64url (the `HANDOVER_MASTER_KEY` and key-file form).
    public static func decodeKey(_ text: String) -> [UInt8]? { base64URLDecode(text.trimmingWhitespace()) }
    public static func encodeKey(_ bytes: [UInt8]) -> String { base64URLEncode(bytes) }
}

public enum SecretBoxError: Error, Sendable { case badKey, cannotSeal, notSealed }
