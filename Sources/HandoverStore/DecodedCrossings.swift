import Foundation
import HandoverCore
import Synchronization

/// Crossing records already decoded, by their stored text. A crossing is written once with its message
/// and read back at every later step (the download's read, marking it downloaded, the acknowledgement,
/// the console): decoding the same text again was about 5 % of the broker's CPU in a profile of full
/// cycles. Two generations bound the memory: when the newer is full it becomes the older, and the
/// older is dropped; a text found in the older moves to the newer.
final class DecodedCrossings: Sendable {
    private struct Generations {
        var newer: [String: CrossingRecord] = [:]
        var older: [String: CrossingRecord] = [:]

        mutating func find(_ text: String, capacity: Int) -> CrossingRecord? {
            if let found = newer[text] { return found }
            guard let found = older.removeValue(forKey: text) else { return nil }
            keep(found, for: text, capacity: capacity)
            return found
        }

        mutating func keep(_ record: CrossingRecord, for text: String, capacity: Int) {
            if newer.count >= capacity {
                older = newer
                newer = [:]
            }
            newer[text] = record
        }
    }

    private let generations = Mutex(Generations())
    private let capacity: Int
    /// Longer texts (many subjects) are decoded every time rather than held.
    static let longestKept = 16 * 1024

    init(capacity: Int = 1024) { self.capacity = capacity }

    func record(fromJSON text: String) -> CrossingRecord? {
        let kept = text.utf8.count <= Self.longestKept
        if kept, let found = generations.withLock({ $0.find(text, capacity: capacity) }) { return found }
        guard let decoded = try? JSONDecoder().decode(CrossingRecord.self, from: Data(text.utf8)) else { return nil }
        if kept { generations.withLock { $0.keep(decoded, for: text, capacity: capacity) } }
        return decoded
    }

    var count: Int { generations.withLock { $0.newer.count + $0.older.count } }
}
