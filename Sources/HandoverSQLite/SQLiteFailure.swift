import GRDB
import HandoverStore

/// SQLite's failures of the machine rather than of the request become `StoreUnavailable` at the
/// store's edge, as PostgreSQL's do: a full disk, an I/O error, a database locked too long, no
/// memory. The HTTP layer answers them with 503 and a stable code, never a 500 with the driver's
/// words. Constraint and logic errors pass through unchanged.
enum SQLiteFailure {
    static func translated(_ error: any Error) -> any Error {
        guard let failure = error as? DatabaseError else { return error }
        let code = failure.resultCode
        switch code {
        case .SQLITE_FULL:
            return StoreUnavailable(reason: "SQLite: the disk is full (\(failure.extendedResultCode))", cause: .full)
        case .SQLITE_IOERR, .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_NOMEM, .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PROTOCOL, .SQLITE_CORRUPT,
            .SQLITE_NOTADB:
            // An I/O error writing to a full disk is a full disk as far as anyone waiting is concerned.
            let full = code == .SQLITE_IOERR && failure.message?.localizedCaseInsensitiveContains("disk is full") == true
            return StoreUnavailable(reason: "SQLite: \(failure.extendedResultCode)", cause: full ? .full : .failing)
        default:
            return error
        }
    }

    /// Runs `body`, translating what it throws.
    static func translating<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch { throw translated(error) }
    }
}
