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

/// A send's crossing text is made before its write is queued for SQLite's single writer; the row
/// stores that text only when the record is still the one it was made from.
@Suite("Crossing text made before the write")
struct CrossingTextTests {
    /// The stored values' strings, in order (the crossing's text among them).
    struct Strings: RowValueSink {
        var values: [String?] = []
        mutating func add(_ value: String?) { values.append(value) }
        mutating func add(_ value: Int64?) {}
        mutating func add(_ value: Bool?) {}
        mutating func add(_ value: Double?) {}
    }

    func storedText(_ message: MessageRecord, _ prepared: CrossingText?) -> String? {
        var row = Strings()
        message.addStoredValues(to: &row, crossingText: prepared)
        return row.values.first { $0?.hasPrefix("{") == true } ?? nil
    }

    @Test func theTextMadeBeforehandIsStoredOnlyForTheSameRecord() throws {
        var message = ScorecardStoreTests().crossing(1)
        let record = try #require(message.crossing)
        let prepared = CrossingText(record)
        #expect(storedText(message, prepared) == MessageRecord.crossingText(record))
        #expect(storedText(message, prepared) == storedText(message, nil), "the same text as made in the writer")

        // The record changed after the text was made: the row gets the new record's text.
        message.crossing?.intent = ClinicalIntent(purpose: "changed since", action: "for-information")
        let changed = try #require(message.crossing)
        #expect(storedText(message, prepared) == MessageRecord.crossingText(changed))
        #expect(storedText(message, prepared) != MessageRecord.crossingText(record))

        message.crossing = nil
        #expect(storedText(message, prepared) == nil, "no crossing, no text")
        #expect(CrossingText(nil).text(for: record) == MessageRecord.crossingText(record))
    }
}
