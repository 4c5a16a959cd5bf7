import CWALWrites
import GRDB
import GRDBSQLite

/// SQLite's process-wide settings (`Sources/CWALWrites/ProcessSettings.c`): multi-thread mode, so a
/// connection's calls take no mutex (GRDB and the store use each connection from one thread at a
/// time), and memory statistics off, so SQLite's allocations on every thread do not queue on one
/// global mutex to count their bytes. SQLite accepts them only before it initialises; applied by the
/// store before its first connection. When too late (something in the process opened SQLite first),
/// SQLite keeps its defaults, which are slower and otherwise the same.
enum SQLiteProcessSettings {
    /// True when SQLite took them (now or earlier).
    @discardableResult
    static func apply() -> Bool { handover_sqlite_configure() == SQLITE_OK }

    /// For tests: whether SQLite locks a mutex around each call on `db`.
    static func hasMutex(_ db: Database) -> Bool { sqlite3_db_mutex(db.sqliteConnection) != nil }

    /// For tests: the bytes SQLite counts as allocated (zero while memory statistics are off).
    static var countedMemory: Int64 {
        var current: sqlite3_int64 = 0
        var highest: sqlite3_int64 = 0
        _ = sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &current, &highest, 0)
        return current
    }
}
