/// Whether an `Accept-Encoding` value lets a response be gzip: some listed coding is `gzip` or `*`
/// (in any case) without a quality of zero (`q=0`, `q=0.0`, …). Read byte by byte: lowercasing,
/// splitting and trimming with Foundation on every download was about 1 % of a full cycle's CPU.
public enum AcceptEncoding {
    public static func allowsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        return header.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: true).contains { part in
            let pieces = part.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)
            let coding = trimmed(pieces[0])
            guard equalsIgnoringCase(coding, "gzip") || coding.elementsEqual("*".utf8) else { return false }
            return !pieces.dropFirst().contains { isZeroQuality(trimmed($0)) }
        }
    }

    /// `q=0`, `Q = 0.000` and the like: every way of writing a quality of zero (RFC 9110, 12.4.2).
    static func isZeroQuality(_ parameter: Substring.UTF8View) -> Bool {
        let halves = parameter.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
        guard halves.count == 2, equalsIgnoringCase(trimmed(halves[0]), "q") else { return false }
        let value = trimmed(halves[1])
        guard value.first == UInt8(ascii: "0") else { return false }
        let fraction = value.dropFirst()
        return fraction.isEmpty || (fraction.first == UInt8(ascii: ".") && fraction.dropFirst().allSatisfy { $0 == UInt8(ascii: "0") })
    }

    static func trimmed(_ bytes: Substring.UTF8View) -> Substring.UTF8View {
        let isSpace = { (b: UInt8) in b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else {
            return bytes[bytes.startIndex..<bytes.startIndex]
        }
        return bytes[first...last]
    }

    /// ASCII letters compared without case; `word` is lowercase.
    static func equalsIgnoringCase(_ bytes: Substring.UTF8View, _ word: String) -> Bool {
        guard bytes.count == word.utf8.count else { return false }
        for (byte, expected) in zip(bytes, word.utf8) {
            let lowered: UInt8 = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
            if lowered != expected { return false }
        }
        return true
    }
}
