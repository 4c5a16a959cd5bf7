import CompressNIO
import HandoverCore
import HandoverStore
import NIOCore

/// Inflates a `Content-Encoding: gzip` upload as it streams in, discarding the output, so a corrupt
/// or truncated gzip body is refused with 400 at upload instead of failing a later download.
/// Memory: one 64 KiB window.
final class GzipBodyValidator: BodyInspector {
    private let decompressor: any NIODecompressor
    private var window = ByteBufferAllocator().buffer(capacity: 64 * 1024)
    private var started = false

    init() { decompressor = CompressionAlgorithm.gzip().decompressor }

    func inspect(_ part: ByteBuffer) throws {
        if !started {
            try decompressor.startStream()
            started = true
        }
        var input = part
        do {
            while input.readableBytes > 0 {
                window.clear()
                let before = input.readableBytes
                do {
                    try input.decompressStream(to: &window, with: decompressor)
                } catch let error as CompressNIOError where error == .bufferOverflow {
                    continue
                }
                // No progress and no full window: bytes after the end of the gzip stream.
                if input.readableBytes == before && window.readableBytes == 0 { throw CompressNIOError.corruptData }
            }
        } catch {
            throw MeshError.badRequest("the body is not valid gzip (Content-Encoding: gzip)")
        }
    }

    func finish() throws {
        guard started else { return }
        do { try decompressor.finishStream() } catch { throw MeshError.badRequest("the gzip body is truncated") }
    }
}
