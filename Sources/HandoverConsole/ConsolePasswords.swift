import HandoverCore
import HandoverStore
import HummingbirdBcrypt
import NIOPosix

/// Passwords for console accounts: bcrypt, hashed and checked on NIO's thread pool so a sign-in never
/// holds an event loop for the quarter-second bcrypt takes.
public enum ConsolePasswords {
    /// bcrypt's cost: 2^12 rounds, about a quarter of a second here.
    public static let cost: UInt8 = 12
    public static let minimumLength = 12
    public static let maximumLength = 128
    /// A valid hash of nothing anyone types, checked when the email is unknown so an unknown email
    /// takes as long as a wrong password.
    static let decoy = Bcrypt.hash("decoy-\(randomHex(bytes: 16))", cost: cost)

    public static func hash(_ password: String) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public static func verify(_ password: String, hash: String?) async throws -> Bool {
        // bcrypt reads at most 72 bytes; longer inputs are refused before they reach it.
        guard password.utf8.count <= maximumLength else { return false }
        // An account that signs in through its organisation has no password: check the decoy, refuse.
        let usable = hash.map { !$0.isEmpty } ?? false
        let checked = usable ? hash ?? decoy : decoy
        let matches = try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: checked) }
        return usable && matches
    }

    /// A one-time password: 16 characters from an alphabet without look-alikes (about 80 bits).
    public static func generateOneTime() -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var rng = SystemRandomNumberGenerator()
        return String((0..<16).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] })
    }

    /// Why a chosen password is refused, or nil.
    public static func problem(with password: String, confirmation: String, email: String) -> String? {
        if password != confirmation { return "The two passwords are not the same." }
        if password.count < minimumLength { return "Use at least \(minimumLength) characters." }
        if password.utf8.count > 72 { return "Use at most 72 bytes (bcrypt reads no more)." }
        if password.lowercased() == email.lowercased() { return "Do not use your email address as your password." }
        return nil
    }
}

/// Creating console accounts, the same for `handover console user create` and the first start: a
/// one-time password (changed at first sign-in) and a TOTP secret sealed with the master key.
public enum ConsoleAccounts {
    public struct Created: Sendable {
        public var user: ConsoleUser
        public var oneTimePassword: String
        public var totpURI: String
    }

    public static func create(
        _ user: ConsoleUser, store: any ConsoleStore, secrets: SecretBox, actor: String, now: Timestamp
    ) async throws -> Created {
        if let problem = user.problems().first { throw problem }
        let password = ConsolePasswords.generateOneTime()
        let secret = TOTP.generateSecret()
        var user = user
        user.mustChangePassword = true
        let created = try await store.createConsoleUser(
            user, passwordHash: try await ConsolePasswords.hash(password),
            sealedTOTPSecret: try secrets.seal(Base32.encode(secret), boundTo: "console:" + user.email), actor: actor, now: now)
        return Created(user: created, oneTimePassword: password, totpURI: TOTP.provisioningURI(secret: secret, account: user.email))
    }

    /// The account's TOTP secret, opened with the master key.
    static func totpSecret(_ account: ConsoleAccount, secrets: SecretBox) throws -> [UInt8] {
        guard let secret = Base32.decode(try secrets.open(account.sealedTOTPSecret, boundTo: "console:" + account.user.email)) else {
            throw SecretBoxError.notSealed
        }
        return secret
    }
}
