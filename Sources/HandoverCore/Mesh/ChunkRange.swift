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
        // Every send carries one ("1:1" for most): digits, a colon, digits read as bytes. Anything else
        // (spaces, other characters) takes the general reading below, which decides the same for these.
        return parseDigits(text.utf8) ?? parseGeneral(text)
    }

    /// Any header text: trimmed of whitespace, two parts of one to six digits.
    static func parseGeneral(_ text: String) -> ChunkRange? {
        let parts = text.trimmingWhitespace().split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.count <= 6 && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let n = Int(parts[0]), let total = Int(parts[1])
        else { return nil }
        return ChunkRange(number: n, total: total)
    }

    /// `n:total` with one to six ASCII digits each and nothing else; nil for any other text.
    static func parseDigits(_ bytes: String.UTF8View) -> ChunkRange? {
        var numbers = (0, 0), digits = 0, afterColon = false
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits += 1
                guard digits <= 6 else { return nil }
                let value = Int(byte - UInt8(ascii: "0"))
                if afterColon { numbers.1 = numbers.1 * 10 + value } else { numbers.0 = numbers.0 * 10 + value }
            case UInt8(ascii: ":") where !afterColon && digits > 0:
                (afterColon, digits) = (true, 0)
            default:
                return nil
            }
        }
        guard afterColon, digits > 0 else { return nil }
        return ChunkRange(number: numbers.0, total: numbers.1)
    }
}
