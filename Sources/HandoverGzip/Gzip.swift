import CZlib
import Foundation

/// Gzip for chunks, over the system zlib: MESH gzips each part of a message on its own, and a
/// receiver gunzips each part on its own (the client), or the whole message at once (the console's
/// summary of a compressed FHIR payload).
public enum Gzip {
    public static func compress(_ input: Data) throws -> Data {
        var stream = z_stream()
        // 15 + 16: a gzip header and trailer rather than zlib's.
        guard
            deflateInit2_(
                &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION,
                Int32(MemoryLayout<z_stream>.size)) == Z_OK
        else { throw GzipError("zlib could not start") }
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 64)
        let written = try input.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Int in
            stream.next_in = UnsafeMutablePointer(mutating: raw.bindMemory(to: UInt8.self).baseAddress)
            stream.avail_in = UInt32(raw.count)
            return try output.withUnsafeMutableBufferPointer { buffer -> Int in
                stream.next_out = buffer.baseAddress
                stream.avail_out = UInt32(buffer.count)
                guard deflate(&stream, Z_FINISH) == Z_STREAM_END else { throw GzipError("zlib could not compress the chunk") }
                return buffer.count - Int(stream.avail_out)
            }
        }
        return Data(output[0..<written])
    }

    /// Gunzips gzip data of one or more members (RFC 1952 §2.2: members concatenated are one file).
    public static func decompress(_ input: Data, limit: Int = 1 << 32) throws -> Data {
        var stream = z_stream()
        guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw GzipError("zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output = Data()
        var window = [UInt8](repeating: 0, count: 64 * 1024)
        try input.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard let base = raw.bindMemory(to: UInt8.self).baseAddress else { return }
            stream.next_in = UnsafeMutablePointer(mutating: base)
            stream.avail_in = UInt32(raw.count)
            while true {
                let code = window.withUnsafeMutableBufferPointer { buffer -> Int32 in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = UInt32(buffer.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                output.append(contentsOf: window[0..<(window.count - Int(stream.avail_out))])
                guard output.count <= limit else { throw GzipError("the message inflates past \(limit) bytes") }
                switch code {
                case Z_STREAM_END:
                    // Another member may follow.
                    if stream.avail_in == 0 { return }
                    guard inflateReset(&stream) == Z_OK else { throw GzipError("zlib could not go on to the next gzip member") }
                case Z_OK:
                    if stream.avail_in == 0 && stream.avail_out > 0 { throw GzipError("the gzip data ends before its end") }
                default:
                    throw GzipError("the gzip data is corrupt (zlib \(code))")
                }
            }
        }
        return output
    }
}

/// Why gzip data could not be made or read.
public struct GzipError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
