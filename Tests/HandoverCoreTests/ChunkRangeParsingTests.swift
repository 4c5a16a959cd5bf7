import Testing

@testable import HandoverCore

/// The byte-wise reading of `Mex-Chunk-Range` that every send takes decides exactly as the general
/// reading does, for any text: it only ever answers for plain `digits:digits` and leaves the rest.
@Suite("Chunk range parsing")
struct ChunkRangeParsingTests {
    @Test func theFastReadingAgreesWithTheGeneralOneOnEveryText() {
        let alphabet: [Character] = ["0", "1", "2", "9", ":", " ", "\t", "a", "-", "+", "\u{00A0}", "٣"]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15  // a fixed seed: the same texts on every run
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        var answered = 0
        let digits: [Character] = ["0", "1", "2", "5", "9"]
        for round in 0..<50_000 {
            var text: String
            if round % 2 == 0 {
                text = String((0..<next(12)).map { _ in alphabet[next(alphabet.count)] })
            } else {
                // Mostly the shape the fast reading answers: digits, a colon, digits; now and then with one stray character.
                text =
                    String((0..<next(8)).map { _ in digits[next(digits.count)] }) + ":"
                    + String((0..<next(8)).map { _ in digits[next(digits.count)] })
                if next(4) == 0 { text.insert(alphabet[next(alphabet.count)], at: text.index(text.startIndex, offsetBy: next(text.count + 1))) }
            }
            let fast = ChunkRange.parseDigits(text.utf8)
            if let fast {
                answered += 1
                #expect(fast == ChunkRange.parseGeneral(text), "\(text.debugDescription)")
            }
            #expect(ChunkRange.parse(text) == ChunkRange.parseGeneral(text), "\(text.debugDescription)")
        }
        #expect(answered > 1_000)  // the fast reading was exercised, not only the general one
        for text in ["1:1", "000001:000009", "10000:10000"] { #expect(ChunkRange.parseDigits(text.utf8) != nil) }
        for text in ["1234567:1", "1:1234567", "10001:10001", " 1:1", "1:1 ", "1::1", ":1", "1:"] {
            #expect(ChunkRange.parseDigits(text.utf8) == nil, "\(text.debugDescription)")
        }
    }
}
