import ArgumentParser
import Foundation
import HandoverCore
import HandoverServer
import HandoverStore

/// `handover demo …`: demonstration data for a first look.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Demonstration data.", subcommands: [Seed.self])

    struct Seed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fill a store with a few weeks of plausible traffic over the directory's boundaries.",
            discussion: """
                Some boundaries are well governed and some are not; a few crossings are recorded off-system. Everything is \
                demonstration data: NHS numbers from the 999 test range, invented names, payloads with no clinical detail. \
                History older than two days is written as settled (acknowledged, no escalation left to run); the last two \
                days stay open, so a broker started on this store raises a few alerts. Run it on a store of its own, then \
                start the broker on that store and read GET /admin/boundaries.
                """)
        @Option(help: "sqlite:PATH or postgres://… (HANDOVER_DATABASE; default sqlite:.handover/handover.sqlite).") var database: String?
        @Option(help: "The directory folder the traffic is routed by: the one the broker imports (HANDOVER_ROUTES).") var routes: String?
        @Option(help: "How many days of traffic, ending now.") var days = 21
        @Option(help: "The same seed plans the same traffic.") var seed: UInt64 = 1

        func validate() throws {
            guard (1...365).contains(days) else { throw ValidationError("--days must be between 1 and 365") }
        }

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            let folder = routes ?? environment["HANDOVER_ROUTES"] ?? "Routes"
            let location = database ?? environment["HANDOVER_DATABASE"] ?? ServeConfiguration().database
            let (_, directory) = try loadOrReport(folder)
            let index = DirectoryIndex(directory: directory, version: 1, passwords: [:])
            let now = Timestamp(secondsSinceEpoch: Int64(Date().timeIntervalSince1970))
            let plan = DemoTraffic.plan(index, days: days, until: now, seed: seed)
            let store = try await StoreLocation(location).open()
            do {
                for (i, crossing) in plan.enumerated() {
                    try await DemoWriter.write(crossing, to: store)
                    if (i + 1) % 250 == 0 || i + 1 == plan.count {
                        FileHandle.standardError.write(Data("\(i + 1)/\(plan.count) crossings written\n".utf8))
                    }
                }
            } catch {
                await store.close()
                throw error
            }
            await store.close()
            let boundaries = Set(
                plan.compactMap { c in
                    c.message.crossing?.derived.map { "\($0.senderOrganisation ?? "")>\($0.receiverOrganisation ?? "")>\(c.message.workflowID)" }
                })
            print(
                "seeded \(plan.count) crossings (\(plan.filter(\.offSystem).count) off-system) over \(boundaries.count) boundaries and \(days) days "
                    + "into \(location), routed by \(folder)")
        }
    }
}

/// Writes one planned crossing through the store as the broker would have: delivered, then
/// downloaded, acknowledged, accepted and given an outcome, each at its planned time and in time order.
enum DemoWriter {
    static func write(_ c: DemoTraffic.Crossing, to store: any BrokerStore) async throws {
        let m = c.message
        _ = try await store.createMessage(m, firstChunk: .inline(c.payload, now: m.createdAt), now: m.createdAt)
        var steps: [(at: Timestamp, run: () async throws -> Void)] = []
        if let at = c.downloadedAt { steps.append((at, { try await store.markDownloaded(messageID: m.id, now: at) })) }
        if let at = c.acknowledgedAt { steps.append((at, { _ = try await store.acknowledge(messageID: m.id, recipient: m.recipient, now: at) })) }
        if let d = c.decision {
            steps.append(
                (
                    d.at,
                    {
                        _ = try await store.updateResponsibility(
                            messageID: m.id, recipient: m.recipient, event: "responsibility_accepted", now: d.at,
                            change: { current in
                                ResponsibilityMachine.decide(
                                    current.responsibility ?? ResponsibilityRecord(), decision: d.accept ? .accept : .decline, by: d.person,
                                    note: nil, downloaded: true, now: d.at, receiverBasis: d.receiverBasis)
                            }, ack: { _, _ in nil })
                    }
                ))
            if let at = c.outcomeAt {
                steps.append(
                    (
                        at,
                        {
                            _ = try await store.updateResponsibility(
                                messageID: m.id, recipient: m.recipient, event: "outcome", now: at,
                                change: { current in
                                    ResponsibilityMachine.recordOutcome(
                                        current.responsibility ?? ResponsibilityRecord(), code: "assessed", detail: nil, by: d.person, now: at)
                                }, ack: { _, _ in nil })
                        }
                    ))
            }
        }
        for step in steps.sorted(by: { $0.at < $1.at }) { try await step.run() }
    }
}
