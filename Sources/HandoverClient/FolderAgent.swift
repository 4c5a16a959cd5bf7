import Foundation

/// The MESH client's folder contract for one mailbox, under `<root>/<MAILBOX>/`:
///
///     OUT/    drop X.dat and X.ctl (DTSControl) here; files younger than a second are left alone
///     SENT/   sent pairs, the message id written into the control file
///     IN/     received messages as <id>.dat and <id>.ctl (a report: the .ctl alone, with its status)
///     ERROR/  pairs that cannot be sent, each with X.reason.txt saying why; never retried
///
/// Restart-safe: a pair is given a local id before it is sent and moved to `OUT/.sending/` while in
/// flight, so after a crash the agent asks the server whether that local id was sent rather than send
/// it twice; an inbound message is acknowledged only after its files are fsynced and renamed into
/// `IN/` (the `.ctl` last), and one found already there is acknowledged without a second copy.
public struct FolderAgent: Sendable {
    let client: MeshClient
    public let folder: URL
    let log: @Sendable (String) -> Void

    public init(client: MeshClient, root: URL, log: @escaping @Sendable (String) -> Void) {
        self.client = client
        folder = root.appendingPathComponent(client.mailbox)
        self.log = log
    }

    public struct PassReport: Sendable, Equatable {
        public var sent = 0
        public var received = 0
        public var refused = 0
        /// The server or the disk failed: the pass stopped early and the next one retries.
        public var failure: String?
    }

    var out: URL { folder.appendingPathComponent("OUT") }
    var sending: URL { out.appendingPathComponent(".sending") }
    var sentFolder: URL { folder.appendingPathComponent("SENT") }
    var inbox: URL { folder.appendingPathComponent("IN") }
    var receiving: URL { inbox.appendingPathComponent(".receiving") }
    var errors: URL { folder.appendingPathComponent("ERROR") }

    /// Closes the agent's connections (before the process exits).
    public func shutdown() async { await client.shutdown() }

    public func prepare() throws {
        for url in [out, sending, sentFolder, inbox, receiving, errors] {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        }
    }

    /// One pass: whatever is waiting in OUT is sent, whatever waits in the inbox is received.
    public func pass() async -> PassReport {
        var report = PassReport()
        do {
            try prepare()
            try await recoverInFlight(&report)
            try await sendWaiting(&report)
            try await receiveWaiting(&report)
        } catch {
            report.failure = "\(error)"
            log("pass stopped: \(error)")
        }
        writeStatus(report)
        return report
    }

    // MARK: - Sending

    /// Pairs left in `.sending` by a crash: sent already if the server knows their local id.
    func recoverInFlight(_ report: inout PassReport) async throws {
        for control in try files(in: sending, ending: ".ctl") {
            let name = control.deletingPathExtension().lastPathComponent
            guard let parsed = try? DTSControl.parse(Data(contentsOf: control)), let localID = parsed.localID else {
                try move(name, from: sending, to: out)
                continue
            }
            if let id = try await client.messageID(localID: localID) {
                log("\(name): sent before the restart as \(id)")
                try finishSent(name, control: parsed, id: id)
                report.sent += 1
            } else {
                try move(name, from: sending, to: out)
            }
        }
    }

    func sendWaiting(_ report: inout PassReport) async throws {
        let settled = Date().addingTimeInterval(-1)
        for control in try files(in: out, ending: ".ctl") where try modified(control) < settled {
            let name = control.deletingPathExtension().lastPathComponent
            let data = out.appendingPathComponent(name + ".dat")
            try rejoinSplitPair(name)
            guard FileManager.default.fileExists(atPath: data.path), try modified(data) < settled else { continue }
            var parsed: DTSControl
            do {
                parsed = try DTSControl.parse(Data(contentsOf: control))
                if !parsed.from.isEmpty && parsed.from.uppercased() != client.mailbox.uppercased() {
                    throw ClientError("From_DTS names \(parsed.from), but this agent sends as \(client.mailbox)")
                }
            } catch {
                try refuse(name, from: out, reason: "\(error)", report: &report)
                continue
            }
            // The local id is written down before anything is sent: after a crash it finds the message.
            if parsed.localID == nil {
                parsed.localID = "agent-" + UUID().uuidString.lowercased()
                try MeshClient.writeDurably(Data(parsed.xml.utf8), to: control.path)
            }
            try move(name, from: out, to: sending)
            var outgoing = Outgoing(file: sending.appendingPathComponent(name + ".dat").path, to: parsed.to, workflow: parsed.workflowID)
            (outgoing.subject, outgoing.localID, outgoing.gzip, outgoing.crossingJSON) =
                (parsed.subject, parsed.localID, parsed.compress, parsed.crossingJSON)
            if !parsed.allowChunking { outgoing.chunkSize = 100_000_000 }
            do {
                let id = try await client.send(outgoing, progress: TransferProgress(style: .lines, quiet: true))
                try finishSent(name, control: parsed, id: id)
                log("sent \(name).dat as \(id)")
                report.sent += 1
            } catch let refusal as MeshRefusal where (400..<500).contains(refusal.status) && refusal.status != 429 {
                try refuse(name, from: sending, reason: refusal.description, report: &report)
            } catch {
                // Not refused, not known to be sent: left for the next pass (the local id finds it if it was).
                try move(name, from: sending, to: out)
                throw error
            }
        }
    }

    /// A move takes the data file first, so a kill between its two renames can leave a control file in
    /// OUT whose data file sits alone in `.sending` or ERROR. Nothing was sent or refused for that pair
    /// yet (both begin only once the control file has moved), so the data file comes back to OUT and the
    /// pair is judged again; without this it would wait in OUT for ever.
    func rejoinSplitPair(_ name: String) throws {
        let manager = FileManager.default
        guard !manager.fileExists(atPath: out.appendingPathComponent(name + ".dat").path) else { return }
        for folder in [sending, errors]
        where manager.fileExists(atPath: folder.appendingPathComponent(name + ".dat").path)
            && !manager.fileExists(atPath: folder.appendingPathComponent(name + ".ctl").path)
        {
            log("\(name): its data file was left in \(folder.lastPathComponent) by an interrupted move; taken back to OUT")
            try move(name, from: folder, to: out)  // the data file only: the control file is not there
            return
        }
    }

    func finishSent(_ name: String, control: DTSControl, id: String) throws {
        var done = control
        done.messageID = id
        done.status = DTSControl.StatusRecord(
            dateTime: Self.timestamp(), event: "TRANSFER", status: "SUCCESS", statusCode: "00",
            description: "Transferred to the recipient's mailbox")
        try MeshClient.writeDurably(Data(done.xml.utf8), to: sending.appendingPathComponent(name + ".ctl").path)
        try move(name, from: sending, to: sentFolder)
    }

    /// Into ERROR with the reason beside it, never retried. The reason is written first: a kill before
    /// the move leaves the pair where it was, judged again by the next pass, and never a pair in ERROR
    /// without its reason.
    func refuse(_ name: String, from folder: URL, reason: String, report: inout PassReport) throws {
        try MeshClient.writeDurably(Data((reason + "\n").utf8), to: errors.appendingPathComponent(name + ".reason.txt").path)
        try move(name, from: folder, to: errors)
        log("\(name): moved to ERROR: \(reason)")
        report.refused += 1
    }

    // MARK: - Receiving

    func receiveWaiting(_ report: inout PassReport) async throws {
        let waiting = try await client.inbox()
        // A partial download whose message no longer waits (it expired, or was taken elsewhere) would
        // never be finished: removed. One that still waits is kept, and its download below resumes at
        // the first chunk missing. Leftovers are named after their message (`<id>.dat`, `<id>.ctl`,
        // `<id>.dat.partial`, `<id>.dat.tmp`) and MESH's ids have no dot. A leftover that cannot be
        // removed is only untidy: it must not stop this pass's receiving.
        let stillWaiting = Set(waiting)
        for leftover in (try? FileManager.default.contentsOfDirectory(atPath: receiving.path)) ?? []
        where !stillWaiting.contains(String(leftover.prefix { $0 != "." })) {
            if (try? FileManager.default.removeItem(at: receiving.appendingPathComponent(leftover))) != nil {
                log("\(leftover): a partial download whose message no longer waits; removed")
            }
        }
        for id in waiting {
            let control = inbox.appendingPathComponent(id + ".ctl")
            if FileManager.default.fileExists(atPath: control.path) {
                // Kept before a crash, not yet acknowledged.
                try await client.acknowledge(id)
                continue
            }
            let staged = receiving.appendingPathComponent(id + ".dat")
            let headers = try await client.download(id, to: staged.path, progress: TransferProgress(style: .lines, quiet: true))
            let isReport = headers["mex-messagetype"]?.uppercased() == "REPORT"
            var parsed = DTSControl()
            parsed.messageType = isReport ? "Report" : "Data"
            (parsed.workflowID, parsed.from, parsed.to) = (
                headers["mex-workflowid"] ?? "", headers["mex-from"] ?? "", headers["mex-to"] ?? client.mailbox
            )
            (parsed.subject, parsed.localID, parsed.messageID) = (headers["mex-subject"], headers["mex-localid"], id)
            parsed.crossingJSON = headers["mex-handover-crossing"].flatMap(Self.base64URLText)
            parsed.status = DTSControl.StatusRecord(
                dateTime: headers["mex-statustimestamp"] ?? Self.timestamp(), event: headers["mex-statusevent"] ?? "TRANSFER",
                status: headers["mex-statussuccess"] ?? "SUCCESS", statusCode: headers["mex-statuscode"] ?? "00",
                description: headers["mex-statusdescription"] ?? "")
            try MeshClient.writeDurably(Data(parsed.xml.utf8), to: receiving.appendingPathComponent(id + ".ctl").path)
            if isReport {
                try FileManager.default.removeItem(at: staged)
            } else {
                try MeshClient.rename(staged.path, to: inbox.appendingPathComponent(id + ".dat").path)
            }
            try MeshClient.rename(receiving.appendingPathComponent(id + ".ctl").path, to: control.path)
            try Self.syncFolder(inbox)
            try await client.acknowledge(id)
            log("received \(id) (\(parsed.messageType.lowercased()) from \(parsed.from.isEmpty ? "MESH" : parsed.from), \(parsed.workflowID))")
            report.received += 1
        }
    }

    // MARK: - Files

    func files(in folder: URL, ending suffix: String) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.contentModificationDateKey])
            .filter { $0.lastPathComponent.hasSuffix(suffix) }.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    func modified(_ url: URL) throws -> Date {
        try url.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate ?? .distantPast
    }

    /// Moves a pair, the data file first and the control file last (a control file is the sign a pair is whole).
    func move(_ name: String, from: URL, to: URL) throws {
        for suffix in [".dat", ".ctl"] where FileManager.default.fileExists(atPath: from.appendingPathComponent(name + suffix).path) {
            try MeshClient.rename(from.appendingPathComponent(name + suffix).path, to: to.appendingPathComponent(name + suffix).path)
        }
        try Self.syncFolder(to)
    }

    static func syncFolder(_ url: URL) throws {
        let descriptor = open(url.path, O_RDONLY)
        guard descriptor >= 0 else { throw ClientError("cannot open \(url.path) to sync it") }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else { throw ClientError("cannot sync \(url.path): errno \(errno)") }
    }

    func writeStatus(_ report: PassReport) {
        let status: [String: Any] = [
            "mailbox": client.mailbox, "last_pass": Self.timestamp(), "sent": report.sent, "received": report.received, "refused": report.refused,
            "failure": report.failure ?? NSNull(),
        ]
        if let data = try? JSONSerialization.data(withJSONObject: status, options: [.sortedKeys]) {
            try? MeshClient.writeDurably(data, to: folder.appendingPathComponent("agent-status.json").path)
        }
    }

    static func timestamp() -> String { ISO8601DateFormatter().string(from: Date()) }

    static func base64URLText(_ value: String) -> String? {
        var base64 = value.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map { String(decoding: $0, as: UTF8.self) }
    }
}
