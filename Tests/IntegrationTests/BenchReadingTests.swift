import Foundation
import NIOCore
import Testing

@testable import HandoverBench

/// The load generator's cheap readings agree with the general ones they replace: a send's reply
/// against `JSONSerialization`, mailbox names against `%03d`.
@Suite("Benchmark readings")
struct BenchReadingTests {
    @Test(arguments: [
        #"{"message_id":"20261203080810873526_28AF8C"}"#,
        "{ \"message_id\" :\n\t\"ABC\" }\r\n",
        #"{"message_id":""}"#,
        #"{"message_id":"caf\u00e9"}"#,
        #"{"message_id":"a\"b"}"#,
        #"{"message_id":"x","other":1}"#,
        #"{"other":{"message_id":"nested"}}"#,
        #"{"message_id":7}"#,
        #"{"message_id":"unclosed}"#,
        #"{"message_id":"x"}}"#,
        #"{"messageID":"v1"}"#,
        "[\"message_id\"]",
    ])
    func aSendsReplyReadsAsJSONSerializationReadsIt(reply: String) throws {
        let expected = try? (JSONSerialization.jsonObject(with: Data(reply.utf8)) as? [String: Any])?["message_id"] as? String
        let read = try? SendReply.messageID(in: ByteBuffer(string: reply))
        #expect(read == expected, "\(reply)")
    }

    /// The scan itself answers the broker's own shape (so the fallback is not doing all the work) and
    /// declines anything it cannot read exactly.
    @Test func theBrokersShapeIsReadWithoutTheFullParser() {
        func scan(_ text: String) -> String? { Array(text.utf8).withUnsafeBufferPointer(SendReply.plainMessageID) }
        #expect(scan(#"{"message_id":"20261203080810873526_28AF8C"}"#) == "20261203080810873526_28AF8C")
        #expect(scan(" {\"message_id\": \"A\"}\n") == "A")
        #expect(scan(#"{"message_id":"a\"b"}"#) == nil)
        #expect(scan(#"{"message_id":"x","other":1}"#) == nil)
        #expect(scan(#"{"message_id":"x"} trailing"#) == nil)
        #expect(scan("{\"message_id\":\"tab\there\"}") == nil)
    }

    @Test func mailboxesAreNumberedAsPercent03dWouldNumberThem() {
        for count in [1, 8, 1000, 5000] {
            var config = BenchConfiguration()
            config.mailboxes = count
            for i in [0, 1, 7, 8, 9, 99, 100, 999, 1234, 4999, 12345] {
                #expect(config.mailbox(i) == "BENCH" + String(format: "%03d", i % count), "\(i) of \(count)")
            }
        }
    }
}
