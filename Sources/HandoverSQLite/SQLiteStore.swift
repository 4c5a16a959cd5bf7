import Foundation
import GRDB
import HandoverCore
import HandoverStore
import NIOCore

/// The embedded default backend: one SQLite file in WAL mode with `synchronous = FULL`, so a commit
/// is on disk before any 2xx. Writes go through a group-commit writer; reads use the pool's readers.
public final class SQLiteStore: Sendable {
    let pool: DatabasePool
    let writer: GroupCommitWriter
    let checkpointer: WALCheckpointer
    let reserve: StorageReserve
    let idGenerator = MessageIDGenerator.shared

    /// Opens (creating if needed) the database at `path` and migrates it.
    public init(path: String) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.run(sql: "PRAGMA foreign_keys = ON")
        }
        pool = try DatabasePool(path: path, configuration: config)
        // GRDB's DatabasePool sets synchronous = NORMAL on its writer after prepareDatabase runs, so FULL
        // set there would silently not apply. Set it on the writer now that the pool is open.
        // Most checkpoint work runs on its own connection (`WALCheckpointer`); the writer's automatic
        // checkpoint stays on, finds little left to copy, and lets the WAL restart from its start.
        try pool.writeWithoutTransaction { db in
            try db.run(sql: "PRAGMA synchronous = FULL")
            try db.run(sql: "PRAGMA journal_size_limit = 67108864")
        }
        try SQLiteSchema.migrator.migrate(pool)
        reserve = StorageReserve(databasePath: path)
        writer = GroupCommitWriter(pool: pool, reserve: reserve)
        checkpointer = try WALCheckpointer(path: path)
    }

    public func runMaintenance() async { await checkpointer.run() }

    public func close() async {
        // Through the group-commit writer, so the checkpoint follows every commit already queued.
        _ = try? await writer.write { _ in }
        checkpointer.finish()
    }

    /// Reads on a Dispatch queue, never on a Swift-concurrency thread: GRDB blocks the calling thread
    /// while it waits for a free reader connection, and blocking the cooperative pool (two threads on
    /// two cores) deadlocks the server under concurrent load.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await SQLiteFailure.translating { try await Self.blocking { [pool] in try pool.read(body) } }
    }

    /// Runs a blocking GRDB call on `blockingQueue`.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            blockingQueue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Threads for GRDB's blocking calls; Dispatch adds threads while some are blocked.
    static let blockingQueue = DispatchQueue(label: "handover.sqlite.blocking", attributes: .concurrent)

    /// The writer connection's `PRAGMA synchronous` (2 = FULL), for the durability test.
    public func writerSynchronousSetting() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db.cachedStatement(sql: "PRAGMA synchronous")) ?? -1 }
    }
}
