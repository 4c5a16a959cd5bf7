import Foundation
import HandoverCore
import Testing

@testable import HandoverStore

@Suite("Decoded crossings, kept by their stored text")
struct DecodedCrossingsTests {
    func text(purpose: String) throws -> (String, CrossingRecord) {
        let record = CrossingRecord(
            CrossingDeclaration(
                subjects: [CrossingSubject(nhsNumber: "4010232137", nhsNumberStatus: "01", localIDs: [])],
                lawfulBasis: LawfulBasis(article6: "A6-1e", article9: "A9-2h", schedule1: nil),
                intent: ClinicalIntent(purpose: purpose, action: "for-action")))
        let text = try #require(MessageRecord.crossingText(record))
        return (text, try JSONDecoder().decode(CrossingRecord.self, from: Data(text.utf8)))
    }

    @Test func aKeptRecordIsTheOneDecodingGivesAndMemoryStaysBounded() throws {
        let cache = DecodedCrossings(capacity: 2)
        let texts = try (0..<5).map { try text(purpose: "purpose \($0)") }
        // Two generations of two: the third text starts a new generation, the fifth drops the first two.
        for ((text, decoded), held) in zip(texts, [1, 2, 3, 4, 3]) {
            #expect(cache.record(fromJSON: text) == decoded)
            #expect(cache.record(fromJSON: text) == decoded)
            #expect(cache.count == held, "asking twice keeps one")
        }
        // A dropped text is decoded afresh, with the same answer, and kept again.
        #expect(cache.record(fromJSON: texts[0].0) == texts[0].1)
        #expect(cache.count == 4)
        #expect(cache.record(fromJSON: "{not json") == nil)
        #expect(cache.count == 4, "what does not decode is not kept")
    }

    @Test func aLongTextIsDecodedButNotKept() throws {
        let cache = DecodedCrossings()
        let (text, decoded) = try text(purpose: String(repeating: "p", count: DecodedCrossings.longestKept))
        #expect(cache.record(fromJSON: text) == decoded)
        #expect(cache.count == 0)
    }
}
