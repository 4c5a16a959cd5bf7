import HandoverCore
import HandoverStore

extension PostgresStore {
    static func tokenBatcher() -> ClientGroupCommit<TokenSpend, Bool> { ClientGroupCommit(maximumBatch: 256, write: spendTokens) }

    /// Inserts every digest of the batch at once; a digest the statement did not insert was spent
    /// before. Of equal digests within one batch (one token sent twice at once), only the first spends it.
    static func spendTokens(_ batch: [TokenSpend], in store: PostgresStore) async -> [Result<Bool, any Error>] {
        do {
            let inserted = try await store.run(on: store.replayClient) { connection in
                var digests = Set<String>()
                for try await digest in try await connection.execute(SpendTokensStatement(spends: batch), logger: store.logger) {
                    digests.insert(digest)
                }
                return digests
            }
            var claimed = Set<String>()
            return batch.map { .success(inserted.contains($0.digest) && claimed.insert($0.digest).inserted) }
        } catch {
            return batch.map { _ in .failure(error) }
        }
    }
}
