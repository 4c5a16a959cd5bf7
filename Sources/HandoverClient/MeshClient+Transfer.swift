import AsyncHTTPClient
import Foundation
import HandoverCore
import HandoverGzip
import NIOCore
import NIOHTTP1

/// What to send: the file and MESH's headers.
public struct Outgoing: Sendable {
    public var file: String
    public var to: String
    public var workflow: String
    public var subject: String?
    public var localID: String?
    /// Gzip each chunk on the way (`Content-Encoding: gzip`, transport only: MESH splits the file
    /// first and gzips each part on its own, so the receiver can gunzip parts one by one).
    public var gzip = false
    /// A crossing record (Handover's `Mex-Handover-Crossing`), as JSON.
    public var crossingJSON: String?
    public var chunkSize = 20 << 20

    public init(file: String, to: String, workflow: String) { (self.file, self.to, self.workflow) = (file, to, workflow) }
}

extension MeshClient {
    /// Sends a file, in chunks when it is larger than one; returns the message id.
    public func send(_ outgoing: Outgoing, progress: TransferProgress) async throws -> String {
        // Read a chunk at a time: a chunked message may be far larger than memory.
        guard let file = FileHandle(forReadingAtPath: outgoing.file),
            let size = (try? FileManager.default.attributesOfItem(atPath: outgoing.file)[.size] as? NSNumber)?.intValue
        else { throw ClientError("cannot read \(outgoing.file)") }
        defer { try? file.close() }
        let total = max(1, (size + outgoing.chunkSize - 1) / outgoing.chunkSize)
        var headers: [(String, String)] = [
            ("mex-from", mailbox), ("mex-to", outgoing.to), ("mex-workflowid", outgoing.workflow), ("content-type", "application/octet-stream"),
            ("mex-filename", URL(fileURLWithPath: outgoing.file).lastPathComponent),
        ]
        if let subject = outgoing.subject { headers.append(("mex-subject", subject)) }
        if let localID = outgoing.localID { headers.append(("mex-localid", localID)) }
        if outgoing.gzip { headers.append(("content-encoding", "gzip")) }
        if let crossing = outgoing.crossingJSON { headers.append(("mex-handover-crossing", base64URL(Array(crossing.utf8)))) }
        progress.start("sending \(outgoing.file)", bytes: Int64(size))
        /// Part `n` of the file, gzipped on its own when asked, and its size before gzip.
        func part(_ n: Int) throws -> (body: ByteBuffer, bytes: Int) {
            try file.seek(toOffset: UInt64((n - 1) * outgoing.chunkSize))
            let slice = try file.read(upToCount: min(outgoing.chunkSize, size - (n - 1) * outgoing.chunkSize)) ?? Data()
            return (ByteBuffer(bytes: outgoing.gzip ? try Gzip.compress(slice) : slice), slice.count)
        }
        let first = try part(1)
        let (_, body) = try await call(request(.POST, "outbox", headers: headers + [("mex-chunk-range", "1:\(total)")], body: first.body))
        guard let id = json(body)["message_id"] as? String else { throw ClientError("the server accepted the send but named no message id") }
        progress.advance(by: Int64(first.bytes), note: "chunk 1 of \(total)")
        for n in stride(from: 2, through: total, by: 1) {
            let chunk = try part(n)
            var chunkHeaders: [(String, String)] = [("mex-chunk-range", "\(n):\(total)"), ("content-type", "application/octet-stream")]
            if outgoing.gzip { chunkHeaders.append(("content-encoding", "gzip")) }
            _ = try await call(request(.POST, "outbox/\(id)/\(n)", headers: chunkHeaders, body: chunk.body))
            progress.advance(by: Int64(chunk.bytes), note: "chunk \(n) of \(total)")
        }
        progress.finish("sent \(id)")
        return id
    }

    /// Downloads a message into `output`. Each chunk is kept in `output.partial/` once whole (written,
    /// fsynced, renamed), so a download interrupted at any point resumes at the first chunk missing.
    /// A chunk that comes gzip-encoded is gunzipped on its own. Returns MESH's headers of the message.
    public func download(_ id: String, to output: String, progress: TransferProgress) async throws -> [String: String] {
        let partial = output + ".partial"
        try FileManager.default.createDirectory(atPath: partial, withIntermediateDirectories: true)
        let first = try await fetchChunk(id, number: 1, into: partial)
        let headers = first.headers
        let total = headers["mex-chunk-range"].flatMap { ChunkRange.parse($0)?.total } ?? 1
        progress.start("downloading \(id)", bytes: nil)
        progress.advance(by: first.bytes, note: "chunk 1 of \(total)\(first.resumed ? " (kept from before)" : "")")
        for n in stride(from: 2, through: total, by: 1) {
            let chunk = try await fetchChunk(id, number: n, into: partial)
            progress.advance(by: chunk.bytes, note: "chunk \(n) of \(total)\(chunk.resumed ? " (kept from before)" : "")")
        }
        try Self.join(folder: partial, total: max(total, 1), into: output)
        try FileManager.default.removeItem(atPath: partial)
        progress.finish("saved \(output)")
        return headers
    }

    /// The chunks kept in `folder` (each gunzipped on arrival if it came gzip-encoded), joined into
    /// `output` a chunk at a time, fsynced, then renamed into place.
    static func join(folder: String, total: Int, into output: String) throws {
        let temporary = output + ".tmp"
        // A failure to create it shows as the FileHandle's error on the next line.
        _ = FileManager.default.createFile(atPath: temporary, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        do {
            for n in 1...total {
                guard let data = FileManager.default.contents(atPath: "\(folder)/\(n)") else {
                    throw ClientError("chunk \(n) went missing from \(folder)")
                }
                try handle.write(contentsOf: data)
            }
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            throw error
        }
        try rename(temporary, to: output)
    }

    /// One chunk into `folder/n`, gunzipped if it came gzip-encoded (MESH gzips each part on its own),
    /// and the first chunk's headers into `folder/headers.json`; unless an earlier run already kept it.
    func fetchChunk(_ id: String, number: Int, into folder: String) async throws -> (headers: [String: String], bytes: Int64, resumed: Bool) {
        let headersPath = "\(folder)/headers.json"
        let path = "\(folder)/\(number)"
        if let kept = FileManager.default.contents(atPath: path) {
            let headers = (try? JSONDecoder().decode([String: String].self, from: Data(contentsOf: URL(fileURLWithPath: headersPath)))) ?? [:]
            if number > 1 || !headers.isEmpty { return (headers, Int64(kept.count), true) }
        }
        let response = try await http.execute(
            request(.GET, "inbox/\(id)" + (number > 1 ? "/\(number)" : ""), headers: [("accept-encoding", "gzip")]),
            timeout: .seconds(600))
        guard response.status == .ok || response.status == .partialContent else {
            throw MeshRefusal(status: Int(response.status.code), body: try await response.body.collect(upTo: 1 << 20))
        }
        var headers: [String: String] = [:]
        for field in response.headers where field.name.lowercased().hasPrefix("mex-") || field.name.lowercased() == "content-encoding" {
            headers[field.name.lowercased()] = field.value
        }
        // A chunk is at most 100 MB (MESH's limit per request), so it is held whole before it is kept.
        var body = try await response.body.collect(upTo: 110_000_000)
        var data = Data(body.readableBytesView)
        if headers["content-encoding"] == "gzip" { data = try Gzip.decompress(data) }
        body.clear()
        if number == 1 { try Self.writeDurably(try JSONEncoder().encode(headers), to: headersPath) }
        try Self.writeDurably(data, to: path)
        return (headers, Int64(data.count), false)
    }

    static func writeDurably(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp"
        // A failure to create it shows as the FileHandle's error on the next line.
        _ = FileManager.default.createFile(atPath: temporary, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
        try handle.write(contentsOf: data)
        try handle.synchronize()
        try handle.close()
        try rename(temporary, to: path)
    }

    static func rename(_ from: String, to: String) throws {
        guard Foundation.rename(from, to) == 0 else { throw ClientError("cannot rename \(from) to \(to): errno \(errno)") }
    }

    func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
