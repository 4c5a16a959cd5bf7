import CWALWrites
import GRDB
import GRDBSQLite

/// SQLite's files go through the `handover-wal` VFS (`Sources/CWALWrites/WALWrites.c`): the default
/// VFS, except that a commit's WAL frames reach the file in one `pwrite` (pieces of 124 KiB for a
/// large commit) instead of two a page (a commit of 23 pages made 46 calls; each costs the kernel a
/// fixed amount over and above its bytes). Registered as the process's default before the first
/// connection opens, so every connection GRDB opens uses it. Should SQLite refuse it, the store runs
/// on the default VFS as before: the gathering saves CPU and changes nothing else.
enum SQLiteWALWrites {
    /// True when it is registered (now or earlier).
    @discardableResult
    static func register() -> Bool { handover_wal_writes_register() == 0 }

    /// The VFS new connections use unless they name another.
    static var defaultName: String? { sqlite3_vfs_find(nil).map { String(cString: $0.pointee.zName) } }

    /// Writes SQLite asked for on `db`'s WAL, and the system writes they became; nil when its WAL is
    /// not open through this VFS (for tests).
    static func counts(_ db: Database) -> (asked: Int64, written: Int64)? {
        var asked: Int64 = 0
        var written: Int64 = 0
        guard handover_wal_writes_counts(UnsafeMutableRawPointer(db.sqliteConnection), &asked, &written) == 0 else { return nil }
        return (asked, written)
    }
}
