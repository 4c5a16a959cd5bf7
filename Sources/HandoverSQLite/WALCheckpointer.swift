import Foundation
import GRDB

/// Copies committed WAL frames back into the database file from a connection of its own with
/// `PASSIVE` checkpoints (they never wait for readers or the writer), four times a second while the
/// broker's service group runs the store's maintenance. Left to the writer's automatic checkpoint,
/// the copy ran inside whichever commit crossed 1,000 pages, fsyncing the whole backlog while every
/// request of that batch waited (multi-second maxima under sustained load). Durability is unchanged:
/// a commit is durable once its WAL frames are fsynced, before any checkpoint.
final class WALCheckpointer: Sendable {
    private let connection: DatabaseQueue

    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(1)
        connection = try DatabaseQueue(path: path, configuration: configuration)
    }

    /// Checkpoints every `interval` until the task is cancelled. Each checkpoint is a blocking call,
    /// so it runs on the store's blocking queue, never on a Swift-concurrency thread.
    func run(every interval: Duration = .milliseconds(250)) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            // PASSIVE never blocks; a checkpoint that finds nothing to do costs a few microseconds.
            _ = try? await SQLiteStore.blocking { [connection] in
                try connection.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
            }
        }
    }

    /// Copies every committed frame into the main file, then empties the WAL.
    func finish() {
        _ = try? connection.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }
}
