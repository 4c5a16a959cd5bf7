import Foundation
import GRDB

/// Copies committed WAL frames back into the database file from a connection of its own, four times
/// a second, with `PASSIVE` checkpoints (they never wait for readers or the writer). SQLite's
/// automatic checkpoint is off on the writer: it ran inside whichever commit crossed 1,000 pages,
/// copying and fsyncing the whole backlog while every request of that batch waited, which showed as
/// multi-second maxima under sustained load. Durability is unchanged: a commit is durable once its
/// WAL frames are fsynced, before any checkpoint.
final class WALCheckpointer: @unchecked Sendable {
    private let connection: DatabaseQueue
    private let timer: any DispatchSourceTimer

    init(path: String, interval: DispatchTimeInterval = .milliseconds(250)) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(1)
        connection = try DatabaseQueue(path: path, configuration: configuration)
        let queue = DispatchQueue(label: "handover.sqlite.checkpoint")
        timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + interval, repeating: interval)
        timer.setEventHandler { [connection] in
            // PASSIVE never blocks; a checkpoint that finds nothing to do costs a few microseconds.
            _ = try? connection.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(PASSIVE)") }
        }
        timer.resume()
    }

    /// Stops the timer and copies every committed frame into the main file, then empties the WAL.
    func finish() {
        timer.cancel()
        _ = try? connection.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    deinit { timer.cancel() }
}
