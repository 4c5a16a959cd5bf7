import Crypto

/// Time-based one-time passwords (RFC 6238 over RFC 4226): HMAC-SHA1, six digits, 30-second steps,
/// the parameters every authenticator app assumes. `now` is a parameter, so the window is tested
/// without waiting.
public enum TOTP {
    public static let stepSeconds: Int64 = 30
    public static let digits = 6

    /// A new random 20-byte secret (the RFC's recommended length for SHA-1).
    public static func generateSecret() -> [UInt8] {
        var rng = SystemRandomNumberGenerator()
        return (0..<20).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    public static func counter(at now: Timestamp) -> Int64 { now.microsecondsSinceEpoch / 1_000_000 / stepSeconds }

    /// The code for one time step, zero-padded.
    public static func code(secret: [UInt8], counter: Int64) -> String {
        var message = [UInt8](repeating: 0, count: 8)
        for i in 0..<8 { message[7 - i] = UInt8(truncatingIfNeeded: UInt64(bitPattern: counter) >> (8 * UInt64(i))) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0f)
        let binary =
            (UInt32(mac[offset] & 0x7f) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        let value = binary % 1_000_000
        let text = String(value)
        return String(repeating: "0", count: digits - text.count) + text
    }

    /// The time step a typed code belongs to, accepting one step either side for clock drift, or
    /// nil. The caller must still refuse a step at or before the last one used (a code is never
    /// accepted twice).
    public static func matchingCounter(code typed: String, secret: [UInt8], now: Timestamp, window: Int64 = 1) -> Int64? {
        let code = typed.filter { !$0.isWhitespace }
        guard code.count == digits, code.allSatisfy(\.isASCII), code.allSatisfy(\.isNumber) else { return nil }
        let current = counter(at: now)
        for step in (current - window)...(current + window) where constantTimeEqual(Self.code(secret: secret, counter: step), code) {
            return step
        }
        return nil
    }

    /// The `otpauth://` URI an authenticator app reads (usually as a QR code).
    public static func provisioningURI(secret: [UInt8], account: String, issuer: String = "Handover") -> String {
        let label = percentEncode(issuer) + ":" + percentEncode(account)
        return "otpauth://totp/\(label)?secret=\(Base32.encode(secret))&issuer=\(percentEncode(issuer))&algorithm=SHA1&digits=6&period=30"
    }

    static func percentEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(Unicode.Scalar(byte))
            if c.isASCII && (c.isLetter || c.isNumber || "-._~@".contains(c)) { out.append(c) } else { out += "%" + hexString([byte]).uppercased() }
        }
        return out
    }
}

/// RFC 4648 base32 without padding, as authenticator apps take TOTP secrets.
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")

    public static func encode(_ bytes: [UInt8]) -> String {
        var out = ""
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | UInt32(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return out
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for c in text.uppercased() where c != "=" && !c.isWhitespace {
            guard let value = alphabet.firstIndex(of: c) else { return nil }
            buffer = (buffer << 5) | UInt32(value)
            bits += 5
            if bits >= 8 {
                out.append(UInt8((buffer >> UInt32(bits - 8)) & 0xff))
                bits -= 8
            }
        }
        return out
    }
}
