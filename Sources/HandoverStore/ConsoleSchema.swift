/// The console's tables: one definition, spelled for each backend, so the two cannot drift. Sessions and
/// OpenID sign-in requests are keyed by the SHA-256 of their id or `state`: a copy of the database
/// does not sign anyone in.
public enum ConsoleSchema {
    public static let sqlite = tables(id: "INTEGER PRIMARY KEY", boolean: "INTEGER", integer: "INTEGER")
    public static let postgres = tables(id: "BIGSERIAL PRIMARY KEY", boolean: "BOOLEAN", integer: "BIGINT")

    /// One definition, spelled for each backend (times are microseconds since the epoch on both).
    static func tables(id: String, boolean: String, integer: String) -> String {
        """
        CREATE TABLE console_users (
            id \(id),
            email TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            roles TEXT NOT NULL,
            organisations TEXT NOT NULL,
            mailboxes TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            must_change_password \(boolean) NOT NULL,
            totp_secret TEXT NOT NULL,
            totp_last_step \(integer) NOT NULL DEFAULT -1,
            disabled_at \(integer),
            created_at \(integer) NOT NULL
        );
        CREATE TABLE console_sessions (
            id_hash TEXT PRIMARY KEY,
            user_id \(integer) NOT NULL REFERENCES console_users (id),
            stage TEXT NOT NULL CHECK (stage IN ('awaiting-code', 'must-change-password', 'active')),
            csrf_token TEXT NOT NULL,
            created_at \(integer) NOT NULL,
            last_seen_at \(integer) NOT NULL
        );
        CREATE INDEX console_sessions_seen ON console_sessions (last_seen_at);
        CREATE INDEX console_sessions_user ON console_sessions (user_id);
        CREATE TABLE console_oidc_requests (
            state_hash TEXT PRIMARY KEY,
            nonce TEXT NOT NULL,
            verifier TEXT NOT NULL,
            created_at \(integer) NOT NULL
        );
        """
    }
}
