import Foundation
import HandoverCore
import HandoverStore

/// Numbered migrations, applied in order under an advisory lock so instances starting together
/// migrate once. The tables mirror the SQLite schema; PostgreSQL adds the shared replay cache.
enum PostgresSchema {
    static let migrations: [(id: String, sql: String)] = [
        (
            "001-messages",
            """
            CREATE SEQUENCE inbox_sequence;
            CREATE TABLE messages (
                seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                message_id TEXT NOT NULL UNIQUE,
                message_type TEXT NOT NULL CHECK (message_type IN ('DATA', 'REPORT')),
                sender TEXT,
                recipient TEXT NOT NULL,
                workflow_id TEXT NOT NULL,
                subject TEXT, local_id TEXT, partner_id TEXT, file_name TEXT, checksum TEXT, content_type TEXT,
                content_encoding TEXT NOT NULL CHECK (content_encoding IN ('', 'gzip')),
                content_compressed BOOLEAN, content_encrypted BOOLEAN,
                total_chunks BIGINT NOT NULL CHECK (total_chunks >= 0),
                received_chunks BIGINT NOT NULL,
                file_size BIGINT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('uploading', 'accepted', 'acknowledged', 'undeliverable', 'error')),
                status_code TEXT, status_event TEXT, status_description TEXT, status_success BOOLEAN, status_at BIGINT,
                linked_message_id TEXT,
                created_at BIGINT NOT NULL,
                delivered_at BIGINT,
                acknowledged_at BIGINT,
                expires_at BIGINT,
                expiry_seconds BIGINT NOT NULL,
                inbox_seq BIGINT UNIQUE,
                route_by TEXT, route_address TEXT, route_service TEXT, route_version BIGINT,
                payload_purged BOOLEAN NOT NULL DEFAULT FALSE,
                downloaded_at BIGINT,
                responsibility_required BOOLEAN NOT NULL DEFAULT FALSE,
                responsibility TEXT,
                escalation_policy TEXT,
                deadlines_planned BOOLEAN NOT NULL DEFAULT TRUE
            );
            CREATE INDEX messages_inbox ON messages (recipient, inbox_seq) WHERE status = 'accepted';
            CREATE INDEX messages_expiry ON messages (expires_at) WHERE status = 'accepted';
            CREATE INDEX messages_purge ON messages (delivered_at) WHERE NOT payload_purged;
            CREATE INDEX messages_sender_local ON messages (sender, local_id);
            CREATE INDEX messages_created ON messages (created_at);
            CREATE INDEX messages_unplanned ON messages (seq) WHERE NOT deadlines_planned;
            CREATE TABLE chunks (
                message_id TEXT NOT NULL REFERENCES messages (message_id) ON DELETE CASCADE,
                chunk_no BIGINT NOT NULL CHECK (chunk_no >= 1),
                upload_id TEXT NOT NULL UNIQUE,
                size BIGINT NOT NULL,
                segment_count BIGINT NOT NULL,
                sha256 TEXT NOT NULL,
                PRIMARY KEY (message_id, chunk_no)
            );
            CREATE TABLE segments (
                upload_id TEXT NOT NULL,
                idx BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                data BYTEA NOT NULL,
                PRIMARY KEY (upload_id, idx)
            );
            CREATE INDEX segments_created ON segments (created_at);
            CREATE TABLE inbox_counts (mailbox TEXT PRIMARY KEY, accepted BIGINT NOT NULL CHECK (accepted >= 0));
            """
        ),
        (
            "002-directory-admin-audit",
            """
            CREATE TABLE directory_versions (
                version BIGINT PRIMARY KEY CHECK (version >= 1),
                created_at BIGINT NOT NULL,
                actor TEXT NOT NULL,
                document TEXT NOT NULL,
                changes TEXT NOT NULL
            );
            CREATE TABLE admin_tokens (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                name TEXT NOT NULL,
                role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
                token_hash TEXT NOT NULL UNIQUE,
                created_at BIGINT NOT NULL
            );
            CREATE TABLE mailbox_passwords (
                mailbox TEXT PRIMARY KEY,
                password TEXT NOT NULL,
                set_at BIGINT NOT NULL,
                set_by TEXT NOT NULL
            );
            CREATE TABLE audit_log (
                seq BIGINT PRIMARY KEY,
                at BIGINT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                subject TEXT NOT NULL,
                detail TEXT NOT NULL,
                prev_hash TEXT NOT NULL,
                entry_hash TEXT NOT NULL
            );
            """
        ),
        (
            "003-responsibility-escalation",
            """
            CREATE TABLE message_events (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                message_id TEXT NOT NULL,
                at BIGINT NOT NULL,
                kind TEXT NOT NULL,
                detail TEXT NOT NULL
            );
            CREATE INDEX message_events_message ON message_events (message_id, id);
            CREATE TABLE deadlines (
                message_id TEXT NOT NULL,
                stage BIGINT NOT NULL,
                due_at BIGINT NOT NULL,
                state TEXT NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'fired', 'skipped')),
                PRIMARY KEY (message_id, stage)
            );
            CREATE INDEX deadlines_due ON deadlines (due_at) WHERE state = 'scheduled';
            CREATE TABLE alerts (
                id TEXT PRIMARY KEY,
                message_id TEXT NOT NULL,
                stage BIGINT NOT NULL,
                policy TEXT NOT NULL,
                workflow_id TEXT NOT NULL,
                condition TEXT NOT NULL,
                due_at BIGINT NOT NULL,
                raised_at BIGINT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
                acknowledged_by TEXT, acknowledged_note TEXT, acknowledged_at BIGINT,
                resolved_at BIGINT, resolved_reason TEXT,
                notify_count BIGINT NOT NULL,
                last_notified_at BIGINT NOT NULL,
                next_notify_at BIGINT,
                UNIQUE (message_id, stage)
            );
            CREATE INDEX alerts_repeat ON alerts (next_notify_at) WHERE state = 'open';
            CREATE INDEX alerts_state ON alerts (state, raised_at);
            CREATE TABLE webhook_deliveries (
                id TEXT PRIMARY KEY,
                alert_id TEXT NOT NULL,
                webhook_id TEXT NOT NULL,
                body TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                attempts BIGINT NOT NULL DEFAULT 0,
                next_attempt_at BIGINT NOT NULL,
                claimed_until BIGINT NOT NULL DEFAULT 0,
                state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'abandoned'))
            );
            CREATE INDEX webhook_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
            CREATE TABLE webhook_attempts (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                delivery_id TEXT NOT NULL,
                at BIGINT NOT NULL,
                status BIGINT,
                error TEXT
            );
            CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);
            """
        ),
        (
            "004-replay-cache",
            """
            CREATE TABLE replay_tokens (digest TEXT PRIMARY KEY, expires_at BIGINT NOT NULL);
            CREATE INDEX replay_tokens_expiry ON replay_tokens (expires_at);
            """
        ),
        (
            "005-audit-pending",
            """
            CREATE TABLE audit_pending (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                at BIGINT NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                subject TEXT NOT NULL,
                detail TEXT NOT NULL
            );
            """
        ),
        (
            "006-admin-token-lifetimes",
            """
            ALTER TABLE admin_tokens ADD COLUMN expires_at BIGINT;
            ALTER TABLE admin_tokens ADD COLUMN revoked_at BIGINT;
            CREATE TABLE store_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE INDEX messages_uploading ON messages (created_at) WHERE status = 'uploading';
            """
        ),
        (
            "007-alert-notices",
            """
            ALTER TABLE alerts ADD COLUMN resolved_by TEXT;
            CREATE TABLE alert_notices (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                alert_id TEXT NOT NULL,
                kind TEXT NOT NULL CHECK (kind IN ('acknowledged', 'resolved')),
                detail TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                sent BOOLEAN NOT NULL DEFAULT FALSE
            );
            CREATE INDEX alert_notices_pending ON alert_notices (id) WHERE NOT sent;
            """
        ),
        (
            "008-crossings",
            """
            ALTER TABLE messages ADD COLUMN crossing TEXT;
            ALTER TABLE messages ADD COLUMN fhir_message_id TEXT;
            ALTER TABLE messages ADD COLUMN crossing_closed_at BIGINT;
            CREATE INDEX messages_crossing_closed ON messages (crossing_closed_at) WHERE crossing_closed_at IS NOT NULL;
            CREATE INDEX messages_fhir_message_id ON messages (fhir_message_id) WHERE fhir_message_id IS NOT NULL;
            """
        ),
        (
            "009-scorecard",
            """
            CREATE TABLE crossing_facts (
                message_id TEXT PRIMARY KEY,
                sender_org TEXT NOT NULL, receiver_org TEXT NOT NULL, workflow TEXT NOT NULL, created_at BIGINT NOT NULL,
                identity DOUBLE PRECISION NOT NULL, consent INTEGER NOT NULL, provenance INTEGER NOT NULL, intent INTEGER NOT NULL,
                for_information INTEGER NOT NULL, routing INTEGER NOT NULL, outcome INTEGER NOT NULL,
                accept_by BIGINT, accepted_at BIGINT, secs_to_accept BIGINT, secs_to_outcome BIGINT
            );
            CREATE INDEX crossing_facts_boundary ON crossing_facts (sender_org, receiver_org, workflow, created_at);
            """
        ),
        ("010-scorecard-days", ScorecardSQL.aggregatesSchema(.postgres).joined(separator: ";\n")),
        // The rich inbox and outbox: a mailbox's messages by creation time, whatever their status.
        (
            "011-rich-listings",
            """
            CREATE INDEX messages_received ON messages (recipient, created_at);
            CREATE INDEX messages_sent ON messages (sender, created_at)
            """
        ),
        ("012-console", ConsoleSchema.postgres),
        // Who a duty team handed an alert to; acknowledgements that lapse (their lapse time kept in next_notify_at).
        (
            "013-alert-assignment",
            """
            ALTER TABLE alerts ADD COLUMN assigned_to TEXT;
            ALTER TABLE alerts ADD COLUMN assigned_at BIGINT;
            CREATE INDEX alerts_lapse ON alerts (next_notify_at) WHERE state = 'acknowledged'
            """
        ),
        // Directory edits to safeguarding workflows waiting for a second admin.
        ("014-directory-proposals", DirectoryProposalSchema.postgres),
        // Only messages that carry a local id are looked up by it: one index insert fewer per send.
        ("015-local-id-index", MessageIndexes.localIDPartial),
        // Small bodies in their chunk's row (`StagedChunk.rowInlineLimit`); older ones stay in segments.
        ("016-chunk-data", "ALTER TABLE chunks ADD COLUMN data BYTEA"),
        // New facts rows reach the day sums once per statement (a batch of deliveries is one statement).
        ("017-day-sums-per-statement", ScorecardSQL.postgresInsertsPerStatement),
        // Only delivered messages wait for their payload to be purged: a send writes no purge entry.
        ("018-purge-index", MessageIndexes.purgeDelivered(notPurged: "NOT payload_purged")),
    ]

    /// A migration's statements: split at semicolons, except inside a `$$`-quoted function body.
    static func statements(_ sql: String) -> [String] {
        var statements: [String] = [], current = ""
        for piece in sql.split(separator: ";", omittingEmptySubsequences: false) {
            current += current.isEmpty ? String(piece) : ";" + piece
            if current.components(separatedBy: "$$").count % 2 == 1 {
                statements.append(current)
                current = ""
            }
        }
        return (statements + [current]).map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
    }

    static func migrate(_ store: PostgresStore) async throws {
        try await store.write { tx in
            try await tx.execute("SELECT pg_advisory_xact_lock(\(AdvisoryLock.migrations))")
            try await tx.execute("CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            let applied = Set(try await tx.rows("SELECT id FROM schema_migrations").map { try $0("id", as: String.self) })
            for migration in migrations where !applied.contains(migration.id) {
                // One statement at a time: the extended protocol takes a single statement per query.
                for statement in statements(migration.sql) {
                    try await tx.execute(statement)
                }
                try await tx.execute("INSERT INTO schema_migrations (id) VALUES ($1)", [migration.id])
            }
        }
    }
}
