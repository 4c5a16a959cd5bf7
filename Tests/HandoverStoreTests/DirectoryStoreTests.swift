import Foundation
import GRDB
import HandoverCore
import HandoverSQLite
import HandoverStore
import Testing

@Suite("Directory store, versions and audit chain")
struct DirectoryStoreTests {
    let t0 = CivilDateTime(year: 2026, month: 11, day: 25, hour: 9).timestamp

    func document(_ orgs: [String]) -> DirectoryDocument {
        var d = DirectoryDocument()
        d.organisations = orgs.map { .init(code: $0, name: "Org \($0)", domain: "nhs", authority: nil) }
        return d
    }

    @Test(arguments: StoreFactory.all)
    func versionsAreNumberedAndConflictsRefused(factory: StoreFactory) async throws {
        let store = try await factory.make()
        #expect(try await store.currentDirectory() == nil)
        #expect(try await store.currentDirectoryVersion() == nil)
        let v1 = try await store.saveDirectory(document(["A"]), expectedVersion: nil, actor: "t", changes: [], now: t0)
        let v2 = try await store.saveDirectory(document(["A", "B"]), expectedVersion: 1, actor: "t", changes: [], now: t0)
        #expect(v1 == 1 && v2 == 2)
        await #expect(throws: DirectoryVersionConflict(expected: 1, current: 2)) {
            _ = try await store.saveDirectory(document(["C"]), expectedVersion: 1, actor: "t", changes: [], now: t0)
        }
        #expect(try await store.currentDirectory()?.document.organisations?.count == 2)
        #expect(try await store.currentDirectoryVersion() == 2)
        #expect(try await store.directoryVersion(1)?.document == document(["A"]))
        #expect(try await store.directoryHistory(limit: 10).map(\.version) == [2, 1])
    }

    @Test func auditVerifierCatchesEditedDeletedAndReorderedEntries() async throws {
        for tamper in ["edit", "delete", "reorder"] {
            let (path, _) = StoreFactory.temporaryPath()
            let store = try SQLiteStore(path: path)
            for i in 0..<5 {
                try await store.appendAudit(AuditRecord(actor: "a\(i)", action: "test", subject: "s\(i)"), now: t0.adding(seconds: Int64(i)))
            }
            let entries = try await store.auditEntries(afterSequence: 0, limit: 100)
            #expect(AuditChain.verify(entries) == .intact(entries: 5))
            // Positions are SQLite's rowids: one after another from 1, in the order appended.
            #expect(entries.map(\.sequence) == [1, 2, 3, 4, 5] && entries.map(\.actor) == ["a0", "a1", "a2", "a3", "a4"])
            // Tamper with the file behind the store's back, as an attacker with disk access would.
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in
                switch tamper {
                case "edit": try db.execute(sql: "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
                case "delete": try db.execute(sql: "DELETE FROM audit_log WHERE seq = 3")
                default:
                    // Swap the contents of entries 2 and 3, keeping their sequence numbers.
                    try db.execute(
                        sql: """
                            UPDATE audit_log SET actor = CASE seq WHEN 2 THEN 'a2' ELSE 'a1' END, subject = CASE seq WHEN 2 THEN 's2' ELSE 's1' END,
                            at = (SELECT at FROM audit_log a WHERE a.seq = (5 - audit_log.seq)),
                            prev_hash = (SELECT prev_hash FROM audit_log a WHERE a.seq = (5 - audit_log.seq)),
                            entry_hash = (SELECT entry_hash FROM audit_log a WHERE a.seq = (5 - audit_log.seq))
                            WHERE seq IN (2, 3)
                            """)
                }
            }
            let verdict = AuditChain.verify(try await store.auditEntries(afterSequence: 0, limit: 100))
            guard case .broken(let at, _) = verdict else {
                Issue.record("\(tamper) was not detected")
                continue
            }
            // An edit breaks at the edited entry; a deletion at the entry after the gap; a swap at the first moved entry.
            #expect(at == ["edit": 3, "delete": 4, "reorder": 2][tamper], "\(tamper): \(verdict)")
        }
    }
}
