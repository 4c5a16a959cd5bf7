/// `Mex-Chunk-Range: n:N`. For the first POST `n` must be 1; for later chunks it must equal the path's number.
public struct ChunkRange: Hashable, Sendable {
    public let number: Int
    public let total: Int

    public init?(number: Int, total: Int) {
        guard number >= 1, total >= 1, number <= total, total <= ChunkRange.maxChunks else { return nil }
        self.number = number
        self.total = total
    }

    /// The most chunks one message may have: 100 GB in 75 MiB chunks is ~1,300, so this leaves room.
    public static let maxChunks = 10_000

    public static func parse(_ text: String?) -> ChunkRange? {
        guard let text else { return nil }
        let parts = text.trimmingWhitespace().split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.count <= 6 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let n = Int(parts[0]), let total = Int(parts[1])
        else { return nil }
        return ChunkRange(number: n, total: total)
    }
}
