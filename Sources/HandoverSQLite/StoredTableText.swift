import GRDB

/// SQLite cannot alter a table's constraints or keywords, and rebuilding `messages` would copy every
/// row at startup. For changes that leave the data's format alone, SQLite documents editing the stored
/// CREATE TABLE text instead (section 7 of its ALTER TABLE page): in the migration's transaction, with
/// `writable_schema`, and a new schema version so every connection parses the table again. A text that
/// failed to parse fails the migration and rolls it back.
enum StoredTableText {
    /// Stores `edit`'s text for every table whose CREATE TABLE it changes.
    static func edit(_ db: Database, _ edit: (String) -> String) throws {
        let tables = try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND sql IS NOT NULL")
        let changes = tables.compactMap { row -> (name: String, sql: String)? in
            let (name, sql): (String, String) = (row["name"], row["sql"])
            let edited = edit(sql)
            return edited == sql ? nil : (name, edited)
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
}
