import GRDB

/// `messages.seq` was declared `AUTOINCREMENT`, which makes every insert look up and rewrite the
/// table's row in `sqlite_sequence`: a page of its own in every commit's WAL (one of the 26 pages a
/// lone send commits) and a few microseconds of the single writer's time per message. Without the
/// keyword a new row still takes the largest `seq` plus one; the one difference is that the number of
/// the newest row may be given again after that row is deleted, and only a mailbox reset deletes
/// messages. Nothing treats `seq` as never reused: it orders listings and the deadline planner's queue.
enum Autoincrement {
    /// The stored table text loses the keyword (`StoredTableText`) and `sqlite_sequence` its row.
    static func remove(_ db: Database) throws {
        try StoredTableText.edit(db, withoutKeyword(in:))
        if try db.tableExists("sqlite_sequence") { try db.execute(sql: "DELETE FROM sqlite_sequence") }
    }

    static func withoutKeyword(in sql: String) -> String {
        sql.replacing(/INTEGER PRIMARY KEY AUTOINCREMENT/, with: "INTEGER PRIMARY KEY")
    }
}
