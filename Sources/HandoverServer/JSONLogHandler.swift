import Foundation
import HandoverCore
import Logging
import Synchronization

/// One JSON object per line on stderr, with dotted metadata keys as given. Callers never put
/// payloads or secrets in metadata; this handler only formats what it is handed.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    private static let lock = Mutex(())

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var pairs: [(String, JSONValue)] = [
            ("time", .string(SystemClock.now().isoUTC)), ("level", .string(event.level.rawValue)),
            ("logger", .string(label)), ("message", .string(event.message.description)),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { pairs.append((key, .string(value.description))) }
        let line = JSONValue.object(pairs).serialized + "\n"
        Self.lock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
    }
}
