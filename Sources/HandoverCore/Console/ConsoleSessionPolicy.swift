/// How long a console session lives. Idle sessions end after `idleSeconds`; every session ends
/// `absoluteSeconds` after sign-in however busy. Pages warn `warningSeconds` before the idle end, so a
/// person can stay signed in without losing what they typed (WCAG 2.2.1).
public struct ConsoleSessionPolicy: Sendable, Hashable {
    public var idleSeconds: Int64 = 30 * 60
    public var absoluteSeconds: Int64 = 12 * 3600
    public var warningSeconds: Int64 = 5 * 60
    /// A session between password and code (or password and new password) lasts this long.
    public var signInStepSeconds: Int64 = 5 * 60

    public init() {}

    public func isLive(_ session: ConsoleSession, now: Timestamp) -> Bool {
        let idle = session.stage == .active ? idleSeconds : signInStepSeconds
        return now < session.lastSeenAt.adding(seconds: idle) && now < session.createdAt.adding(seconds: absoluteSeconds)
    }
}

/// A console session as the store keeps it: the id only as its SHA-256.
public struct ConsoleSession: Sendable, Hashable {
    /// Where the person is in signing in. Only `active` sessions open pages.
    public enum Stage: String, Sendable, Hashable, CaseIterable {
        /// Password accepted; the TOTP code is next.
        case awaitingCode = "awaiting-code"
        /// Both factors accepted with a one-time password; a new password is next.
        case mustChangePassword = "must-change-password"
        case active
    }

    public var idHash: String
    public var userID: Int64
    public var stage: Stage
    /// The token every form of this session carries.
    public var csrfToken: String
    public var createdAt: Timestamp
    public var lastSeenAt: Timestamp

    public init(idHash: String, userID: Int64, stage: Stage, csrfToken: String, createdAt: Timestamp, lastSeenAt: Timestamp) {
        (self.idHash, self.userID, self.stage, self.csrfToken, self.createdAt, self.lastSeenAt) = (
            idHash, userID, stage, csrfToken, createdAt, lastSeenAt
        )
    }
}
