import Crypto
import Foundation
import HandoverCore
import NIOCore

/// Streams a request body into the store in fixed-size segments, so a chunk is never held whole in
/// memory: at most one segment per upload is buffered. A body that fits in one segment is returned
/// inline instead, to be written in the same transaction as its message.
public struct ChunkStager: Sendable {
    /// 1 MiB: large enough that a 75 MiB chunk is 75 rows, small enough to bound memory per upload.
    public static let defaultSegmentSize = 1 << 20

    public let segmentSize: Int
    public let maxBytes: Int64

    public init(segmentSize: Int = ChunkStager.defaultSegmentSize, maxBytes: Int64) {
        self.segmentSize = segmentSize
        self.maxBytes = maxBytes
    }

    /// Reads `body` to its end. Throws `MeshError.payloadTooLarge` past `maxBytes`; any error from the
    /// body (a truncated or aborted upload) propagates, leaving only unreferenced segments behind.
    public func stage<Body: AsyncSequence>(
        _ body: Body, into store: any MessageStore, now: Timestamp, inspector: (any BodyInspector)? = nil
    ) async throws -> StagedChunk where Body.Element == ByteBuffer {
        let uploadID = Self.newUploadID(now: now)
        var hasher = SHA256()
        var pending = ByteBuffer()
        var total: Int64 = 0
        var index = 0
        for try await part in body {
            total += Int64(part.readableBytes)
            guard total <= maxBytes else { throw MeshError.payloadTooLarge }
            part.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
            try inspector?.inspect(part)
            var part = part
            while part.readableBytes > 0 {
                // Flush a full segment only when more bytes arrive, so a body of exactly one
                // segment stays inline.
                if pending.readableBytes == segmentSize {
                    try await store.stageSegment(uploadID: uploadID, index: index, bytes: pending, now: now)
                    index += 1
                    pending = ByteBuffer()
                }
                var slice = part.readSlice(length: min(segmentSize - pending.readableBytes, part.readableBytes))!
                pending.writeBuffer(&slice)
            }
        }
        try inspector?.finish()
        let digest = hexString(hasher.finalize())
        if index == 0 {
            return StagedChunk(
                uploadID: uploadID, size: total, segmentCount: total == 0 ? 0 : 1, sha256: digest,
                inlineSegment: total == 0 ? nil : pending)
        }
        if pending.readableBytes > 0 {
            try await store.stageSegment(uploadID: uploadID, index: index, bytes: pending, now: now)
            index += 1
        }
        return StagedChunk(uploadID: uploadID, size: total, segmentCount: index, sha256: digest, inlineSegment: nil)
    }

    /// Time-ordered (microseconds, then 64 random bits): uploads indexed by id land on the B-tree's
    /// last pages instead of a random page each, which cut the pages a commit writes. The random
    /// half from `IDRandom`, which asks the kernel in bulk rather than once an id.
    public static func newUploadID(now: Timestamp) -> String {
        var random = IDRandom()
        return paddedHex(UInt64(max(0, now.microsecondsSinceEpoch)), width: 14) + paddedHex(random.next(), width: 16)
    }
}

/// Checks a body as it streams past (for example, that a gzip body really is gzip), so a malformed
/// upload is refused before anything refers to it.
public protocol BodyInspector: AnyObject {
    func inspect(_ part: ByteBuffer) throws
    func finish() throws
}

extension StagedChunk {
    /// A short body the broker writes itself (a notice, a demonstration payload), held in memory and
    /// stored with its message in one transaction.
    public static func inline(_ text: String, now: Timestamp) -> StagedChunk {
        let bytes = ByteBuffer(string: text)
        return StagedChunk(
            uploadID: ChunkStager.newUploadID(now: now), size: Int64(bytes.readableBytes), segmentCount: 1, sha256: "", inlineSegment: bytes)
    }
}
