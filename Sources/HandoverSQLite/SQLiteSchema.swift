import GRDB
import HandoverCore
import HandoverStore

/// Numbered migrations. The schema enforces what it can: unique ids, one inbox position per
/// delivery, valid statuses and types, chunks that belong to a message.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("001-messages") { db in
            try db.execute(
                sql: """
                    CREATE TABLE messages (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        message_id TEXT NOT NULL UNIQUE,
                        message_type TEXT NOT NULL CHECK (message_type IN ('DATA', 'REPORT')),
                        sender TEXT,
                        recipient TEXT NOT NULL,
                        workflow_id TEXT NOT NULL,
                        subject TEXT, local_id TEXT, partner_id TEXT, file_name TEXT, checksum TEXT, content_type TEXT,
                        content_encoding TEXT NOT NULL CHECK (content_encoding IN ('', 'gzip')),
                        content_compressed INTEGER, content_encrypted INTEGER,
                        total_chunks INTEGER NOT NULL CHECK (total_chunks >= 0),
                        received_chunks INTEGER NOT NULL,
                        file_size INTEGER NOT NULL,
                        status TEXT NOT NULL CHECK (status IN ('uploading', 'accepted', 'acknowledged', 'undeliverable', 'error')),
                        status_code TEXT, status_event TEXT, status_description TEXT, status_success INTEGER, status_at INTEGER,
                        linked_message_id TEXT,
                        created_at INTEGER NOT NULL,
                        delivered_at INTEGER,
                        acknowledged_at INTEGER,
                        expires_at INTEGER,
                        expiry_seconds INTEGER NOT NULL,
                        inbox_seq INTEGER UNIQUE,
                        route_by TEXT, route_address TEXT, route_service TEXT, route_version INTEGER,
                        payload_purged INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE INDEX messages_inbox ON messages (recipient, inbox_seq) WHERE status = 'accepted';
                    CREATE INDEX messages_expiry ON messages (expires_at) WHERE status = 'accepted';
                    CREATE INDEX messages_purge ON messages (delivered_at) WHERE payload_purged = 0;
                    CREATE INDEX messages_sender_local ON messages (sender, local_id);
                    CREATE TABLE chunks (
                        message_id TEXT NOT NULL REFERENCES messages (message_id) ON DELETE CASCADE,
                        chunk_no INTEGER NOT NULL CHECK (chunk_no >= 1),
                        upload_id TEXT NOT NULL UNIQUE,
                        size INTEGER NOT NULL,
                        segment_count INTEGER NOT NULL,
                        sha256 TEXT NOT NULL,
                        PRIMARY KEY (message_id, chunk_no)
                    );
                    CREATE TABLE segments (
                        id INTEGER PRIMARY KEY,
                        upload_id TEXT NOT NULL,
                        idx INTEGER NOT NULL,
                        created_at INTEGER NOT NULL,
                        data BLOB NOT NULL,
                        UNIQUE (upload_id, idx)
                    );
                    CREATE INDEX segments_created ON segments (created_at);
                    """)
        }
        m.registerMigration("002-directory-admin-audit") { db in
            try db.execute(
                sql: """
                    CREATE TABLE directory_versions (
                        version INTEGER PRIMARY KEY CHECK (version >= 1),
                        created_at INTEGER NOT NULL,
                        actor TEXT NOT NULL,
                        document TEXT NOT NULL,
                        changes TEXT NOT NULL
                    );
                    CREATE TABLE admin_tokens (
                        id INTEGER PRIMARY KEY,
                        name TEXT NOT NULL,
                        role TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
                        token_hash TEXT NOT NULL UNIQUE,
                        created_at INTEGER NOT NULL
                    );
                    CREATE TABLE mailbox_passwords (
                        mailbox TEXT PRIMARY KEY,
                        password TEXT NOT NULL,
                        set_at INTEGER NOT NULL,
                        set_by TEXT NOT NULL
                    );
                    CREATE TABLE audit_log (
                        seq INTEGER PRIMARY KEY,
                        at INTEGER NOT NULL,
                        actor TEXT NOT NULL,
                        action TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        detail TEXT NOT NULL,
                        prev_hash TEXT NOT NULL,
                        entry_hash TEXT NOT NULL
                    );
                    CREATE INDEX messages_created ON messages (created_at);
                    """)
        }
        m.registerMigration("003-responsibility-escalation") { db in
            try db.execute(
                sql: """
                    ALTER TABLE messages ADD COLUMN downloaded_at INTEGER;
                    ALTER TABLE messages ADD COLUMN responsibility_required INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE messages ADD COLUMN responsibility TEXT;
                    ALTER TABLE messages ADD COLUMN escalation_policy TEXT;
                    ALTER TABLE messages ADD COLUMN deadlines_planned INTEGER NOT NULL DEFAULT 1;
                    CREATE INDEX messages_unplanned ON messages (seq) WHERE deadlines_planned = 0;
                    CREATE TABLE message_events (
                        id INTEGER PRIMARY KEY,
                        message_id TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        kind TEXT NOT NULL,
                        detail TEXT NOT NULL
                    );
                    CREATE INDEX message_events_message ON message_events (message_id, id);
                    CREATE TABLE deadlines (
                        message_id TEXT NOT NULL,
                        stage INTEGER NOT NULL,
                        due_at INTEGER NOT NULL,
                        state TEXT NOT NULL DEFAULT 'scheduled' CHECK (state IN ('scheduled', 'fired', 'skipped')),
                        PRIMARY KEY (message_id, stage)
                    );
                    CREATE INDEX deadlines_due ON deadlines (due_at) WHERE state = 'scheduled';
                    CREATE TABLE alerts (
                        id TEXT PRIMARY KEY,
                        message_id TEXT NOT NULL,
                        stage INTEGER NOT NULL,
                        policy TEXT NOT NULL,
                        workflow_id TEXT NOT NULL,
                        condition TEXT NOT NULL,
                        due_at INTEGER NOT NULL,
                        raised_at INTEGER NOT NULL,
                        state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'resolved')),
                        acknowledged_by TEXT, acknowledged_note TEXT, acknowledged_at INTEGER,
                        resolved_at INTEGER, resolved_reason TEXT,
                        notify_count INTEGER NOT NULL,
                        last_notified_at INTEGER NOT NULL,
                        next_notify_at INTEGER,
                        UNIQUE (message_id, stage)
                    );
                    CREATE INDEX alerts_repeat ON alerts (next_notify_at) WHERE state = 'open';
                    CREATE INDEX alerts_state ON alerts (state, raised_at);
                    CREATE TABLE webhook_deliveries (
                        id TEXT PRIMARY KEY,
                        alert_id TEXT NOT NULL,
                        webhook_id TEXT NOT NULL,
                        body TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER NOT NULL,
                        claimed_until INTEGER NOT NULL DEFAULT 0,
                        state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'abandoned'))
                    );
                    CREATE INDEX webhook_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
                    CREATE TABLE webhook_attempts (
                        id INTEGER PRIMARY KEY,
                        delivery_id TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        status INTEGER,
                        error TEXT
                    );
                    CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);
                    """)
        }
        m.registerMigration("004-inbox-counts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE inbox_counts (mailbox TEXT PRIMARY KEY, accepted INTEGER NOT NULL CHECK (accepted >= 0));
                    INSERT INTO inbox_counts (mailbox, accepted)
                        SELECT recipient, count(*) FROM messages WHERE status = 'accepted' GROUP BY recipient;
                    """)
        }
        m.registerMigration("005-admin-token-lifetimes") { db in
            try db.execute(
                sql: """
                    ALTER TABLE admin_tokens ADD COLUMN expires_at INTEGER;
                    ALTER TABLE admin_tokens ADD COLUMN revoked_at INTEGER;
                    CREATE TABLE store_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                    CREATE INDEX messages_uploading ON messages (created_at) WHERE status = 'uploading';
                    """)
        }
        m.registerMigration("006-alert-notices") { db in
            try db.execute(
                sql: """
                    ALTER TABLE alerts ADD COLUMN resolved_by TEXT;
                    CREATE TABLE alert_notices (
                        id INTEGER PRIMARY KEY,
                        alert_id TEXT NOT NULL,
                        kind TEXT NOT NULL CHECK (kind IN ('acknowledged', 'resolved')),
                        detail TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        sent INTEGER NOT NULL DEFAULT 0
                    );
                    CREATE INDEX alert_notices_pending ON alert_notices (id) WHERE sent = 0;
                    """)
        }
        m.registerMigration("007-crossings") { db in
            try db.execute(
                sql: """
                    ALTER TABLE messages ADD COLUMN crossing TEXT;
                    ALTER TABLE messages ADD COLUMN fhir_message_id TEXT;
                    ALTER TABLE messages ADD COLUMN crossing_closed_at INTEGER;
                    CREATE INDEX messages_crossing_closed ON messages (crossing_closed_at) WHERE crossing_closed_at IS NOT NULL;
                    CREATE INDEX messages_fhir_message_id ON messages (fhir_message_id) WHERE fhir_message_id IS NOT NULL;
                    """)
        }
        m.registerMigration("008-scorecard") { db in
            try db.execute(
                sql: """
                    CREATE TABLE crossing_facts (
                        message_id TEXT PRIMARY KEY,
                        sender_org TEXT NOT NULL, receiver_org TEXT NOT NULL, workflow TEXT NOT NULL, created_at INTEGER NOT NULL,
                        identity REAL NOT NULL, consent INTEGER NOT NULL, provenance INTEGER NOT NULL, intent INTEGER NOT NULL,
                        for_information INTEGER NOT NULL, routing INTEGER NOT NULL, outcome INTEGER NOT NULL,
                        accept_by INTEGER, accepted_at INTEGER, secs_to_accept INTEGER, secs_to_outcome INTEGER
                    );
                    CREATE INDEX crossing_facts_boundary ON crossing_facts (sender_org, receiver_org, workflow, created_at);
                    """)
        }
        m.registerMigration("009-scorecard-days") { db in
            for statement in ScorecardSQL.aggregatesSchema(.sqlite) { try db.execute(sql: statement) }
        }
        // The rich inbox and outbox: a mailbox's messages by creation time, whatever their status.
        m.registerMigration("010-rich-listings") { db in
            try db.execute(
                sql: """
                    CREATE INDEX messages_received ON messages (recipient, created_at);
                    CREATE INDEX messages_sent ON messages (sender, created_at);
                    """)
        }
        // The console's people and their sessions (shared by every instance of a store).
        m.registerMigration("011-console") { db in
            try db.execute(sql: ConsoleSchema.sqlite)
        }
        // Who a duty team handed an alert to; acknowledgements that lapse (their lapse time kept in next_notify_at).
        m.registerMigration("012-alert-assignment") { db in
            try db.execute(
                sql: """
                    ALTER TABLE alerts ADD COLUMN assigned_to TEXT;
                    ALTER TABLE alerts ADD COLUMN assigned_at INTEGER;
                    CREATE INDEX alerts_lapse ON alerts (next_notify_at) WHERE state = 'acknowledged';
                    """)
        }
        // Directory edits to safeguarding workflows waiting for a second admin.
        m.registerMigration("013-directory-proposals") { db in
            try db.execute(sql: DirectoryProposalSchema.sqlite)
        }
        // Only messages that carry a local id are looked up by it: the others (most machine sends)
        // no longer write an entry, one B-tree insert fewer per send.
        m.registerMigration("014-local-id-index") { db in
            try db.execute(sql: MessageIndexes.localIDPartial)
        }
        // Small bodies in their chunk's row (`StagedChunk.rowInlineLimit`); older ones stay in segments.
        m.registerMigration("015-chunk-data") { db in
            try db.execute(sql: "ALTER TABLE chunks ADD COLUMN data BLOB")
        }
        // Only delivered messages wait for their payload to be purged: a send writes no purge entry.
        m.registerMigration("016-purge-index") { db in
            try db.execute(sql: MessageIndexes.purgeDelivered(notPurged: "payload_purged = 0"))
        }
        // CHECKs of three or more constants as comparisons: no temporary B-tree per insert (`ConstraintLists`).
        m.registerMigration("017-check-comparisons") { db in
            try ConstraintLists.rewrite(db)
        }
        m.registerMigration("018-plain-row-ids") { db in
            try Autoincrement.remove(db)
        }
        return m
    }
}
