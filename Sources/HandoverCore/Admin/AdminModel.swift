import Crypto

/// Roles of admin API tokens: admins edit the directory; operators also act on alerts and record
/// off-system crossings; viewers read. Each admin route names the least role it needs.
public enum AdminRole: String, Hashable, Sendable, Codable, CaseIterable {
    case admin, `operator`, viewer
}

/// Who an admin request is from.
public struct AdminPrincipal: Hashable, Sendable {
    public var name: String
    public var role: AdminRole
    public init(name: String, role: AdminRole) { (self.name, self.role) = (name, role) }
}

/// An admin token as `handover admin token list` shows it: never the token, only what it is for.
public struct AdminTokenInfo: Hashable, Sendable {
    public var id: Int64
    public var name: String
    public var role: AdminRole
    public var createdAt: Timestamp
    public var expiresAt: Timestamp?
    public var revokedAt: Timestamp?
    public init(id: Int64, name: String, role: AdminRole, createdAt: Timestamp, expiresAt: Timestamp?, revokedAt: Timestamp?) {
        (self.id, self.name, self.role, self.createdAt, self.expiresAt, self.revokedAt) = (id, name, role, createdAt, expiresAt, revokedAt)
    }

    /// Whether the token is accepted at `now`.
    public func isUsable(now: Timestamp) -> Bool { revokedAt == nil && (expiresAt.map { now < $0 } ?? true) }
}

/// Admin tokens are random and stored only as their SHA-256.
public enum AdminTokenFormat {
    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        return "hvt_" + base64URLEncode((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }

    public static func hash(_ token: String) -> String { sha256Hex(Array(token.utf8)) }
}

/// Generated mailbox passwords: 24 random bytes, URL-safe, shown once.
public enum MailboxPasswordFormat {
    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        return base64URLEncode((0..<24).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }
}

public func sha256Hex(_ bytes: [UInt8]) -> String {
    hexString(SHA256.hash(data: bytes))
}
