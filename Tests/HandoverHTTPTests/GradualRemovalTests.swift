import Foundation
import HandoverCore
import HandoverTestSupport
import Synchronization
import Testing

@testable import HandoverServer

/// Files the broker deletes go a few MiB at a time (a deletion at once holds every commit on a
/// filesystem mounted with `discard`), and the spent-token journal deletes its past hours off the
/// request path.
@Suite("Gradual removal")
struct GradualRemovalTests {
    static func file(bytes: Int) throws -> String {
        let url = TestFolders.path("handover-removal", suffix: ".bin")
        try Data(repeating: 7, count: bytes).write(to: url)
        return url.path
    }

    @Test func aFileIsCutFromItsEndStepByStepThenRemoved() async throws {
        let path = try Self.file(bytes: 10 * 1024)
        let sizes = Mutex<[Int64]>([])
        await GradualRemoval.remove(path, step: 4 * 1024, pause: .zero) { size in sizes.withLock { $0.append(size) } }
        let cuts: [Int64] = sizes.withLock { $0 }
        #expect(cuts == [6_144, 2_048])
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func aFileOfOneStepOrLessIsRemovedAtOnce() async throws {
        let path = try Self.file(bytes: 4 * 1024)
        let steps = Mutex(0)
        await GradualRemoval.remove(path, step: 4 * 1024, pause: .zero) { _ in steps.withLock { $0 += 1 } }
        let cuts: Int = steps.withLock { $0 }
        #expect(cuts == 0)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func aMissingFileIsNoError() async {
        await GradualRemoval.remove(TestFolders.path("handover-removal-missing").path)
    }

    /// A past hour's file left by an earlier run goes once a token is recorded; the current hour's stays.
    @Test(.timeLimit(.minutes(3)))
    func theJournalRemovesPastHoursAfterRecording() async throws {
        let folder = TestFolders.path("handover-journal")
        let journal = try SpentTokenJournal(folder: folder)
        let nowSeconds = Int64(Date().timeIntervalSince1970)
        let pastHour = nowSeconds / 3600 - TokenReplayGuard.clockStepToleranceSeconds / 3600 - 2
        let past = folder.appendingPathComponent("\(pastHour).bin")
        try Data(repeating: 0, count: 64 * 1024).write(to: past)

        let expiry = Timestamp(secondsSinceEpoch: nowSeconds + 1800)
        journal.record(key: 42, expiresAt: expiry)
        let current = folder.appendingPathComponent("\(expiry.secondsSinceEpoch / 3600).bin")
        let written = JournalFile.records([UInt8](try Data(contentsOf: current)))
        #expect(written.map(\.0) == [42], "the token itself is written before anything is removed")
        while FileManager.default.fileExists(atPath: past.path) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(FileManager.default.fileExists(atPath: current.path))
    }
}
