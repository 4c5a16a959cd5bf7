import Foundation
import NIOCore

/// Reads the message id from a send's reply. The broker's reply is exactly `{"message_id":"…"}`,
/// which is read by a scan of its bytes; any other text (other keys, an escape in the value, no
/// object) goes to `JSONSerialization`, so every valid reply reads as that parser reads it. Parsing
/// every reply with `JSONSerialization` (and copying it into `Data` first) was 7 % of the load
/// generator's CPU in a profile of saturated sends: CPU taken from the broker it measures.
enum SendReply {
    static func messageID(in body: ByteBuffer) throws -> String? {
        if let id = body.readableBytesView.withContiguousStorageIfAvailable(plainMessageID) ?? nil { return id }
        return (try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])?["message_id"] as? String
    }

    /// The value of `{"message_id":"…"}` (JSON whitespace allowed between tokens) when the value has
    /// no escapes or control characters; nil for any other text.
    static func plainMessageID(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var scan = ByteScan(bytes)
        guard scan.take("{"), scan.take(#""message_id""#), scan.take(":"), scan.take("\"") else { return nil }
        let start = scan.position
        guard let close = scan.skip(while: { $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") && $0 >= 0x20 }),
            scan.take("\""), scan.take("}"), scan.atEnd
        else { return nil }
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<close]), as: UTF8.self)
    }
}

/// A cursor over bytes that skips JSON whitespace before each expected token.
private struct ByteScan {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    var atEnd: Bool {
        mutating get {
            skipSpace()
            return position == bytes.count
        }
    }

    /// Consumes `token` after any whitespace; false (and nothing consumed) when it is not next.
    mutating func take(_ token: StaticString) -> Bool {
        skipSpace()
        let count = token.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        for k in 0..<count where bytes[position + k] != token.utf8Start[k] { return false }
        position += count
        return true
    }

    /// Consumes bytes while `accept` holds; returns where it stopped, or nil at the end of the bytes.
    mutating func skip(while accept: (UInt8) -> Bool) -> Int? {
        while position < bytes.count, accept(bytes[position]) { position += 1 }
        return position < bytes.count ? position : nil
    }

    private mutating func skipSpace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }
}
