import Foundation

/// Removes a file a few MiB at a time, from its end. On a filesystem mounted with `discard`, the
/// blocks a deletion frees are trimmed in the journal commit that follows, and every fsync on that
/// filesystem waits for that commit: deleting a 1 GiB file at once held every durable send for about
/// half a second on the machine behind docs/PERFORMANCE.md (64 MiB: 85 ms). Cut in steps with pauses
/// between them, the trimming is spread over many commits, each of them short.
enum GradualRemoval {
    static let step: Int64 = 4 << 20
    static let pause: Duration = .milliseconds(50)

    /// `afterStep` sees the file's size after each cut (for tests). A file whose size cannot be read,
    /// or that cannot be cut, is removed at once.
    static func remove(
        _ path: String, step: Int64 = step, pause: Duration = pause, afterStep: (Int64) -> Void = { _ in }
    ) async {
        var size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
        while size > step {
            size -= step
            guard truncate(path, off_t(size)) == 0 else { break }
            afterStep(size)
            try? await Task.sleep(for: pause)
        }
        unlink(path)
    }
}
