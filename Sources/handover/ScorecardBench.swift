import Foundation
import HandoverCore
import HandoverServer
import HandoverStore

/// `handover bench --mode scorecard`: fills a store with crossings through the store's own write
/// path (the facts row is written as a send writes it), then times the scorecard over them.
enum ScorecardBench {
    static func run(database: String?, crossings: Int, clients: Int) async throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("handover-scorecard-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = try await StoreLocation(database ?? "sqlite:" + folder.appendingPathComponent("bench.sqlite").path).open()
        let now = Timestamp(secondsSinceEpoch: Int64(Date().timeIntervalSince1970))
        let start = Date()
        let filled = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<clients {
                group.addTask {
                    var i = client
                    while i < crossings {
                        let crossing = message(i, of: crossings, now: now)
                        _ = try await store.createMessage(crossing, firstChunk: .inline("x", now: crossing.createdAt), now: crossing.createdAt)
                        if filled.add() % 100_000 == 0 { FileHandle.standardError.write(Data("\(filled.value) crossings stored\n".utf8)) }
                        i += clients
                    }
                }
            }
            try await group.waitForAll()
        }
        let fillSeconds = Date().timeIntervalSince(start)
        var times: [Double] = []
        var boundaries = 0
        for _ in 0..<5 {
            let t = Date()
            let tallies = try await store.boundaryTallies(since: now.adding(seconds: -31 * 86_400), until: now.adding(seconds: 1), now: now)
            _ = tallies.map(BoundaryScorecard.score)
            times.append(Date().timeIntervalSince(t))
            boundaries = tallies.count
        }
        await store.close()
        try? FileManager.default.removeItem(at: folder)
        let sorted = times.sorted()
        return "\(crossings) crossings on \(boundaries) boundaries stored in \(String(format: "%.0f", fillSeconds)) s; "
            + "scorecard over 30 days: median \(String(format: "%.3f", sorted[2])) s, slowest \(String(format: "%.3f", sorted[4])) s (5 runs)"
    }

    /// Crossing `i` of `count`: spread evenly over 3 senders × 4 receivers × 2 workflows and the last
    /// 30 days, with a mix of declared and missing parts and decisions, so every flow has something to count.
    static func message(_ i: Int, of count: Int, now: Timestamp) -> MessageRecord {
        let created = now.adding(seconds: -Int64(i) * 30 * 86_400 / Int64(max(count, 1)))
        var record = CrossingRecord(
            CrossingDeclaration(
                subjects: i % 5 == 0 ? [] : [CrossingSubject(nhsNumber: "4010232137", nhsNumberStatus: i % 3 == 0 ? "03" : "01")],
                lawfulBasis: i % 4 == 0 ? nil : LawfulBasis(article6: "A6-1e", article9: "A9-2h", schedule1: "S1-P1-2"),
                provenance: i % 7 == 0 ? nil : Provenance(author: .init(name: "Author"), createdAt: created.isoUTC),
                intent: ClinicalIntent(purpose: "p", action: i % 6 == 0 ? "for-information" : "for-action", priority: "routine")))
        record.derived = CrossingDerived(
            senderMailbox: nil, senderOrganisation: "S\(i % 3)", senderDomain: "nhs", senderAuthority: nil,
            senderPublicAuthority: true, receivedAt: nil, payloadSHA256: nil, route: nil, certificateMatchesSender: nil,
            fhir: nil)
        record.derived?.receiverOrganisation = "R\(i % 4)"
        record.derived?.acceptBy = created.adding(seconds: 4 * 3600).isoUTC
        var responsibility: ResponsibilityRecord?
        if i % 2 == 0 {
            var r = ResponsibilityRecord()
            (r.state, r.decidedAt, r.decidedBy) = (.accepted, created.adding(seconds: Int64(i % 20_000)), Person(name: "P"))
            if i % 8 == 0 { (r.outcomeCode, r.outcomeAt) = ("assessed", created.adding(seconds: 86_400)) }
            responsibility = r
        }
        return MessageRecord(
            id: MessageID(String(format: "SC%010d", i)), sender: MailboxID("S\(i % 3)BOX"), recipient: MailboxID("R\(i % 4)BOX"),
            workflowID: i % 2 == 0 ? "WF_A" : "WF_B", totalChunks: 1, status: .uploading, createdAt: created,
            route: RouteTaken(addressedBy: .organisation, address: "R\(i % 4)", directoryVersion: 1),
            responsibilityRequired: true, responsibility: responsibility, crossing: record)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        var value: Int { lock.withLock { count } }
        func add() -> Int {
            lock.withLock {
                count += 1
                return count
            }
        }
    }
}
