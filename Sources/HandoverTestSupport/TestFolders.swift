import Foundation
import Synchronization

/// Temporary folders and files for tests, removed when the test process exits (a full run used to
/// leave hundreds in /tmp). Removal waits for the end of the process, not of a test, because some
/// tests reopen a store in the folder of a broker closed a moment before. Set
/// `HANDOVER_KEEP_TEST_FOLDERS=1` to keep them for a look after a failure.
public enum TestFolders {
    private static let made = Mutex<[URL]>([])
    private static let removedAtExit: Bool = {
        atexit { TestFolders.removeAll() }
        return true
    }()

    /// A new path under the temporary directory, `<prefix>-<UUID><suffix>`; not created.
    public static func path(_ prefix: String, suffix: String = "") -> URL {
        _ = removedAtExit
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)\(suffix)")
        made.withLock { $0.append(url) }
        return url
    }

    static func removeAll() {
        guard ProcessInfo.processInfo.environment["HANDOVER_KEEP_TEST_FOLDERS"] != "1" else { return }
        for url in made.withLock({ $0 }) { try? FileManager.default.removeItem(at: url) }
    }
}
