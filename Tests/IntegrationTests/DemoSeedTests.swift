import AsyncHTTPClient
import Foundation
import HandoverCore
import HandoverServer
import HandoverTestSupport
import Testing

/// `handover demo seed`: a store filled with weeks of plausible traffic over the sample directory, so a
/// broker started on it shows a scorecard with well and badly governed boundaries, off-system
/// crossings and a few open alerts.
@Suite("handover demo seed", .serialized)
struct DemoSeedTests {
    static let routes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Routes").path

    @Test func theSampleDirectoryGetsAMeaningfulScorecard() async throws {
        let folder = TestFolders.path("handover-demo")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = "sqlite:" + folder.appendingPathComponent("h.sqlite").path
        let seeded = try HandoverCommand.run(["demo", "seed", "--database", database, "--routes", Self.routes, "--days", "21", "--seed", "7"])
        #expect(seeded.status == 0, "\(seeded.output)")
        let line = try #require(seeded.output.split(separator: "\n").first { $0.hasPrefix("seeded ") }, "\(seeded.output)")
        let numbers = line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
        let (crossings, offSystem) = (numbers[0], numbers[1])
        #expect(crossings > 400 && offSystem >= 1, "\(line)")

        let broker = try BrokerProcess(
            arguments: ["--tls", "off", "--routes", Self.routes, "--database", database],
            environment: ["ONCALL_WEBHOOK_SECRET": "demo-" + UUID().uuidString],
            logURL: folder.appendingPathComponent("broker.log"))
        defer { broker.terminate() }
        let token = try String(contentsOf: folder.appendingPathComponent("admin-token"), encoding: .utf8).trimmingCharacters(
            in: .whitespacesAndNewlines)
        func get(_ path: String) async throws -> [String: Any] {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(broker.port)" + path)
            request.headers.add(name: "authorization", value: "Bearer " + token)
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(20))
            let body = try await response.body.collect(upTo: 1 << 22)
            #expect(response.status == .ok, "\(path): \(String(buffer: body))")
            return try #require(try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])
        }
        let boundaries = try #require(try await get("/admin/boundaries")["boundaries"] as? [[String: Any]])
        // Every routed pair of the sample directory's workflows, most with enough traffic for levels.
        #expect(boundaries.count >= 20)
        let risks = boundaries.compactMap { $0["risk"] as? Int }
        #expect(risks.count >= 15, "too few boundaries with a risk score: \(risks)")
        #expect(risks.contains { $0 <= 20 } && risks.contains { $0 >= 60 }, "no spread between governed and ungoverned: \(risks)")
        #expect(boundaries.reduce(0) { $0 + ($1["crossings"] as? Int ?? 0) } == crossings)
        // The scheduler picks up the last two days' open crossings: a few alerts, not one per crossing.
        var open = 0
        for _ in 0..<50 {
            open = (try await get("/admin/alerts?state=open")["alerts"] as? [Any])?.count ?? 0
            if open > 0 { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(open > 0 && open < crossings / 10, "\(open) open alerts")
    }

    @Test func theSameSeedPlansTheSameTraffic() throws {
        let directory = try DirectoryFiles.loadWithDocument(folder: Self.routes).directory
        let index = DirectoryIndex(directory: directory, version: 1, passwords: [:])
        let until = CivilDateTime(year: 2026, month: 11, day: 30, hour: 12).timestamp
        let a = DemoTraffic.plan(index, days: 14, until: until, seed: 3), b = DemoTraffic.plan(index, days: 14, until: until, seed: 3)
        #expect(a.map(\.message.id) == b.map(\.message.id) && a.map(\.decision?.at) == b.map(\.decision?.at))
        #expect(DemoTraffic.plan(index, days: 14, until: until, seed: 4).map(\.message.id) != a.map(\.message.id))
        // Demonstration data only: test-range NHS numbers, no payload naming anyone, nothing in the future.
        for c in a {
            for subject in c.message.crossing?.subjects ?? [] {
                if let n = subject.nhsNumber { #expect(n.hasPrefix("999") && (try? NHSNumber.parse(n, allowTestNumbers: true).get()) != nil) }
            }
            #expect(!c.payload.contains("999") && c.message.createdAt < until)
            #expect(
                [c.downloadedAt, c.acknowledgedAt, c.decision?.at, c.outcomeAt].allSatisfy { ($0 ?? c.message.createdAt) >= c.message.createdAt })
            // Only the last two days are left for the escalation scheduler.
            #expect(c.message.escalationPolicy == nil || c.message.createdAt >= until.adding(seconds: -DemoTraffic.liveSeconds))
        }
    }
}
