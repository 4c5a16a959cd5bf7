import Foundation
import GRDB
import Testing

@testable import HandoverSQLite

/// The store's maintenance runs only while a service runs it, and stops when that task is cancelled.
@Suite("Store maintenance")
struct StoreMaintenanceTests {
    func mainFileSize(_ path: String) -> Int { (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 }

    @Test(.timeLimit(.minutes(1)))
    func walFramesReachTheMainFileWhileMaintenanceRunsAndNotAfterItStops() async throws {
        let (path, _) = StoreFactory.temporaryPath()
        let store = try SQLiteStore(path: path)
        func fill() async throws {
            try await store.writer.write { db in
                try db.execute(sql: "CREATE TABLE IF NOT EXISTS filler (b BLOB)")
                for _ in 0..<40 { try db.execute(sql: "INSERT INTO filler (b) VALUES (zeroblob(4096))") }
            }
        }
        // Below the writer's automatic checkpoint (`SQLiteStore.writerCheckpointFrames`): the frames stay in the WAL.
        try await fill()
        let before = mainFileSize(path)
        try await Task.sleep(for: .milliseconds(600))
        #expect(mainFileSize(path) == before, "something checkpointed without the maintenance running")
        let maintenance = Task { await store.runMaintenance() }
        var grown = false
        for _ in 0..<40 where !grown {
            try await Task.sleep(for: .milliseconds(100))
            grown = mainFileSize(path) >= before + 40 * 4096
        }
        #expect(grown, "the WAL was not checkpointed while maintenance ran")
        maintenance.cancel()
        await maintenance.value
        try await fill()
        let stopped = mainFileSize(path)
        try await Task.sleep(for: .milliseconds(600))
        #expect(mainFileSize(path) == stopped, "maintenance went on after its task was cancelled")
        await store.close()
        #expect(mainFileSize(path) >= stopped + 40 * 4096, "close did not checkpoint the whole WAL")
    }

    /// The writer checkpoints inside a commit only every `writerCheckpointFrames` frames, not at
    /// SQLite's default of 1,000: the commits in between never wait for a copy and a sync of the file.
    @Test(.timeLimit(.minutes(1)))
    func theWritersOwnCheckpointWaitsForItsFrameCount() async throws {
        let (path, _) = StoreFactory.temporaryPath()
        let store = try SQLiteStore(path: path)
        // A row of 3,000 bytes fills a page of its own (4 KiB pages; two do not fit, and one needs no
        // overflow page), so a commit of n rows writes about n frames (and a few of the tree's inner pages).
        func commit(pages: Int) async throws {
            try await store.writer.write { db in
                try db.execute(sql: "CREATE TABLE IF NOT EXISTS filler (b BLOB)")
                for _ in 0..<pages { try db.execute(sql: "INSERT INTO filler (b) VALUES (zeroblob(3000))") }
            }
        }
        store.checkpointer.finish()  // the migrations' frames copied, the WAL empty
        let before = mainFileSize(path)
        let below = SQLiteStore.writerCheckpointFrames - 800
        for _ in 0..<(below / 100) { try await commit(pages: 100) }
        #expect(below > 1000)
        #expect(mainFileSize(path) == before, "the writer checkpointed before \(SQLiteStore.writerCheckpointFrames) frames")
        for _ in 0..<10 { try await commit(pages: 100) }
        #expect(mainFileSize(path) >= before + below * 4096, "the writer did not checkpoint past \(SQLiteStore.writerCheckpointFrames) frames")
        await store.close()
    }
}
