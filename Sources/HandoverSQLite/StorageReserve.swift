import Foundation
import HandoverStore
import Synchronization

/// A few megabytes set aside beside the database (`<file>-reserve`), so that when its disk fills the
/// work that finishes or frees things (downloads, acknowledgements, responsibility, alerts, the admin
/// API) can still commit. The first write that finds the disk full gives the reserve back; from then
/// on new message data (segments, chunks, messages) is refused before it is written, with 503
/// `storage-full`, until the filesystem has room for the reserve again (looked at no more than once
/// a second), when it is set aside anew and sends are accepted by themselves, with no restart.
final class StorageReserve: Sendable {
    let path: String
    let bytes: Int64
    private struct State {
        var released = false
        var lastLook: Int64 = 0
    }
    private let state = Mutex(State())

    init(databasePath: String, bytes: Int64 = 8 << 20) {
        (path, self.bytes) = (databasePath + "-reserve", bytes)
        if !setAside() { state.withLock { $0.released = true } }
    }

    /// Throws `storage-full` while the reserve is given back and the disk has not yet made room for it.
    func admitNewData() throws {
        // Every send passes here: while the reserve is in place, one lock and nothing else.
        guard state.withLock({ $0.released }) else { return }
        let now = Int64(Date().timeIntervalSince1970)
        let mustLook: Bool = state.withLock { s in
            guard s.released, s.lastLook != now else { return false }
            s.lastLook = now
            return true
        }
        if mustLook, freeBytes() >= 2 * bytes, setAside() { state.withLock { $0.released = false } }
        if state.withLock({ $0.released }) {
            throw StoreUnavailable(reason: "SQLite: the disk is full; new messages refused until there is room for the reserve again", cause: .full)
        }
    }

    /// Gives the reserve back to the filesystem after a write found the disk full.
    func release() {
        let first = state.withLock { s in
            defer { s.released = true }
            return !s.released
        }
        if first { unlink(path) }
    }

    var isReleased: Bool { state.withLock { $0.released } }

    /// Allocates the reserve file in full (blocks, not a sparse hole); false if there is no room.
    private func setAside() -> Bool {
        let fd = open(path, O_CREAT | O_WRONLY, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        guard posix_fallocate(fd, 0, off_t(bytes)) == 0, fsync(fd) == 0 else {
            unlink(path)
            return false
        }
        return true
    }

    private func freeBytes() -> Int64 {
        var info = statvfs()
        guard statvfs((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent, &info) == 0 else {
            return 0
        }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}
