import Dispatch
import GRDB
import Synchronization

/// Read-only connections for the hot single-statement reads (a listing, a download's message and
/// chunk), kept apart from GRDB's reader pool. The pool prepares every read with a
/// `PRAGMA schema_version` (so it can forget what it cached about tables another connection changed)
/// and hands connections out through a lock built on a Dispatch barrier; in a profile of full cycles
/// those two were a quarter of the CPU of these reads. These skip both: a free connection is popped
/// from a list under a mutex. The broker migrates before it serves, and SQLite compiles a cached
/// statement again when another connection has changed a table it reads; what GRDB would miss is
/// only its own record of a `SELECT *`'s columns, so the statements read here name their columns.
final class ReaderConnections: Sendable {
    private let path: String
    /// Free connections, and whether `close` has run: one lock, so no connection is put back after it.
    private let state = Mutex((idle: [DatabaseQueue](), closed: false))
    /// At most this many reads at once; a read beyond it waits for a connection, as with GRDB's pool.
    private let slots: DispatchSemaphore

    init(path: String, maximum: Int = 5) {
        self.path = path
        slots = DispatchSemaphore(value: maximum)
    }

    /// Runs `body` on a free connection, opening one if none is free. Blocks its thread while all
    /// are busy, so it runs on the store's blocking queue, never on a Swift-concurrency thread.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        slots.wait()
        defer { slots.signal() }
        let free = try state.withLock { state in
            guard !state.closed else { throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "the store is closed") }
            return state.idle.popLast()
        }
        let connection = try free ?? open()
        defer { putBack(connection) }
        return try connection.inDatabase(body)
    }

    /// Closes the idle connections, and each busy one when its read ends; reads that start later fail.
    func close() {
        let connections = state.withLock { state in
            state.closed = true
            defer { state.idle.removeAll() }
            return state.idle
        }
        for connection in connections { try? connection.close() }
    }

    private func putBack(_ connection: DatabaseQueue) {
        let kept = state.withLock { state in
            if !state.closed { state.idle.append(connection) }
            return !state.closed
        }
        if !kept { try? connection.close() }
    }

    private func open() throws -> DatabaseQueue {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.busyMode = .timeout(10)
        return try DatabaseQueue(path: path, configuration: configuration)
    }
}
