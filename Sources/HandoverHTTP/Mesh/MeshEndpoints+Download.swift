import CompressNIO
import HTTPTypes
import HandoverCore
import HandoverStore
import Hummingbird

extension MeshEndpoints {
    /// `GET /messageexchange/{MB}/inbox/{ID}[/{n}]`: 206 for every chunk but the last, 200 for the last.
    /// The body streams from the store segment by segment, decoded or gzipped to suit `Accept-Encoding`.
    func download(_ request: Request, _ context: Context) async throws -> Response {
        let caller = try context.meshCaller()
        let (mailbox, version) = (caller.mailbox, caller.version)
        let id = try context.pathMessageID()
        let number = try context.pathChunkNumber() ?? 1
        guard let (message, storedChunk) = try await broker.store.messageWithChunk(id, number: number) else { throw MeshError.messageDoesNotExist }
        guard message.recipient == mailbox else { throw MeshError.forbidden }
        guard message.status == .accepted else { throw MeshError.noLongerAvailable }
        guard number <= max(message.totalChunks, 1) else { throw MeshError.messageDoesNotExist }
        let status: HTTPResponse.Status = number < message.totalChunks ? .partialContent : .ok
        var headers = MessageHeaders.fields(for: message, chunk: number, sandbox: broker.configuration.sandbox)

        if message.type == .report || message.totalChunks == 0 {
            if message.downloadedAt == nil { try await broker.store.markDownloaded(messageID: id, now: broker.clock()) }
            headers[.contentLength] = "0"
            headers[.contentType] = "application/octet-stream"
            return Response(status: status, headers: headers, body: ResponseBody())
        }
        guard let chunk = storedChunk else { throw MeshError.noLongerAvailable }
        // The first download is a fact escalation looks at (not-downloaded); record it before answering.
        if message.downloadedAt == nil { try await broker.store.markDownloaded(messageID: id, now: broker.clock()) }
        headers[.contentType] = (version == .v2 && message.totalChunks == 1 ? message.contentType : nil) ?? "application/octet-stream"

        let plan = BodyEncodingPlan(
            stored: message.contentEncoding, clientAcceptsGzip: request.acceptsGzip,
            version: version, size: chunk.size, compressFrom: broker.configuration.compressResponsesFrom)
        if plan.sendsGzip {
            headers[.contentEncoding] = "gzip"
            if broker.configuration.sandbox { headers[MessageHeaders.Mex.contentCompressed] = "Y" }
        }
        broker.metrics.downloaded()
        let body = PayloadStreamer(store: broker.store, chunk: chunk, transform: plan.transform).responseBody()
        if plan.transform == .none { headers[.contentLength] = String(chunk.size) }
        context.logger.debug("download", metadata: ["handover.mailbox": "\(mailbox)", "handover.message_id": "\(id)", "handover.chunk": "\(number)"])
        return Response(status: status, headers: headers, body: body)
    }

    /// `HEAD /messageexchange/{MB}/inbox/{ID}`: the download's headers for the recipient or the sender.
    func head(_ request: Request, _ context: Context) async throws -> Response {
        let caller = try context.meshCaller()
        let mailbox = caller.mailbox
        let id = try context.pathMessageID()
        guard let message = try await broker.store.message(id), message.recipient == mailbox || message.sender == mailbox else {
            throw MeshError.messageDoesNotExist
        }
        if message.recipient == mailbox, message.status != .accepted { throw MeshError.noLongerAvailable }
        var headers = MessageHeaders.fields(for: message, chunk: 1, sandbox: broker.configuration.sandbox)
        headers[.contentLength] = "0"
        return Response(status: .ok, headers: headers, body: ResponseBody())
    }
}

/// How a stored chunk's encoding meets the client's: pass through, decode for a client that cannot
/// take gzip, or gzip an identity chunk for a v2 client that can (reference §4.6).
struct BodyEncodingPlan {
    enum Transform: Equatable { case none, gunzip, gzip }
    let transform: Transform
    let sendsGzip: Bool

    init(stored: ContentEncoding, clientAcceptsGzip: Bool, version: MeshAPIVersion, size: Int64, compressFrom: Int64) {
        switch (stored, clientAcceptsGzip) {
        case (.gzip, true): (transform, sendsGzip) = (.none, true)
        case (.gzip, false): (transform, sendsGzip) = (.gunzip, false)
        case (.identity, true) where version == .v2 && size >= compressFrom: (transform, sendsGzip) = (.gzip, true)
        case (.identity, _): (transform, sendsGzip) = (.none, false)
        }
    }
}

/// Streams a stored chunk's segments to the response, applying the encoding transform on the way,
/// so memory stays at about one segment whatever the chunk's size.
struct PayloadStreamer: Sendable {
    let store: any MessageStore
    let chunk: StoredChunk
    let transform: BodyEncodingPlan.Transform

    func responseBody() -> ResponseBody {
        let store = self.store, chunk = self.chunk, transform = self.transform
        return ResponseBody(contentLength: transform == .none ? Int(chunk.size) : nil) { writer in
            switch transform {
            case .none:
                for index in 0..<chunk.segmentCount {
                    guard let segment = try await store.segment(of: chunk, index: index) else { throw MeshError.noLongerAvailable }
                    try await writer.write(segment)
                }
            case .gzip:
                let compressor = CompressionAlgorithm.gzip().compressor
                compressor.window = ByteBufferAllocator().buffer(capacity: 64 * 1024)
                try compressor.startStream()
                for index in 0..<chunk.segmentCount {
                    guard var segment = try await store.segment(of: chunk, index: index) else { throw MeshError.noLongerAvailable }
                    let last = index == chunk.segmentCount - 1
                    try await segment.compressStream(with: compressor, flush: last ? .finish : .no) { try await writer.write($0) }
                }
                try compressor.finishStream()
            case .gunzip:
                let decompressor = CompressionAlgorithm.gzip().decompressor
                decompressor.window = ByteBufferAllocator().buffer(capacity: 64 * 1024)
                try decompressor.startStream()
                for index in 0..<chunk.segmentCount {
                    guard var segment = try await store.segment(of: chunk, index: index) else { throw MeshError.noLongerAvailable }
                    try await segment.decompressStream(with: decompressor) { try await writer.write($0) }
                }
                try decompressor.finishStream()
            }
            try await writer.finish(nil)
        }
    }
}
