import HandoverCore

/// Console accounts and sessions, kept in the store so every instance on one PostgreSQL database
/// shares them (a person signed in through one replica stays signed in through another).
public protocol ConsoleStore: Sendable {
    /// Creates an account; throws `ConsoleUserProblem.duplicateEmail` if the email is taken.
    func createConsoleUser(
        _ user: ConsoleUser, passwordHash: String, sealedTOTPSecret: String, actor: String, now: Timestamp
    ) async throws
        -> ConsoleUser
    func consoleAccount(email: String) async throws -> ConsoleAccount?
    func consoleUser(id: Int64) async throws -> ConsoleUser?
    func consoleUsers() async throws -> [ConsoleUser]
    /// Sets a new password; `mustChange` marks a one-time password. Audited.
    func setConsolePassword(userID: Int64, passwordHash: String, mustChange: Bool, actor: String, now: Timestamp) async throws
    /// Disables an account and ends its sessions. False if no enabled account has that email.
    func disableConsoleUser(email: String, actor: String, now: Timestamp) async throws -> Bool
    /// Records a TOTP time step as used; false if that step or a later one was used already, so a
    /// code is never accepted twice (on any instance).
    func spendTOTPStep(userID: Int64, step: Int64) async throws -> Bool

    func createConsoleSession(_ session: ConsoleSession) async throws
    /// The session and its user, if the session exists and the user is enabled.
    func consoleSession(idHash: String) async throws -> (session: ConsoleSession, user: ConsoleUser)?
    /// Moves a session on (sign-in step done, or a request seen).
    func updateConsoleSession(idHash: String, stage: ConsoleSession.Stage, lastSeenAt: Timestamp) async throws
    func deleteConsoleSession(idHash: String) async throws
    /// An OpenID Connect sign-in under way: its `state` (hashed), `nonce` and PKCE verifier, held
    /// here rather than in a cookie, and older requests (before `forgetBefore`) dropped.
    func saveOIDCRequest(stateHash: String, nonce: String, verifier: String, now: Timestamp, forgetBefore: Timestamp) async throws
    /// Takes a request once: a replayed callback finds nothing.
    func takeOIDCRequest(stateHash: String) async throws -> (nonce: String, verifier: String, createdAt: Timestamp)?
    /// Creates or updates the account of a person the identity provider vouched for: name, roles and
    /// scope come from their claims at every sign-in. A disabled account stays disabled.
    func upsertOIDCUser(_ user: ConsoleUser, now: Timestamp) async throws -> ConsoleUser

    /// Deletes sessions not seen since `before`; returns how many.
    func deleteConsoleSessions(lastSeenBefore before: Timestamp) async throws -> Int
}
