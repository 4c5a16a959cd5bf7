import Foundation

/// JSON text a store keeps in a column, with its keys sorted. `JSONEncoder` on Linux otherwise writes
/// an object's keys in the order of a dictionary whose seed differs from one encoding to the next, so
/// the same value came out as different texts; PostgreSQL's one-statement acknowledgement compares
/// the columns it read with the same values encoded again, and took every such difference for a
/// change made meanwhile.
public enum StoredJSON {
    public static func text<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
