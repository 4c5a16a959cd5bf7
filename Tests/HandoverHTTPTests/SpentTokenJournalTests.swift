import Foundation
import HandoverCore
import HandoverTestSupport
import Testing

@testable import HandoverServer

/// The spent-token journal's files: written through a mapping with space reserved ahead, read back
/// by the next process whatever wrote them.
@Suite("Spent-token journal")
struct SpentTokenJournalTests {
    static let now = Timestamp(secondsSinceEpoch: Int64(Date().timeIntervalSince1970))
    static var expiry: Timestamp { now.adding(seconds: 1800) }

    func restored(_ folder: URL) throws -> (count: Int, guard: TokenReplayGuard) {
        var replayGuard = TokenReplayGuard()
        let count = try SpentTokenJournal(folder: folder).restore(into: &replayGuard, now: Self.now)
        return (count, replayGuard)
    }

    /// Past several reservations' ends, and again after a restart: every token comes back, none twice,
    /// and the file holds its records and a zeroed reserved tail, nothing else.
    @Test func tokensAcrossReservationsAndARestartAreAllRestored() throws {
        let folder = TestFolders.path("handover-journal-map")
        let first = try SpentTokenJournal(folder: folder, reservation: 64)
        for key in UInt64(1)...10 { first.record(key: key, expiresAt: Self.expiry) }
        // A second process appends after the first's records, not over them.
        let second = try SpentTokenJournal(folder: folder, reservation: 64)
        for key in UInt64(11)...13 { second.record(key: key, expiresAt: Self.expiry) }

        let file = folder.appendingPathComponent("\(Self.expiry.secondsSinceEpoch / 3600).bin")
        let bytes = [UInt8](try Data(contentsOf: file))
        #expect(JournalFile.records(bytes).map(\.0) == Array(1...13))
        #expect(JournalFile.records(bytes).allSatisfy { $0.1 == UInt64(Self.expiry.secondsSinceEpoch) })
        #expect(bytes.count == 256, "13 records reserve four 64-byte steps")
        #expect(bytes[(13 * 16)...].allSatisfy { $0 == 0 })

        var (count, replayGuard) = try restored(folder)
        #expect(count == 13)
        #expect(replayGuard.admit(key: 7, expiresAt: Self.expiry, now: Self.now) == .replayed)
        #expect(replayGuard.admit(key: 14, expiresAt: Self.expiry, now: Self.now) == .admitted)
    }

    /// A file written before space was reserved (records to its last byte) is read whole and appended to.
    @Test func aFileWithoutAReservedTailIsReadAndExtended() throws {
        let folder = TestFolders.path("handover-journal-plain")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("\(Self.expiry.secondsSinceEpoch / 3600).bin")
        var plain: [UInt8] = []
        for key in UInt64(1)...3 {
            withUnsafeBytes(of: key.littleEndian) { plain += $0 }
            withUnsafeBytes(of: UInt64(Self.expiry.secondsSinceEpoch).littleEndian) { plain += $0 }
        }
        try Data(plain).write(to: file)
        try SpentTokenJournal(folder: folder).record(key: 4, expiresAt: Self.expiry)
        #expect(JournalFile.records([UInt8](try Data(contentsOf: file))).map(\.0) == [1, 2, 3, 4])
        #expect(try restored(folder).count == 4)
    }

    /// On a full filesystem a store into unreserved space would kill the process (SIGBUS): past the
    /// last reservation the journal writes instead, which fails quietly, and the broker goes on; once
    /// there is room again, records follow the last one kept, with no gap a reader would stop at.
    @Test(.enabled(if: Mounts.available, "needs root to mount a small tmpfs (CI runs as root)"))
    func aFullFilesystemStopsTheJournalNotTheProcess() throws {
        let folder = TestFolders.path("handover-journal-full")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Mounts.mount(["-t", "tmpfs", "-o", "size=256k", "tmpfs", folder.path])
        defer { Mounts.unmount(folder.path) }
        let journal = try SpentTokenJournal(folder: folder.appendingPathComponent("spent-tokens"), reservation: 4096)
        journal.record(key: 1, expiresAt: Self.expiry)  // the first reservation, before the disk fills
        let filler = folder.appendingPathComponent("filler")
        FileManager.default.createFile(atPath: filler.path, contents: nil)
        let handle = try FileHandle(forWritingTo: filler)
        while (try? handle.write(contentsOf: Data(repeating: 1, count: 4096))) != nil {}
        try? handle.close()

        for key in UInt64(2)...600 { journal.record(key: key, expiresAt: Self.expiry) }
        let file = folder.appendingPathComponent("spent-tokens/\(Self.expiry.secondsSinceEpoch / 3600).bin")
        let kept = JournalFile.records([UInt8](try Data(contentsOf: file))).map(\.0)
        #expect(kept == Array(1...256), "the first reservation's 256 records, then nothing")

        try FileManager.default.removeItem(at: filler)
        for key in UInt64(601)...603 { journal.record(key: key, expiresAt: Self.expiry) }
        let afterRoom = JournalFile.records([UInt8](try Data(contentsOf: file))).map(\.0)
        #expect(afterRoom == Array(1...256) + [601, 602, 603])
    }
}
