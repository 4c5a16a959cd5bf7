import HandoverCore
import HandoverStore
import NIOCore
import PostgresNIO

/// A plain delivery (see `MessageLifecycle.plainDelivery`) waiting for its statement.
struct PlainDelivery: Sendable {
    let record: MessageRecord
    let chunk: StagedChunk
    let inline: ByteBuffer
    let now: Timestamp
    /// The request's token, spent by the same statement; nil when there is none to spend.
    var token: TokenSpend? = nil
}

extension PostgresStore {
    /// At most 64 deliveries a statement, so a batch's rows and its commit stay short.
    static let deliveriesPerStatement = 64

    static func deliveryBatcher() -> ClientGroupCommit<PlainDelivery, Int64> {
        ClientGroupCommit(maximumBatch: deliveriesPerStatement, write: writeDeliveries)
    }

    /// One delivery alone as the prepared `single` statement; several, or one with a token to spend,
    /// as one `DeliveryBatch` statement. When the server refuses a batch, none of it was written: each
    /// delivery is then written alone, so one bad delivery (a duplicate id, a value a constraint
    /// refuses) does not fail its neighbours.
    static func writeDeliveries(_ batch: [PlainDelivery], in store: PostgresStore) async -> [Result<Int64, any Error>] {
        func alone(_ delivery: PlainDelivery) async -> Result<Int64, any Error> {
            do {
                if delivery.token == nil { return .success(try await store.writeStatement { tx in try await tx.deliver(delivery) }) }
                return position(of: delivery, in: try await store.writeStatement { tx in try await tx.deliver([delivery]) })
            } catch { return .failure(error) }
        }
        if batch.count == 1 { return [await alone(batch[0])] }
        do {
            let positions = try await store.writeStatement { tx in try await tx.deliver(batch) }
            return batch.map { position(of: $0, in: positions) }
        } catch let error as PSQLError where error.code == .server && !isUnavailable(error) {
            return await withTaskGroup(of: (Int, Result<Int64, any Error>).self) { group in
                for (index, delivery) in batch.enumerated() { group.addTask { (index, await alone(delivery)) } }
                var results = [Result<Int64, any Error>](repeating: .failure(CancellationError()), count: batch.count)
                for await (index, result) in group { results[index] = result }
                return results
            }
        } catch {
            return batch.map { _ in .failure(error) }
        }
    }

    /// A delivery the batch statement returned no position for was not written: its token had been
    /// spent (the statement writes only the deliveries whose tokens it spends).
    private static func position(of delivery: PlainDelivery, in positions: [String: Int64]) -> Result<Int64, any Error> {
        if let position = positions[delivery.record.id.rawValue] { return .success(position) }
        if delivery.token != nil { return .failure(TokenAlreadySpent()) }
        return .failure(UnexpectedRow(detail: "the batch returned no inbox position for a message"))
    }
}

extension SQLTransaction {
    /// Runs several deliveries as one statement (prepared on this connection at its first use);
    /// returns each message's inbox position by its id.
    func deliver(_ deliveries: [PlainDelivery]) async throws -> [String: Int64] {
        var positions: [String: Int64] = [:]
        for try await (id, position) in try await connection.execute(DeliveryBatchStatement(deliveries: deliveries), logger: logger) {
            positions[id] = position
        }
        return positions
    }
}
