import Foundation
import HandoverCore
import HandoverHTTP
import Synchronization

/// Spent MESH tokens on disk, so a token used before a restart is still refused after it (SQLite
/// stores; PostgreSQL shares its replay cache in the database). One append-only file per hour in
/// which tokens expire (`spent-tokens/<hour>.bin`, 16 bytes a token: digest and expiry); a file is
/// deleted once its hour has passed, so nothing needs compacting. The deletion runs off the request
/// path, a few MiB at a time (`GradualRemoval`: at a thousand sends a second an hour's file is about
/// 55 MiB, and deleting it at once would hold every commit on a filesystem mounted with `discard`).
/// Written through a shared mapping (`JournalFile`) and never synced: the page cache survives a
/// killed process, and a power cut loses at most tokens whose replay would still need a valid HMAC
/// from a client that already sent them.
public final class SpentTokenJournal: SpentTokenRecorder {
    struct State {
        var files: [Int64: JournalFile] = [:]
        var lastCleanedHour: Int64 = .min
    }
    let folder: URL
    let state = Mutex(State())
    /// Bytes each file reserves at a time (smaller in tests, to cross a reservation's end).
    let reservation: Int

    public init(folder: URL, reservation: Int = 1 << 20) throws {
        self.folder = folder
        self.reservation = reservation
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    /// Every unexpired token in the journal, into `guard`. Returns how many were restored.
    public func restore(into replayGuard: inout TokenReplayGuard, now: Timestamp) -> Int {
        var restored = 0
        // An hour's files beyond expiry, as the guard keeps them (`TokenReplayGuard.clockStepToleranceSeconds`).
        let nowHour = now.secondsSinceEpoch / 3600 - TokenReplayGuard.clockStepToleranceSeconds / 3600
        for (hour, url) in hourFiles() where hour >= nowHour {
            guard let data = try? Data(contentsOf: url) else { continue }
            for (key, expiry) in JournalFile.records([UInt8](data)) {
                let expiresAt = Timestamp(secondsSinceEpoch: Int64(bitPattern: expiry))
                if replayGuard.admit(key: key, expiresAt: expiresAt, now: now) == .admitted { restored += 1 }
            }
        }
        return restored
    }

    public func record(key: UInt64, expiresAt: Timestamp) {
        let hour = expiresAt.secondsSinceEpoch / 3600
        let passedHour: Int64? = state.withLock { state in
            let file: JournalFile
            if let open = state.files[hour] {
                file = open
            } else {
                guard let opened = JournalFile(path: folder.appendingPathComponent("\(hour).bin").path, reservation: reservation) else { return nil }
                file = opened
                state.files[hour] = opened
            }
            // Digest then expiry (never zero: the end of a file's records).
            file.append(key, UInt64(bitPattern: expiresAt.secondsSinceEpoch))
            return closeIfNewHour(&state, nowHour: Int64(Date().timeIntervalSince1970) / 3600 - TokenReplayGuard.clockStepToleranceSeconds / 3600)
        }
        // The folder is listed and the files removed in the background, not under the lock.
        if let passedHour {
            Task.detached(priority: .background) {
                for (hour, url) in self.hourFiles() where hour < passedHour { await GradualRemoval.remove(url.path) }
            }
        }
    }

    /// Closes the files whose hour has passed (`nowHour` already an hour back: every token in them
    /// expired more than the clock-step tolerance ago) once an hour; returns `nowHour` when files
    /// before it are to be deleted.
    private func closeIfNewHour(_ state: inout State, nowHour: Int64) -> Int64? {
        guard nowHour != state.lastCleanedHour else { return nil }
        state.lastCleanedHour = nowHour
        for hour in state.files.keys where hour < nowHour { state.files[hour] = nil }
        return nowHour
    }

    private func hourFiles() -> [(Int64, URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.compactMap { name in
            guard name.hasSuffix(".bin"), let hour = Int64(name.dropLast(4)) else { return nil }
            return (hour, folder.appendingPathComponent(name))
        }
    }
}
