import CZlib
import HandoverCore
import HandoverStore
import NIOCore

/// Inflates a `Content-Encoding: gzip` upload as it streams in, discarding the output, so a corrupt
/// or truncated body is refused with 400 at upload instead of failing a later download. Accepts
/// several concatenated gzip members, as gunzip does. Memory: one 64 KiB window and zlib's state.
final class GzipBodyValidator: BodyInspector {
    private var stream = z_stream()
    private var started = false
    /// True between members: the last member ended and no byte of a new one has arrived.
    private var atMemberEnd = false
    private var output = [UInt8](repeating: 0, count: 64 * 1024)

    deinit { if started { inflateEnd(&stream) } }

    func inspect(_ part: ByteBuffer) throws {
        if !started {
            guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw invalid }
            started = true
        }
        var failed = false
        part.withUnsafeReadableBytes { input in
            guard let base = input.baseAddress, input.count > 0 else { return }
            stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            while stream.avail_in > 0 && !failed {
                if atMemberEnd {
                    inflateReset(&stream)
                    atMemberEnd = false
                }
                let code = output.withUnsafeMutableBytes { out -> Int32 in
                    stream.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = uInt(out.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                switch code {
                case Z_OK, Z_BUF_ERROR: continue
                case Z_STREAM_END: atMemberEnd = true
                default: failed = true
                }
            }
            stream.next_in = nil
        }
        if failed { throw invalid }
    }

    func finish() throws {
        guard started else { return }
        guard atMemberEnd else { throw MeshError.badRequest("the gzip body is truncated (Content-Encoding: gzip)") }
    }

    private var invalid: MeshError { MeshError.badRequest("the body is not valid gzip (Content-Encoding: gzip)") }
}
