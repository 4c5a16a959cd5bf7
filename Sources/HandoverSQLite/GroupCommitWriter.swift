import Foundation
import GRDB
import HandoverStore
import Synchronization

/// Shares one transaction, and so one fsync, among all writes that arrive while the previous batch
/// is being committed (group commit, as PostgreSQL's commit_delay and Kafka's batching do). One
/// failing write does not undo the others, and each caller resumes only after its batch is on disk.
/// A drain loop starts on a Dispatch thread when a write finds the writer idle and runs until the
/// queue is empty; no caller drains, so none waits for more than the batch being committed and its
/// own. (When the first caller led the drain, its request waited out the whole busy period: the
/// isolated 0.5 to 1 s sends seen under steady load.) The queue is a lock, not an actor: a caller
/// enqueues and later resumes straight from the drain thread, without passing through an actor's
/// executor on the way in and again on the way out.
///
/// A batch first runs its writes back to back with no savepoints: a savepoint per write was two more
/// statements and a copy of every page it touched (its journal), about a tenth of the writer's CPU
/// in a send profile. If a write throws, the transaction is rolled back and the batch runs again with
/// each write in a savepoint of its own, which undoes only the failing write; the batch after it is
/// also guarded from the start, and the writer trusts batches again only after a guarded batch in
/// which nothing failed. So failures cost at most one wasted attempt each, never every batch twice.
final class GroupCommitWriter: Sendable {
    private struct State {
        var queue: [PendingWrite] = []
        var draining = false
        var guarded = false
    }
    private let state = Mutex(State())
    private let pool: DatabasePool
    private let maxBatch: Int
    private let reserve: StorageReserve?

    init(pool: DatabasePool, maxBatch: Int = 512, reserve: StorageReserve? = nil) {
        self.pool = pool
        self.maxBatch = maxBatch
        self.reserve = reserve
    }

    /// Savepoints from the start: set by a batch in which a write failed.
    var guarded: Bool { state.withLock { $0.guarded } }

    /// Writes waiting for the next batch (for tests that build a batch).
    var queuedCount: Int { state.withLock { $0.queue.count } }

    /// Failures of the disk or database (full, I/O, locked) come back as `StoreUnavailable`; a full
    /// disk gives the storage reserve back, so the writes that finish work can still commit. `body`
    /// may run twice (when another write in its batch fails), so it changes nothing outside the
    /// database: what it returns is what counts.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        let box = ResultBox<T>()
        let item = PendingWrite(run: { db in box.set(.success(try body(db))) }, fail: { box.set(.failure($0)) })
        let startsDrain = state.withLock { state in
            state.queue.append(item)
            if state.draining { return false }
            state.draining = true
            return true
        }
        // On a Dispatch thread (see `SQLiteStore.read`: GRDB's calls block their thread).
        if startsDrain { SQLiteStore.blockingQueue.async { self.drain() } }
        do {
            try await item.completion.wait()
            return try box.get()
        } catch {
            let translated = SQLiteFailure.translated(error)
            if (translated as? StoreUnavailable)?.cause == .full { reserve?.release() }
            throw translated
        }
    }

    /// Commits batches until the queue is empty. `draining` is cleared under the same lock as the
    /// empty check, so a write that arrives later finds the writer idle and starts the next drain.
    private func drain() {
        while let (batch, guarded) = nextBatch() {
            let outcome = Self.run(batch, on: pool, guarded: guarded)
            state.withLock { $0.guarded = outcome.writeFailed }
            for item in batch { item.completion.complete(outcome.error) }
        }
    }

    private func nextBatch() -> ([PendingWrite], guarded: Bool)? {
        state.withLock { state in
            guard !state.queue.isEmpty else {
                state.draining = false
                return nil
            }
            let batch = Array(state.queue.prefix(maxBatch))
            state.queue.removeFirst(batch.count)
            return (batch, state.guarded)
        }
    }

    /// `error` is the transaction's own failure (begin or commit), which every write in the batch
    /// shares; a write's own failure is in its result. `writeFailed`: the next batch is guarded.
    private static func run(_ batch: [PendingWrite], on pool: DatabasePool, guarded: Bool) -> (error: (any Error)?, writeFailed: Bool) {
        if !guarded {
            do {
                try pool.write { db in
                    for item in batch {
                        do { try item.run(db) } catch {
                            item.fail(error)
                            throw WriteFailed()
                        }
                    }
                }
                return (nil, false)
            } catch is WriteFailed {
                // Rolled back. A write alone has nothing to redo: its result holds its error.
                if batch.count == 1 { return (nil, true) }
            } catch {
                return (error, false)
            }
        }
        var writeFailed = false
        do {
            try pool.write { db in
                for item in batch {
                    do {
                        try db.inSavepoint {
                            try item.run(db)
                            return .commit
                        }
                    } catch {
                        item.fail(error)
                        writeFailed = true
                    }
                }
            }
            return (nil, writeFailed)
        } catch {
            return (error, writeFailed)
        }
    }
}

/// A write of an unguarded batch threw: the batch's transaction is rolled back.
private struct WriteFailed: Error {}

final class PendingWrite: Sendable {
    /// Runs the write and keeps its result; may run twice (its first run rolled back with its batch).
    let run: @Sendable (Database) throws -> Void
    let fail: @Sendable (any Error) -> Void
    let completion = OneShot()
    init(run: @escaping @Sendable (Database) throws -> Void, fail: @escaping @Sendable (any Error) -> Void) {
        self.run = run
        self.fail = fail
    }
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
