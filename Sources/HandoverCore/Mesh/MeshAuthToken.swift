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
        // Split on the byte ':', not on Characters: grapheme breaking on every request showed in a profile.
        let parts = rest.split(separator: UInt8(ascii: ":"), maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 5 else { return .failure(.malformed) }
        func text(_ index: Int) -> String { String(Substring(parts[index])) }
        return .success(MeshAuthToken(mailbox: text(0), nonce: text(1), nonceCount: text(2), timestamp: text(3), hash: text(4)))
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
        var message: [UInt8] = []
        message.reserveCapacity(mailbox.utf8.count + nonce.utf8.count + nonceCount.utf8.count + password.utf8.count + timestamp.utf8.count + 4)
        for (index, part) in [mailbox, nonce, nonceCount, password, timestamp].enumerated() {
            if index > 0 { message.append(UInt8(ascii: ":")) }
            message.append(contentsOf: part.utf8)
        }
        var mac = keyed
        mac.update(data: message)
        return hexString(mac.finalize())
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
        let expected = MeshAuthToken.expectedHash(
            mailbox: token.mailbox, nonce: token.nonce, nonceCount: token.nonceCount,
            password: password, timestamp: token.timestamp, keyed: key.keyed)
        guard constantTimeEqual(expected, token.hash.lowercased()) else { return .failure(.invalidToken) }
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
