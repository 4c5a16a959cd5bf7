import GRDB

/// SQLite checks `status IN ('a', 'b', 'c')`, a list of more than two constants, by building a
/// temporary B-tree of the list each time a statement that checks it runs: every insert into
/// `messages` (and every update of its status) opened and closed one, about 1 % of the broker's CPU
/// in a profile of saturated sends. The same check written as comparisons (`status = 'a' OR ...`)
/// costs a few instructions. A table's CHECK constraints cannot be altered in SQLite, and rebuilding
/// `messages` would copy every row at startup; SQLite documents editing the stored CREATE TABLE text
/// instead for changes that leave the data's format alone, as this one does (section 7 of its
/// ALTER TABLE page): in the migration's transaction, with `writable_schema`, and a new schema version
/// so every connection parses the table again. A text that failed to parse would fail the migration
/// and roll it back.
enum ConstraintLists {
    /// Rewrites the stored CREATE TABLE of every table with such a list.
    static func rewrite(_ db: Database) throws {
        let tables = try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND sql LIKE '% IN (%'")
        let changes = tables.compactMap { row -> (name: String, sql: String)? in
            let (name, sql): (String, String) = (row["name"], row["sql"])
            let rewritten = comparisons(in: sql)
            return rewritten == sql ? nil : (name, rewritten)
        }
        guard !changes.isEmpty else { return }
        let version = try Int.fetchOne(db, sql: "PRAGMA schema_version") ?? 0
        try db.execute(sql: "PRAGMA writable_schema = ON")
        for change in changes {
            try db.execute(sql: "UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?", arguments: [change.sql, change.name])
        }
        try db.execute(sql: "PRAGMA schema_version = \(version + 1)")
        try db.execute(sql: "PRAGMA writable_schema = OFF")
        // Parses the schema again now, inside the transaction.
        for change in changes { _ = try Row.fetchAll(db, sql: "SELECT * FROM \(change.name.quotedDatabaseIdentifier) LIMIT 0") }
    }

    /// `column IN ('a', 'b', 'c')` becomes `(column = 'a' OR column = 'b' OR column = 'c')`; lists of
    /// one or two constants (which SQLite already compares one by one) and everything else stay.
    static func comparisons(in sql: String) -> String {
        sql.replacing(/(?<column>[a-z_]+) IN \((?<values>'[^']*'(?:, '[^']*')*)\)/) { match in
            let values = match.output.values.split(separator: ", ")
            guard values.count > 2 else { return String(match.output.0) }
            return "(" + values.map { "\(match.output.column) = \($0)" }.joined(separator: " OR ") + ")"
        }
    }
}
