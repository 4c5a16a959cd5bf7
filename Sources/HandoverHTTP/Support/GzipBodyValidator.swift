import CZlib
import HandoverCore
import HandoverStore
import NIOCore

/// Inflates a `Content-Encoding: gzip` upload as it streams in, discarding the output, so a corrupt
/// or truncated body is refused with 400 at upload instead of failing a later download. Accepts
/// several concatenated gzip members, as gunzip does. Memory: one 64 KiB window and zlib's state.
/// Work is bounded too: a body that inflates past `maximumInflatedBytes`, or more than `maximumRatio`
/// times its compressed size (a "zip bomb": 10 MB of gzipped zeros is 10 GB), is refused with 413.
final class GzipBodyValidator: BodyInspector {
    static let maximumInflatedBytes: Int64 = 1 << 30
    static let maximumRatio: Int64 = 200
    /// Ratios are only judged past this much output, so tiny, very compressible bodies pass.
    static let ratioGrace: Int64 = 1 << 20
    private var compressedBytes: Int64 = 0
    private var inflatedBytes: Int64 = 0
    private var stream = z_stream()
    private var started = false
    /// True between members: the last member ended and no byte of a new one has arrived.
    private var atMemberEnd = false
    private var output = [UInt8](repeating: 0, count: 64 * 1024)
    /// The first inflated bytes, kept when the payload may be a FHIR Bundle the broker reads
    /// (see `retainingFHIR`); nil otherwise.
    private(set) var retained: [UInt8]?
    private let fhirContentType: String?

    /// `retainingFHIR`: keep up to `FHIRMessageReader.maximumBytes + 1` inflated bytes while they may be FHIR.
    init(retainingFHIR: Bool = false, contentType: String? = nil) {
        retained = retainingFHIR ? [] : nil
        fhirContentType = contentType
    }

    private func retain(_ bytes: UnsafeRawBufferPointer) {
        guard var kept = retained else { return }
        retained = nil  // keep the array uniquely referenced while appending
        let limit = FHIRMessageReader.maximumBytes + 1
        kept.append(contentsOf: bytes.prefix(max(0, limit - kept.count)))
        // Once enough is seen to sniff, stop keeping bytes that are not FHIR.
        if kept.count >= 2048 && kept.count - bytes.count < 2048 && FHIRMessageReader.format(contentType: fhirContentType, prefix: kept) == nil {
            return
        }
        retained = kept
    }

    deinit { if started { inflateEnd(&stream) } }

    func inspect(_ part: ByteBuffer) throws {
        if !started {
            guard inflateInit2_(&stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { throw invalid }
            started = true
        }
        var failed = false
        var tooLarge = false
        compressedBytes += Int64(part.readableBytes)
        part.withUnsafeReadableBytes { input in
            guard let base = input.baseAddress, input.count > 0 else { return }
            stream.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
            stream.avail_in = uInt(input.count)
            while stream.avail_in > 0 && !failed && !tooLarge {
                if atMemberEnd {
                    inflateReset(&stream)
                    atMemberEnd = false
                }
                var produced = 0
                let code = output.withUnsafeMutableBytes { out -> Int32 in
                    guard let base = out.baseAddress else { return Z_MEM_ERROR }
                    stream.next_out = base.assumingMemoryBound(to: Bytef.self)
                    stream.avail_out = uInt(out.count)
                    let code = inflate(&stream, Z_NO_FLUSH)
                    produced = out.count - Int(stream.avail_out)
                    retain(UnsafeRawBufferPointer(rebasing: out[..<produced]))
                    return code
                }
                inflatedBytes += Int64(produced)
                if inflatedBytes > Self.maximumInflatedBytes
                    || (inflatedBytes > Self.ratioGrace && inflatedBytes > compressedBytes * Self.maximumRatio)
                {
                    tooLarge = true
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
        if tooLarge {
            throw MeshError(
                .inflatedTooLarge, event: "SEND",
                message: "the gzip body inflates to more than \(Self.maximumRatio) times its size or 1 GiB (Content-Encoding: gzip)")
        }
    }

    func finish() throws {
        guard started else { return }
        guard atMemberEnd else { throw MeshError.badRequest("the gzip body is truncated (Content-Encoding: gzip)") }
    }

    private var invalid: MeshError { MeshError.badRequest("the body is not valid gzip (Content-Encoding: gzip)") }
}
