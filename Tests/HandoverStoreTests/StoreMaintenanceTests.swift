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
        // Below the writer's automatic checkpoint (1,000 pages): the frames stay in the WAL.
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
}
