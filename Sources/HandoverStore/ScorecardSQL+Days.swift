import HandoverCore

/// The two SQL dialects the scorecard's maintenance is written for.
public enum ScorecardDialect: Sendable {
    case sqlite, postgres

    var real: String { self == .sqlite ? "REAL" : "DOUBLE PRECISION" }
    /// Null-safe "differs".
    var differs: String { self == .sqlite ? "IS NOT" : "IS DISTINCT FROM" }
    /// Which of a boundary-day's rows a change adds to. Sums are additive, so any row of the day will
    /// do: PostgreSQL picks one per database connection (32 at most), so concurrent sends on one
    /// boundary do not wait on one row's lock; SQLite has one writer and one row.
    var shard: String { self == .sqlite ? "0" : "(pg_backend_pid() % 32)" }
}

/// The per-day sums and duration histograms kept beside the facts rows by triggers, so a window's
/// whole days are read from a few hundred rows instead of every crossing (docs/PERFORMANCE.md).
extension ScorecardSQL {
    /// Each day column and what one facts row (`r`, such as `NEW.`, or empty) adds to it.
    static func dayContributions(_ r: String) -> [(column: String, value: String)] {
        [
            ("n", "1"), ("identity", "\(r)identity"), ("consent", "\(r)consent"), ("provenance", "\(r)provenance"), ("intent", "\(r)intent"),
            ("routing", "\(r)routing"),
            ("out_n", "CASE WHEN \(r)for_information = 0 THEN 1 ELSE 0 END"),
            ("out_ok", "CASE WHEN \(r)for_information = 0 THEN \(r)outcome ELSE 0 END"),
            // Settled: counted for Alert & Responsibility whatever the time. Pending: counted once the
            // deadline passes unless accepted first; the reader takes back those not yet due.
            ("ar_settled", "CASE WHEN \(r)for_information = 0 AND (\(r)accepted_at IS NOT NULL OR \(r)accept_by IS NULL) THEN 1 ELSE 0 END"),
            ("ar_pending", "CASE WHEN \(r)for_information = 0 AND \(r)accepted_at IS NULL AND \(r)accept_by IS NOT NULL THEN 1 ELSE 0 END"),
            ("ar_ok", "CASE WHEN \(held(r)) THEN 1 ELSE 0 END"),
        ]
    }

    static func held(_ r: String) -> String {
        "\(r)for_information = 0 AND \(r)accepted_at IS NOT NULL AND (\(r)accept_by IS NULL OR \(r)accepted_at <= \(r)accept_by)"
    }

    static let dayKey = "sender_org, receiver_org, workflow, day, shard"
    static func day(_ r: String) -> String { "\(r)created_at / \(ScorecardWindow.dayMicroseconds)" }

    /// The tables, indexes and backfill of the migration that adds them.
    public static func aggregatesSchema(_ d: ScorecardDialect) -> [String] {
        let sums = dayContributions("").map { "\($0.column) \($0.column == "identity" ? d.real : "INTEGER") NOT NULL" }.joined(separator: ", ")
        let withoutRowID = d == .sqlite ? " WITHOUT ROWID" : ""
        var statements = [
            "CREATE TABLE crossing_days (sender_org TEXT NOT NULL, receiver_org TEXT NOT NULL, workflow TEXT NOT NULL, "
                + "day INTEGER NOT NULL, shard INTEGER NOT NULL, \(sums), PRIMARY KEY (\(dayKey)))\(withoutRowID)",
            "CREATE TABLE crossing_day_times (sender_org TEXT NOT NULL, receiver_org TEXT NOT NULL, workflow TEXT NOT NULL, "
                + "day INTEGER NOT NULL, shard INTEGER NOT NULL, kind TEXT NOT NULL, bucket INTEGER NOT NULL, n INTEGER NOT NULL, "
                + "PRIMARY KEY (\(dayKey), kind, bucket))\(withoutRowID)",
            // Crossings whose acceptance deadline may still be ahead: the reader's "not yet due".
            "CREATE INDEX crossing_facts_pending ON crossing_facts (accept_by) WHERE \(pending)",
        ]
        for kind in DurationKind.allCases {
            // The rows of one bucket, for the exact median; with the time, so the window is checked in the index.
            statements.append(
                "CREATE INDEX crossing_facts_\(kind.rawValue)_times "
                    + "ON crossing_facts (sender_org, receiver_org, workflow, \(kind.column), created_at) "
                    + "WHERE \(kind.column) IS NOT NULL"
            )
        }
        statements += groupedSums(from: "crossing_facts", shard: "0", upsert: false)
        return statements + triggers(d)
    }

    /// The day sums and duration buckets of every facts row in `table`, grouped: the backfill (into
    /// empty tables) and PostgreSQL's per-statement insert trigger (added to what is there).
    static func groupedSums(from table: String, shard: String, upsert: Bool) -> [String] {
        let contributions = dayContributions("")
        let boundaryDay = "sender_org, receiver_org, workflow, \(day(""))"
        func add(_ key: String, _ columns: [String], table target: String) -> String {
            upsert ? "\nON CONFLICT (\(key)) DO UPDATE SET " + columns.map { "\($0) = \(target).\($0) + excluded.\($0)" }.joined(separator: ", ") : ""
        }
        var statements = [
            """
            INSERT INTO crossing_days (\(dayKey), \(contributions.map(\.column).joined(separator: ", ")))
                SELECT \(boundaryDay), \(shard), \(contributions.map { "sum(\($0.value))" }.joined(separator: ", "))
                FROM \(table) GROUP BY \(boundaryDay)\(add(dayKey, contributions.map(\.column), table: "crossing_days"))
            """
        ]
        let timesAdded = add("\(dayKey), kind, bucket", ["n"], table: "crossing_day_times")
        for kind in DurationKind.allCases {
            statements.append(
                """
                INSERT INTO crossing_day_times (\(dayKey), kind, bucket, n)
                    SELECT \(boundaryDay), \(shard), '\(kind.rawValue)', \(DurationBuckets.sql(kind.column)), count(*)
                    FROM \(table) WHERE \(kind.column) IS NOT NULL
                        GROUP BY \(boundaryDay), \(DurationBuckets.sql(kind.column))\(timesAdded)
                """)
        }
        return statements
    }

    /// PostgreSQL adds new facts rows to the day sums once per statement, grouped, instead of once
    /// per row: a batch of deliveries (the PostgreSQL store's `ClientGroupCommit`) inserts dozens of
    /// facts rows in one statement, and the per-row PL/pgSQL trigger was then about a fifth of the
    /// database's CPU per send. Updates and deletes stay per row.
    public static let postgresInsertsPerStatement = """
        DROP TRIGGER crossing_facts_roll ON crossing_facts;
        CREATE TRIGGER crossing_facts_roll AFTER UPDATE OR DELETE ON crossing_facts FOR EACH ROW EXECUTE FUNCTION crossing_facts_roll();
        CREATE FUNCTION crossing_facts_added() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
        \(groupedSums(from: "added", shard: ScorecardDialect.postgres.shard, upsert: true).map { $0 + ";" }.joined(separator: "\n"))
        RETURN NULL;
        END $$;
        CREATE TRIGGER crossing_facts_added AFTER INSERT ON crossing_facts REFERENCING NEW TABLE AS added
            FOR EACH STATEMENT EXECUTE FUNCTION crossing_facts_added()
        """

    static let pending = "accepted_at IS NULL AND accept_by IS NOT NULL AND for_information = 0"

    /// The statements that add (`sign` 1) or take away (-1) one facts row's share.
    static func apply(_ r: String, sign: Int, _ d: ScorecardDialect) -> [String] {
        let contributions = dayContributions(r)
        let key = "\(r)sender_org, \(r)receiver_org, \(r)workflow, \(day(r)), \(d.shard)"
        var statements = [
            """
            INSERT INTO crossing_days (\(dayKey), \(contributions.map(\.column).joined(separator: ", ")))
                VALUES (\(key), \(contributions.map { "\(sign) * (\($0.value))" }.joined(separator: ", ")))
                ON CONFLICT (\(dayKey))
                    DO UPDATE SET \(contributions.map { "\($0.column) = crossing_days.\($0.column) + excluded.\($0.column)" }.joined(separator: ", "))
            """
        ]
        for kind in DurationKind.allCases {
            statements.append(
                """
                INSERT INTO crossing_day_times (\(dayKey), kind, bucket, n)
                    SELECT \(key), '\(kind.rawValue)', \(DurationBuckets.sql(r + kind.column)), \(sign) WHERE \(r)\(kind.column) IS NOT NULL
                    ON CONFLICT (\(dayKey), kind, bucket) DO UPDATE SET n = crossing_day_times.n + excluded.n
                """)
        }
        return statements
    }

    static func triggers(_ d: ScorecardDialect) -> [String] {
        func body(_ parts: [String]) -> String { parts.map { $0 + ";" }.joined(separator: "\n") }
        switch d {
        case .sqlite:
            return [
                "CREATE TRIGGER crossing_facts_added AFTER INSERT ON crossing_facts BEGIN\n\(body(apply("NEW.", sign: 1, d)))\nEND",
                "CREATE TRIGGER crossing_facts_changed AFTER UPDATE ON crossing_facts BEGIN\n"
                    + "\(body(apply("OLD.", sign: -1, d) + apply("NEW.", sign: 1, d)))\nEND",
                "CREATE TRIGGER crossing_facts_removed AFTER DELETE ON crossing_facts BEGIN\n\(body(apply("OLD.", sign: -1, d)))\nEND",
            ]
        case .postgres:
            return [
                """
                CREATE FUNCTION crossing_facts_roll() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                IF TG_OP <> 'INSERT' THEN
                \(body(apply("OLD.", sign: -1, d)))
                END IF;
                IF TG_OP <> 'DELETE' THEN
                \(body(apply("NEW.", sign: 1, d)))
                END IF;
                RETURN NULL;
                END $$
                """,
                "CREATE TRIGGER crossing_facts_roll AFTER INSERT OR UPDATE OR DELETE ON crossing_facts FOR EACH ROW EXECUTE FUNCTION "
                    + "crossing_facts_roll()",
            ]
        }
    }

    /// Each boundary's sums over whole days `{first}..<{end}`, Alert & Responsibility counting
    /// every pending crossing.
    public static let daySums = """
        SELECT sender_org, receiver_org, workflow, sum(n) AS n, sum(identity) AS identity, sum(consent) AS consent,
            sum(provenance) AS provenance, sum(intent) AS intent, sum(ar_settled) + sum(ar_pending) AS ar_n, sum(ar_ok) AS ar_ok,
            sum(routing) AS routing, sum(out_n) AS out_n, sum(out_ok) AS out_ok
        FROM crossing_days WHERE day >= {first} AND day < {end}
        GROUP BY sender_org, receiver_org, workflow HAVING sum(n) > 0
        """

    /// The pending crossings created in `{since}..<{until}` whose deadline is still ahead of `{now}`,
    /// found through the index of pending deadlines (SQLite is told to use it: left to itself it
    /// prefers walking the boundary index for the grouping, which reads every row).
    public static func notYetDue(_ d: ScorecardDialect) -> String {
        """
        SELECT sender_org, receiver_org, workflow, count(*) AS n FROM crossing_facts\(d == .sqlite ? " INDEXED BY crossing_facts_pending" : "")
        WHERE \(pending) AND accept_by > {now} AND created_at >= {since} AND created_at < {until}
        GROUP BY sender_org, receiver_org, workflow
        """
    }

    /// The duration histograms over whole days `{first}..<{end}`.
    public static let dayDurations = """
        SELECT sender_org, receiver_org, workflow, kind, bucket, sum(n) AS n FROM crossing_day_times
        WHERE day >= {first} AND day < {end} GROUP BY sender_org, receiver_org, workflow, kind, bucket
        """

    /// The duration histograms over a part-day, from the rows (as `tallies` finds them).
    public static var edgeDurations: String {
        DurationKind.allCases.map { kind in
            """
            SELECT f.sender_org AS sender_org, f.receiver_org AS receiver_org, f.workflow AS workflow, '\(kind.rawValue)' AS kind,
                \(DurationBuckets.sql("f." + kind.column)) AS bucket, count(*) AS n
            FROM \(edgeRows) WHERE \(edgeRowsMatch) AND f.\(kind.column) IS NOT NULL
            GROUP BY f.sender_org, f.receiver_org, f.workflow, \(DurationBuckets.sql("f." + kind.column))
            """
        }.joined(separator: "\nUNION ALL\n")
    }

    /// The value at `{offset}` among one boundary's durations within one bucket's seconds.
    public static func median(_ kind: DurationKind) -> String {
        """
        SELECT \(kind.column) AS v FROM crossing_facts WHERE sender_org = {from} AND receiver_org = {to} AND workflow = {workflow}
            AND \(kind.column) IS NOT NULL AND \(kind.column) >= {low} AND \(kind.column) <= {high}
            AND created_at >= {since} AND created_at < {until}
        ORDER BY \(kind.column) LIMIT 1 OFFSET {offset}
        """
    }
}
