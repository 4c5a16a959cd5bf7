import Crypto

/// The `NHSMESH` Authorization token (reference §3): `NHSMESH MAILBOX:nonce:count:yyyyMMddHHmm:hmac`.
public struct MeshAuthToken: Hashable, Sendable {
    public let mailbox: String
    public let nonce: String
    public let nonceCount: String
    public let timestamp: String
    public let hash: String

    public init(mailbox: String, nonce: String, nonceCount: String, timestamp: String, hash: String) {
        (self.mailbox, self.nonce, self.nonceCount, self.timestamp, self.hash) = (mailbox, nonce, nonceCount, timestamp, hash)
    }

    public enum ParseFailure: Error, Equatable { case missing, malformed }

    /// Parses as the sandbox does: the `NHSMESH` prefix is case-insensitive and optional, and exactly
    /// five `:`-separated parts are required with a numeric count.
    public static func parse(_ header: String?) -> Result<MeshAuthToken, ParseFailure> {
        guard let header, !isBlank(header) else { return .failure(.missing) }
        let bytes = header.utf8
        let rest = hasSchemePrefix(header) ? bytes.dropFirst(8) : bytes[...]
        // Cut at the byte ':', not at Characters (grapheme breaking on every request showed in a
        // profile), by index: no array of parts is made. Exactly four colons.
        func colon(from: String.Index) -> String.Index? { rest[from...].firstIndex(of: UInt8(ascii: ":")) }
        func after(_ cut: String.Index) -> String.Index { bytes.index(after: cut) }
        guard let first = colon(from: rest.startIndex), let second = colon(from: after(first)), let third = colon(from: after(second)),
            let fourth = colon(from: after(third)), colon(from: after(fourth)) == nil
        else { return .failure(.malformed) }
        func text(_ from: String.Index, _ to: String.Index) -> String { String(Substring(bytes[from..<to])) }
        return .success(
            MeshAuthToken(
                mailbox: text(rest.startIndex, first), nonce: text(after(first), second), nonceCount: text(after(second), third),
                timestamp: text(after(third), fourth), hash: text(after(fourth), rest.endIndex)))
    }

    /// Both checks read bytes: counting Characters and uppercasing, on every request, cost about 1 %
    /// of a send in a profile.
    static func isBlank(_ header: String) -> Bool {
        // Printable ASCII other than space is never whitespace; only otherwise ask Unicode.
        !header.utf8.contains { $0 > 0x20 && $0 < 0x7F } && header.trimmingWhitespace().isEmpty
    }

    /// "NHSMESH" in any case and one more ASCII character (the space), which the caller drops.
    static func hasSchemePrefix(_ header: String) -> Bool {
        let bytes = header.utf8
        guard bytes.count >= 8, bytes[bytes.index(bytes.startIndex, offsetBy: 7)] < 0x80 else { return false }
        return header.hasASCIIPrefixIgnoringCase("nhsmesh")
    }

    /// The lowercase hex HMAC-SHA256 that a client with this password would send.
    public static func expectedHash(
        mailbox: String, nonce: String, nonceCount: String, password: String, timestamp: String, sharedKey: String
    ) -> String {
        expectedHash(
            mailbox: mailbox, nonce: nonce, nonceCount: nonceCount, password: password, timestamp: timestamp, keyed: keyed(sharedKey))
    }

    /// An HMAC with the shared key's pads already hashed: two of the four SHA-256 blocks of a check.
    static func keyed(_ sharedKey: String) -> HMAC<SHA256> { HMAC<SHA256>(key: SymmetricKey(data: Array(sharedKey.utf8))) }

    /// The same from a keyed HMAC made once (the verifier keeps it): `mailbox:nonce:count:password:timestamp`.
    /// `keyed` is copied, never changed: its hashers copy their state on their first write.
    static func expectedHash(
        mailbox: String, nonce: String, nonceCount: String, password: String, timestamp: String, keyed: HMAC<SHA256>
    ) -> String {
        hexString(mac(mailbox: mailbox, nonce: nonce, nonceCount: nonceCount, password: password, timestamp: timestamp, keyed: keyed))
    }

    /// The HMAC itself, of `mailbox:nonce:count:password:timestamp` in one buffer.
    static func mac(
        mailbox: String, nonce: String, nonceCount: String, password: String, timestamp: String, keyed: HMAC<SHA256>
    ) -> HMAC<SHA256>.MAC {
        var message: [UInt8] = []
        message.reserveCapacity(mailbox.utf8.count + nonce.utf8.count + nonceCount.utf8.count + password.utf8.count + timestamp.utf8.count + 4)
        func add(_ part: String, colonFirst: Bool = true) {
            if colonFirst { message.append(UInt8(ascii: ":")) }
            message.append(contentsOf: part.utf8)
        }
        add(mailbox, colonFirst: false)
        add(nonce)
        add(nonceCount)
        add(password)
        add(timestamp)
        var mac = keyed
        mac.update(data: message)
        return mac.finalize()
    }

    /// Whether `hex` (any case) spells `mac`, comparing every digit whatever the first difference: a
    /// check that returned at the first wrong digit would tell a forger how many were right. Reads
    /// the bytes in place (lowercasing the token's text and spelling the MAC as text were four
    /// allocations a request).
    static func hex(_ hex: String, spells mac: HMAC<SHA256>.MAC) -> Bool {
        var digits = hex.utf8.makeIterator()
        var difference: UInt8 = 0
        for byte in mac {
            guard let high = digits.next(), let low = digits.next() else { return false }
            difference |= (asciiLowercase(high) ^ hexDigit(byte >> 4)) | (asciiLowercase(low) ^ hexDigit(byte & 15))
        }
        return digits.next() == nil && difference == 0
    }

    private static func asciiLowercase(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    /// Makes a header value, for clients and tests.
    public static func header(mailbox: String, password: String, sharedKey: String, nonce: String, nonceCount: Int, timestamp: String) -> String {
        MeshTokenSigner(sharedKey: sharedKey).header(mailbox: mailbox, password: password, nonce: nonce, nonceCount: nonceCount, timestamp: timestamp)
    }
}

/// Makes header values with one shared key whose HMAC is keyed once, for a client that signs every
/// request (the load generator): each token then hashes two SHA-256 blocks, not four.
public struct MeshTokenSigner: Sendable {
    let key: MeshTokenVerifier.SharedKey

    public init(sharedKey: String) { key = .init(keyed: MeshAuthToken.keyed(sharedKey)) }

    public func header(mailbox: String, password: String, nonce: String, nonceCount: Int, timestamp: String) -> String {
        let hash = MeshAuthToken.expectedHash(
            mailbox: mailbox, nonce: nonce, nonceCount: String(nonceCount), password: password, timestamp: timestamp, keyed: key.keyed)
        return "NHSMESH \(mailbox):\(nonce):\(nonceCount):\(timestamp):\(hash)"
    }
}

/// Why a token was refused. The text is the sandbox's, byte for byte; it never carries the token.
public enum MeshAuthFailure: Error, Equatable, Sendable {
    case missingHeader
    case malformedHeader
    case mailboxMismatch
    case unknownMailbox
    case inactiveMailbox
    case invalidToken
    /// The mailbox's password variable is unset (and no password was rotated): nobody can log in.
    case passwordNotSet
    case staleTimestamp
    case replayed

    public var message: String {
        switch self {
        case .missingHeader, .malformedHeader: "Error reading from Authorization header"
        case .mailboxMismatch: "Mailbox id does not match token"
        case .unknownMailbox: "No mailbox matched"
        case .inactiveMailbox, .invalidToken, .passwordNotSet, .staleTimestamp, .replayed: "Invalid Authentication Token"
        }
    }

    /// A short cause for logs (the client sees `message`, which deliberately does not say which check failed).
    public var logCause: String {
        switch self {
        case .missingHeader: "missing authorization header"
        case .malformedHeader: "malformed authorization header"
        case .mailboxMismatch: "token mailbox differs from path"
        case .unknownMailbox: "unknown mailbox"
        case .inactiveMailbox: "mailbox inactive"
        case .invalidToken: "hmac mismatch"
        case .passwordNotSet: "password not set (the mailbox's password variable is unset; set it or rotate the password)"
        case .staleTimestamp: "timestamp outside the allowed skew"
        case .replayed: "token replayed"
        }
    }
}

/// Checks a token against the directory's credentials, as real MESH does: HMAC compared in constant
/// time, timestamp within the skew window, inactive mailboxes refused. Replay is checked separately,
/// by `TokenReplayGuard`, after the token is proved genuine (so forged tokens cannot fill the cache).
public struct MeshTokenVerifier: Sendable {
    public let maxSkewSeconds: Int64
    /// The shared key as a keyed HMAC, made once rather than on every request.
    let key: SharedKey

    /// `HMAC` is not marked Sendable, but this one is never written: each check works on a copy, and
    /// the copy's hashers copy their state before their first write, so one serves every request.
    struct SharedKey: @unchecked Sendable {
        let keyed: HMAC<SHA256>
    }

    public init(sharedKey: String, maxSkewSeconds: Int64 = 2 * 3600) {
        self.maxSkewSeconds = maxSkewSeconds
        key = SharedKey(keyed: MeshAuthToken.keyed(sharedKey))
    }

    /// Verifies `header` for the mailbox in the path. `credentials` returns (password, active) for a mailbox.
    public func verify(
        header: String?, pathMailbox: MailboxID, now: Timestamp,
        credentials: (MailboxID) -> (password: String?, active: Bool)?
    ) -> Result<MeshAuthToken, MeshAuthFailure> {
        let token: MeshAuthToken
        switch MeshAuthToken.parse(header) {
        case .failure(.missing): return .failure(.missingHeader)
        case .failure: return .failure(.mailboxMismatch)
        case .success(let t): token = t
        }
        guard token.mailbox == pathMailbox.rawValue else { return .failure(.mailboxMismatch) }
        // Bytes again: a space anywhere, a count of ASCII digits only.
        guard !token.mailbox.utf8.contains(UInt8(ascii: " ")), !token.nonceCount.isEmpty,
            token.nonceCount.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return .failure(.malformedHeader) }
        guard let creds = credentials(pathMailbox) else { return .failure(.unknownMailbox) }
        guard let password = creds.password else { return .failure(.passwordNotSet) }
        let expected = MeshAuthToken.mac(
            mailbox: token.mailbox, nonce: token.nonce, nonceCount: token.nonceCount,
            password: password, timestamp: token.timestamp, keyed: key.keyed)
        guard MeshAuthToken.hex(token.hash, spells: expected) else { return .failure(.invalidToken) }
        guard creds.active else { return .failure(.inactiveMailbox) }
        guard let issued = Timestamp.parseTokenMinute(Substring(token.timestamp)),
            abs(issued.secondsSinceEpoch - now.secondsSinceEpoch) <= maxSkewSeconds
        else { return .failure(.staleTimestamp) }
        return .success(token)
    }
}

/// Compares two strings in time that depends only on their lengths.
public func constantTimeEqual(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    guard x.count == y.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<x.count { diff |= x[i] ^ y[i] }
    return diff == 0
}
