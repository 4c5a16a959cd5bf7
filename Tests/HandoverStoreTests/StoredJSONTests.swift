import Foundation
import HandoverCore
import HandoverStore
import Testing

/// A value stored as JSON text is the same text every time it is written: PostgreSQL's one-statement
/// acknowledgement compares the columns it read with the same values written again, so a record
/// whose keys came out in another order looked changed and sent every such acknowledgement the slow way.
@Suite("Stored JSON text")
struct StoredJSONTests {
    @Test func aResponsibilityRecordIsAlwaysTheSameText() throws {
        var texts: Set<String> = []
        for _ in 0..<50 {
            var record = ResponsibilityRecord()
            record.state = .accepted
            record.decidedBy = Person(name: "Sam Duty", role: "Social worker", team: "Adults")
            record.decidedAt = Timestamp(microsecondsSinceEpoch: 1_795_000_000_000_000)
            record.note = "Taken on"
            record.receiverBasis = LawfulBasis(article6: "A6-1e", article9: "A9-2h", schedule1: "S1-P1-2")
            var message = ScorecardStoreTests().crossing(1)
            message.responsibility = record
            texts.insert(try #require(message.responsibilityJSON))
        }
        #expect(texts.count == 1, "\(texts.count) different texts for one record")
        let text = try #require(texts.first)
        let positions = ["decidedAt", "decidedBy", "note", "receiverBasis", "state"].compactMap { text.range(of: "\"\($0)\"")?.lowerBound }
        #expect(positions.count == 5 && positions == positions.sorted(), "keys in order: \(text)")
        // What is stored reads back as the record.
        let decoded = try JSONDecoder().decode(ResponsibilityRecord.self, from: Data(text.utf8))
        #expect(decoded.decidedBy?.name == "Sam Duty" && decoded.state == .accepted)
    }
}
