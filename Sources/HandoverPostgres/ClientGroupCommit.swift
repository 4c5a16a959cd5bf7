import Synchronization

/// Group commit on the client side: items that arrive while earlier ones are being written share one
/// statement, so one round trip, one transaction and one commit (PostgreSQL's plain deliveries and
/// token spends). Profiled with one statement per send, PostgreSQL spent a third of its time on each
/// statement's executor start, per-row trigger and commit, and the broker a fifth of its time in
/// postgres-nio's protocol exchange. An item that finds the writer free goes at once, alone, so a
/// quiet broker keeps its one-round-trip latency; no caller waits for more than the statement in
/// flight and its own. One writer by default: measured with 32 clients on two cores, with the batch
/// statement prepared, one writer's larger batches sent 980 to 1,100 a second, two writers 950 to
/// 960, three 870 to 930. The queue is a lock, not an actor: a caller enqueues and is resumed straight
/// from the writer task, without entering an actor's executor to enqueue and again to resume (as
/// SQLite's `GroupCommitWriter`).
final class ClientGroupCommit<Item: Sendable, Value: Sendable>: Sendable {
    /// Writes a batch; returns one result per item, in order.
    typealias Write = @Sendable ([Item], PostgresStore) async -> [Result<Value, any Error>]

    private struct State {
        var queue: [(item: Item, outcome: OneShot<Value>)] = []
        var writers = 0
        var statements = 0
        var written = 0
    }
    private let state = Mutex(State())
    private let write: Write
    let maximumWriters: Int
    let maximumBatch: Int

    /// Statements run and the items they carried, for tests.
    var statements: Int { state.withLock { $0.statements } }
    var written: Int { state.withLock { $0.written } }

    init(maximumWriters: Int = 1, maximumBatch: Int, write: @escaping Write) {
        (self.maximumWriters, self.maximumBatch, self.write) = (maximumWriters, maximumBatch, write)
    }

    /// Writes `item` with whatever else is waiting and returns its result once its statement is done.
    func submit(_ item: Item, in store: PostgresStore) async throws -> Value {
        let outcome = OneShot<Value>()
        let startsWriter = state.withLock { state in
            state.queue.append((item, outcome))
            guard state.writers < maximumWriters else { return false }
            state.writers += 1
            return true
        }
        if startsWriter { Task { await self.drain(store) } }
        return try await withCheckedThrowingContinuation { outcome.attach($0) }
    }

    private func drain(_ store: PostgresStore) async {
        while let batch = nextBatch() {
            let results = await write(batch.map(\.item), store)
            for (index, waiting) in batch.enumerated() {
                waiting.outcome.finish(
                    index < results.count ? results[index] : .failure(UnexpectedRow(detail: "a batch gave fewer results than items")))
            }
        }
    }

    /// The next batch, or nil with this writer stopped: cleared under the same lock as the empty
    /// check, so an item that arrives later finds a writer free and starts one.
    private func nextBatch() -> [(item: Item, outcome: OneShot<Value>)]? {
        state.withLock { state in
            guard !state.queue.isEmpty else {
                state.writers -= 1
                return nil
            }
            let batch = Array(state.queue.prefix(maximumBatch))
            state.queue.removeFirst(batch.count)
            state.statements += 1
            state.written += batch.count
            return batch
        }
    }
}
