import Foundation
import GRDB
import HandoverCore
import HandoverStore
import NIOCore

/// The embedded default backend: one SQLite file in WAL mode with `synchronous = FULL`, so a commit
/// is on disk before any 2xx. Writes go through a group-commit writer; reads use the pool's readers,
/// except the hot single-statement reads, which have connections of their own (`ReaderConnections`).
public final class SQLiteStore: Sendable {
    let pool: DatabasePool
    let readers: ReaderConnections
    let writer: GroupCommitWriter
    let checkpointer: WALCheckpointer
    let reserve: StorageReserve
    let idGenerator = MessageIDGenerator.shared

    /// Opens (creating if needed) the database at `path` and migrates it.
    public init(path: String) throws {
        SQLiteProcessSettings.apply()
        SQLiteWALWrites.register()
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.run(sql: "PRAGMA foreign_keys = ON")
        }
        pool = try DatabasePool(path: path, configuration: config)
        // GRDB's DatabasePool sets synchronous = NORMAL on its writer after prepareDatabase runs, so FULL
        // set there would silently not apply. Set it on the writer now that the pool is open.
        // Most frames are copied into the database file on a connection of its own (`WALCheckpointer`).
        // The writer's automatic checkpoint copies the rest and syncs the file, which a checkpoint
        // running beside the writer seldom does (SQLite syncs only a copy that reaches the WAL's end),
        // and so lets the WAL restart from its start. It runs inside a commit, holding every write
        // queued behind it: at SQLite's default of 1,000 frames the database file was synced about 34
        // times a second under sixteen steady connections (1.7 ms each), at `writerCheckpointFrames`
        // about 11, and a page rewritten in between is copied once (docs/PERFORMANCE.md).
        // Taking that step off the writer altogether was tried: the median fell, the tail did not.
        try pool.writeWithoutTransaction { db in
            try db.run(sql: "PRAGMA synchronous = FULL")
            try db.run(sql: "PRAGMA journal_size_limit = 67108864")
            try db.run(sql: "PRAGMA wal_autocheckpoint = \(Self.writerCheckpointFrames)")
        }
        try SQLiteSchema.migrator.migrate(pool)
        // temp_store = MEMORY on the writer: each write of a guarded group commit (a batch redone after
        // a failure) runs in a savepoint, whose statement journal keeps the original of each page it
        // touches. On disk (the default) that journal spills to a temporary file past 64 KiB and then
        // grows for the whole batch: a profile of saturated sends (when every write had a savepoint)
        // found about 12 % of the broker's CPU in those file writes. In memory it is emptied when each
        // savepoint is released, so it holds one write's pages at a time. Set after the migrations,
        // whose index builds sort a whole table and may need the temporary files.
        try pool.writeWithoutTransaction { db in try db.run(sql: "PRAGMA temp_store = MEMORY") }
        reserve = StorageReserve(databasePath: path)
        writer = GroupCommitWriter(pool: pool, reserve: reserve)
        readers = ReaderConnections(path: path)
        checkpointer = try WALCheckpointer(path: path)
    }

    public func runMaintenance() async { await checkpointer.run() }

    public func close() async {
        // Through the group-commit writer, so the checkpoint follows every commit already queued.
        _ = try? await writer.write { _ in }
        readers.close()
        checkpointer.finish()
    }

    /// Reads on a Dispatch queue, never on a Swift-concurrency thread: GRDB blocks the calling thread
    /// while it waits for a free reader connection, and blocking the cooperative pool (two threads on
    /// two cores) deadlocks the server under concurrent load.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await SQLiteFailure.translating { try await Self.blocking { [pool] in try pool.read(body) } }
    }

    /// A read of one statement, without the `BEGIN`/`COMMIT` that `read` wraps around its reads: SQLite
    /// runs a lone statement in its own read transaction (one snapshot), and the pair around it was
    /// about 4 % of the broker's CPU in a profile of full cycles. Reads of several statements that must
    /// agree use `read`. On connections of their own (`ReaderConnections`: what they skip, and why).
    func readStatement<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await SQLiteFailure.translating { try await Self.blocking { [readers] in try readers.read(body) } }
    }

    /// Runs a blocking GRDB call on `blockingQueue`.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            blockingQueue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// WAL frames (pages) after which a commit checkpoints on the writer: 16 MiB of 4 KiB pages, well
    /// inside `journal_size_limit`.
    static let writerCheckpointFrames = 4000

    /// Threads for GRDB's blocking calls; Dispatch adds threads while some are blocked.
    static let blockingQueue = DispatchQueue(label: "handover.sqlite.blocking", attributes: .concurrent)

    /// Writer settings the tests check: GRDB's pool resets some after its own setup code.
    public enum WriterSetting: String, Sendable {
        case synchronous  // 2 = FULL, for the durability test
        case tempStore = "temp_store"  // 2 = MEMORY
    }

    public func writerSetting(_ setting: WriterSetting) throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA \(setting.rawValue)") ?? -1 }
    }

    /// The plan SQLite chooses for `sql`, a line per step: for tests that pin a query to its index.
    func queryPlan(_ sql: String, arguments: StatementArguments = []) throws -> [String] {
        try pool.read { db in try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] } }
    }
}
