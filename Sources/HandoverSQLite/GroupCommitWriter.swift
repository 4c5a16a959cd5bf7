import Foundation
import GRDB
import HandoverStore
import Synchronization

/// Shares one transaction, and so one fsync, among all writes that arrive while the previous batch
/// is being committed (group commit, as PostgreSQL's commit_delay and Kafka's batching do). Each write
/// runs in its own savepoint, so one failing write does not undo the others; each caller resumes only
/// after its batch is on disk. A drain task starts when a write finds the writer idle and runs until
/// the queue is empty; no caller drains, so none waits for more than the batch being committed and
/// its own. (When the first caller led the drain, its request waited out the whole busy period: the
/// isolated 0.5 to 1 s sends seen under steady load.)
actor GroupCommitWriter {
    private let pool: DatabasePool
    private var queue: [PendingWrite] = []
    private var draining = false
    private let maxBatch: Int
    private let reserve: StorageReserve?

    init(pool: DatabasePool, maxBatch: Int = 512, reserve: StorageReserve? = nil) {
        self.pool = pool
        self.maxBatch = maxBatch
        self.reserve = reserve
    }

    /// Failures of the disk or database (full, I/O, locked) come back as `StoreUnavailable`; a full
    /// disk gives the storage reserve back, so the writes that finish work can still commit.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await enqueue(body)
        } catch {
            let translated = SQLiteFailure.translated(error)
            if (translated as? StoreUnavailable)?.cause == .full { reserve?.release() }
            throw translated
        }
    }

    private func enqueue<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let box = ResultBox<T>()
        let item = PendingWrite { db in
            do {
                try db.inSavepoint {
                    box.set(.success(try body(db)))
                    return .commit
                }
            } catch {
                box.set(.failure(error))
            }
        }
        queue.append(item)
        if !draining {
            draining = true
            Task { await self.drain() }
        }
        try await item.completion.wait()
        return try box.get()
    }

    private func drain() async {
        while !queue.isEmpty {
            let batch = Array(queue.prefix(maxBatch))
            queue.removeFirst(batch.count)
            await commit(batch)
        }
        // Cleared with no suspension after the empty check: a write that arrives later finds the
        // writer idle and starts the next drain. (Clearing it after an `await`, say in a `defer`,
        // strands such a write in the queue for ever.)
        draining = false
    }

    /// Commits on a Dispatch thread (see `SQLiteStore.read`: GRDB's calls block their thread).
    private nonisolated func commit(_ batch: [PendingWrite]) async {
        let pool = self.pool
        let error: (any Error)? = await withCheckedContinuation { continuation in
            SQLiteStore.blockingQueue.async {
                do {
                    try pool.write { db in
                        for item in batch { item.run(db) }
                    }
                    continuation.resume(returning: nil)
                } catch {
                    continuation.resume(returning: error)
                }
            }
        }
        for item in batch { item.completion.complete(error) }
    }
}

final class PendingWrite: Sendable {
    let run: @Sendable (Database) -> Void
    let completion = OneShot()
    init(run: @escaping @Sendable (Database) -> Void) { self.run = run }
}

/// A result set once, from inside the write transaction.
final class ResultBox<T: Sendable>: Sendable {
    private let value = Mutex<Result<T, any Error>?>(nil)
    func set(_ result: Result<T, any Error>) { value.withLock { $0 = result } }
    func get() throws -> T {
        guard let result = value.withLock({ $0 }) else { throw CancellationError() }
        return try result.get()
    }
}

/// A completion signal that may fire before or after someone waits on it.
final class OneShot: Sendable {
    private enum State {
        case waiting(CheckedContinuation<Void, any Error>?)
        case done((any Error)?)
    }
    private let state = Mutex<State>(.waiting(nil))

    func complete(_ error: (any Error)?) {
        let waiter: CheckedContinuation<Void, any Error>? = state.withLock { s in
            guard case .waiting(let c) = s else { return nil }
            s = .done(error)
            return c
        }
        if let waiter {
            if let error { waiter.resume(throwing: error) } else { waiter.resume() }
        }
    }

    func wait() async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let finished: (any Error)?? = state.withLock { s in
                switch s {
                case .done(let e): return .some(e)
                case .waiting:
                    s = .waiting(c)
                    return .none
                }
            }
            if case .some(let error) = finished {
                if let error { c.resume(throwing: error) } else { c.resume() }
            }
        }
    }
}

extension Database {
    /// Runs one statement compiled once per connection (GRDB's statement cache) instead of parsing
    /// its SQL on every call: parsing showed in the send path's profile.
    func run(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
