/// The console's tables, one definition per backend side by side so they stay alike. Sessions and
/// OpenID sign-in requests are keyed by the SHA-256 of their id or `state`: a copy of the database
/// does not sign anyone in.
public enum ConsoleSchema {
    public static let sqlite = """
        CREATE TABLE console_users (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            roles TEXT NOT NULL,
            organisations TEXT NOT NULL,
            mailboxes TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            must_change_password INTEGER NOT NULL,
            totp_secret TEXT NOT NULL,
            totp_last_step INTEGER NOT NULL DEFAULT -1,
            disabled_at INTEGER,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE console_sessions (
            id_hash TEXT PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES console_users (id),
            stage TEXT NOT NULL CHECK (stage IN ('awaiting-code', 'must-change-password', 'active')),
            csrf_token TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            last_seen_at INTEGER NOT NULL
        );
        CREATE INDEX console_sessions_seen ON console_sessions (last_seen_at);
        CREATE INDEX console_sessions_user ON console_sessions (user_id);
        CREATE TABLE console_oidc_requests (
            state_hash TEXT PRIMARY KEY,
            nonce TEXT NOT NULL,
            verifier TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        """

    public static let postgres = """
        CREATE TABLE console_users (
            id BIGSERIAL PRIMARY KEY,
            email TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            roles TEXT NOT NULL,
            organisations TEXT NOT NULL,
            mailboxes TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            must_change_password BOOLEAN NOT NULL,
            totp_secret TEXT NOT NULL,
            totp_last_step BIGINT NOT NULL DEFAULT -1,
            disabled_at BIGINT,
            created_at BIGINT NOT NULL
        );
        CREATE TABLE console_sessions (
            id_hash TEXT PRIMARY KEY,
            user_id BIGINT NOT NULL REFERENCES console_users (id),
            stage TEXT NOT NULL CHECK (stage IN ('awaiting-code', 'must-change-password', 'active')),
            csrf_token TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            last_seen_at BIGINT NOT NULL
        );
        CREATE INDEX console_sessions_seen ON console_sessions (last_seen_at);
        CREATE INDEX console_sessions_user ON console_sessions (user_id);
        CREATE TABLE console_oidc_requests (
            state_hash TEXT PRIMARY KEY,
            nonce TEXT NOT NULL,
            verifier TEXT NOT NULL,
            created_at BIGINT NOT NULL
        );
        """
}
