import Foundation
import HandoverClient
import HandoverTestSupport
import Testing

/// `handover agent` against the real broker: the MESH client's folder contract, bad control files,
/// the restart cases, `kill -9` during sends and receives (nothing lost, nothing doubled), and a full
/// disk on the receiving side (acknowledging stops; nothing lost).
@Suite("handover agent", .serialized)
struct FolderAgentTests {
    func control(to: String, workflow: String = "WF", localID: String? = nil, subject: String? = nil) -> String {
        var parsed = DTSControl()
        (parsed.to, parsed.workflowID, parsed.localID, parsed.subject) = (to, workflow, localID, subject)
        return parsed.xml
    }

    /// Writes X.dat and X.ctl, dated two seconds ago unless `settled` is false.
    func drop(_ name: String, data: Data, control text: String, in folder: URL, settled: Bool = true) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (suffix, bytes) in [(".dat", data), (".ctl", Data(text.utf8))] {
            let url = folder.appendingPathComponent(name + suffix)
            try bytes.write(to: url)
            if settled { try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-2)], ofItemAtPath: url.path) }
        }
    }

    func names(_ folder: URL, _ suffix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(suffix) }.sorted()
    }

    func agent(_ f: ClientFixture, _ root: URL, _ profile: String) throws -> ClientFixture.Run {
        try f.run(["agent", "run", "--once", "--folder", root.path, "--profile", profile])
    }

    @Test func theFolderContractWithItsRefusals() throws {
        let f = try ClientFixture("agent")
        defer { f.stop() }
        let root = f.folder.appendingPathComponent("agent")
        let out = root.appendingPathComponent("ALICE/OUT")
        try drop("a", data: Data("first referral".utf8), control: control(to: "BOB", subject: "Discharge"), in: out)
        try drop("b", data: Data(repeating: 7, count: 3000), control: control(to: "BOB", localID: "ref-b"), in: out)
        try drop("bad", data: Data("x".utf8), control: "this is not XML", in: out)
        try drop("nowhere", data: Data("x".utf8), control: control(to: "NOBODY"), in: out)
        try drop("entity", data: Data("x".utf8), control: "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><DTSControl/>", in: out)
        try drop("young", data: Data("still being written".utf8), control: control(to: "BOB"), in: out, settled: false)

        let sending = try agent(f, root, "alice")
        #expect(sending.status == 0, "\(sending.err)")
        let sent = root.appendingPathComponent("ALICE/SENT")
        #expect(names(sent, ".ctl") == ["a.ctl", "b.ctl"] && names(sent, ".dat") == ["a.dat", "b.dat"])
        let a = try DTSControl.parse(Data(contentsOf: sent.appendingPathComponent("a.ctl")))
        #expect(a.messageID != nil && a.localID?.hasPrefix("agent-") == true && a.status?.statusCode == "00" && a.subject == "Discharge")
        let errors = root.appendingPathComponent("ALICE/ERROR")
        #expect(names(errors, ".ctl") == ["bad.ctl", "entity.ctl", "nowhere.ctl"])
        #expect(try String(contentsOf: errors.appendingPathComponent("bad.reason.txt"), encoding: .utf8).contains("not XML"))
        #expect(try String(contentsOf: errors.appendingPathComponent("entity.reason.txt"), encoding: .utf8).contains("DTD"))
        #expect(try String(contentsOf: errors.appendingPathComponent("nowhere.reason.txt"), encoding: .utf8).contains("417 12"))
        #expect(names(out, ".ctl") == ["young.ctl"], "a file younger than a second is left alone")

        let receiving = try agent(f, root, "bob")
        #expect(receiving.status == 0, "\(receiving.err)")
        let inbox = root.appendingPathComponent("BOB/IN")
        #expect(names(inbox, ".dat").count == 2 && names(inbox, ".ctl").count == 2)
        let received = try names(inbox, ".ctl").map { try DTSControl.parse(Data(contentsOf: inbox.appendingPathComponent($0))) }
        #expect(Set(received.compactMap(\.localID)) == [a.localID!, "ref-b"] && received.allSatisfy { $0.from == "ALICE" && $0.workflowID == "WF" })
        let bID = try #require(received.first { $0.localID == "ref-b" }?.messageID)
        #expect(try Data(contentsOf: inbox.appendingPathComponent(bID + ".dat")) == Data(repeating: 7, count: 3000))
        #expect(try f.run(["client", "inbox", "--profile", "bob", "--json"]).json["messages"] as? [String] == [])
        let status = try ClientFixture.run(["agent", "status", "--folder", root.path], folder: f.folder, config: nil)
        #expect(status.out.contains("ALICE: OUT 1 waiting, SENT 2") && status.out.contains("BOB: OUT 0 waiting, SENT 0, IN 2"), "\(status.out)")
    }

    @Test func afterACrashNothingIsSentOrKeptTwice() throws {
        let f = try ClientFixture("agent-restart")
        defer { f.stop() }
        let root = f.folder.appendingPathComponent("agent")
        let file = f.folder.appendingPathComponent("x.dat")
        try Data("sent just before the crash".utf8).write(to: file)
        // The send went through, then the agent died before moving the pair on: it must find it, not resend.
        let id = try #require(
            try f.run([
                "client", "send", file.path, "--to", "BOB", "--workflow", "WF", "--local-id", "crash-1", "--profile", "alice",
                "--json",
            ]).json["message_id"] as? String)
        try drop(
            "c", data: Data("sent just before the crash".utf8), control: control(to: "BOB", localID: "crash-1"),
            in: root.appendingPathComponent("ALICE/OUT/.sending"))
        // And one that never went: it is sent.
        try drop(
            "d", data: Data("never went".utf8), control: control(to: "BOB", localID: "crash-2"), in: root.appendingPathComponent("ALICE/OUT/.sending")
        )
        #expect(try agent(f, root, "alice").status == 0)
        let sent = root.appendingPathComponent("ALICE/SENT")
        #expect(try DTSControl.parse(Data(contentsOf: sent.appendingPathComponent("c.ctl"))).messageID == id)
        #expect(names(sent, ".ctl") == ["c.ctl", "d.ctl"])
        let waiting = try #require(try f.run(["client", "inbox", "--profile", "bob", "--json"]).json["messages"] as? [String])
        #expect(waiting.count == 2 && waiting.contains(id))

        // A message kept in IN before the crash, not yet acknowledged: acknowledged, not kept twice.
        let inbox = root.appendingPathComponent("BOB/IN")
        try FileManager.default.createDirectory(at: inbox.appendingPathComponent(".receiving"), withIntermediateDirectories: true)
        // And a partial download of a message that no longer waits (expired while the agent was down): removed.
        try Data("half of a message".utf8).write(to: inbox.appendingPathComponent(".receiving/20261201000000000000_EXPIRED.dat"))
        try FileManager.default.createDirectory(
            at: inbox.appendingPathComponent(".receiving/20261201000000000000_EXPIRED.dat.partial"), withIntermediateDirectories: true)
        try Data("kept".utf8).write(to: inbox.appendingPathComponent(id + ".dat"))
        try Data(control(to: "BOB").utf8).write(to: inbox.appendingPathComponent(id + ".ctl"))
        // A download of a message that still waits, interrupted after its first chunk was kept: it
        // resumes with that chunk, not from the start (the chunk's bytes differ from the message's, so
        // a fresh download would show).
        let other = try #require(waiting.first { $0 != id })
        let partial = inbox.appendingPathComponent(".receiving/\(other).dat.partial")
        try FileManager.default.createDirectory(at: partial, withIntermediateDirectories: true)
        try Data("chunk kept before the crash".utf8).write(to: partial.appendingPathComponent("1"))
        try JSONEncoder().encode(["mex-from": "ALICE", "mex-to": "BOB", "mex-workflowid": "WF", "mex-localid": "crash-2", "mex-chunk-range": "1:1"])
            .write(to: partial.appendingPathComponent("headers.json"))
        #expect(try agent(f, root, "bob").status == 0)
        #expect(try String(contentsOf: inbox.appendingPathComponent(id + ".dat"), encoding: .utf8) == "kept")
        #expect(try String(contentsOf: inbox.appendingPathComponent(other + ".dat"), encoding: .utf8) == "chunk kept before the crash")
        #expect(try DTSControl.parse(Data(contentsOf: inbox.appendingPathComponent(other + ".ctl"))).localID == "crash-2")
        #expect(names(inbox, ".dat").count == 2)
        #expect(names(inbox.appendingPathComponent(".receiving"), "") == [])
        #expect(try f.run(["client", "inbox", "--profile", "bob", "--json"]).json["messages"] as? [String] == [])
    }

    /// A kill between the two renames of a move (the data file goes first) leaves the control file in OUT
    /// and its data file alone in `.sending` or ERROR. The next pass brings the data file back and sends
    /// the pair; a data file whose control file sits beside it in ERROR is a refusal and stays there.
    @Test func aPairSplitByAKillMidMoveIsJoinedAndSent() throws {
        let f = try ClientFixture("agent-split")
        defer { f.stop() }
        let root = f.folder.appendingPathComponent("agent")
        let out = root.appendingPathComponent("ALICE/OUT")
        let errors = root.appendingPathComponent("ALICE/ERROR")
        try drop("mid-send", data: Data("caught on its way to .sending".utf8), control: control(to: "BOB", localID: "split-1"), in: out)
        try drop("mid-refusal", data: Data("caught on its way to ERROR".utf8), control: control(to: "BOB", localID: "split-2"), in: out)
        try drop("refused", data: Data("refused before".utf8), control: "not XML", in: errors)
        try drop("refused", data: Data("a new pair of the same name".utf8), control: control(to: "BOB"), in: out)
        try FileManager.default.createDirectory(at: out.appendingPathComponent(".sending"), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: out.appendingPathComponent("mid-send.dat"), to: out.appendingPathComponent(".sending/mid-send.dat"))
        try FileManager.default.moveItem(at: out.appendingPathComponent("mid-refusal.dat"), to: errors.appendingPathComponent("mid-refusal.dat"))
        try FileManager.default.removeItem(at: out.appendingPathComponent("refused.dat"))

        #expect(try agent(f, root, "alice").status == 0)
        let sent = root.appendingPathComponent("ALICE/SENT")
        #expect(names(sent, ".ctl") == ["mid-refusal.ctl", "mid-send.ctl"])
        #expect(try Data(contentsOf: sent.appendingPathComponent("mid-send.dat")) == Data("caught on its way to .sending".utf8))
        #expect(try Data(contentsOf: sent.appendingPathComponent("mid-refusal.dat")) == Data("caught on its way to ERROR".utf8))
        // The earlier refusal keeps its data file; the new control file without one waits in OUT.
        #expect(names(errors, ".dat") == ["refused.dat"] && names(out, ".ctl") == ["refused.ctl"])
        let waiting = try #require(try f.run(["client", "inbox", "--profile", "bob", "--json"]).json["messages"] as? [String])
        #expect(waiting.count == 2)
    }

    /// The receiving agent's folder on a 2 MiB tmpfs, six messages of 700 KiB waiting: it keeps what
    /// fits, stops at the first write that fails, and acknowledges only what it kept whole; once the
    /// filesystem grows, the next pass receives the rest. Nothing is lost, nothing is half-kept in IN.
    @Test(.enabled(if: Mounts.available, "needs root to mount a small tmpfs (CI runs as root)"), .timeLimit(.minutes(3)))
    func onAFullDiskItStopsAcknowledgingAndLosesNothing() throws {
        let f = try ClientFixture("agent-full", chunkSize: 256 * 1024)
        defer { f.stop() }
        let root = f.folder.appendingPathComponent("agent")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Mounts.mount(["-t", "tmpfs", "-o", "size=2m", "tmpfs", root.path])
        defer { Mounts.unmount(root.path) }
        var sent: [String: Data] = [:]
        for n in 0..<6 {
            let seed = (0..<64).map { _ in UInt8.random(in: 0...255) }
            let data = Data([[UInt8]](repeating: seed, count: 700 * 1024 / 64).joined())
            let file = f.folder.appendingPathComponent("full-\(n).dat")
            try data.write(to: file)
            let id = try #require(
                try f.run(["client", "send", file.path, "--to", "BOB", "--workflow", "WF", "--profile", "alice", "--json"]).json["message_id"]
                    as? String)
            sent[id] = data
        }
        let inbox = root.appendingPathComponent("BOB/IN")
        func waitingOnTheBroker() throws -> Set<String> {
            Set(try #require(try f.run(["client", "inbox", "--profile", "bob", "--json"]).json["messages"] as? [String]))
        }
        /// Every pair in IN is whole and is one of the messages sent.
        func keptWhole() throws -> Set<String> {
            let ids = names(inbox, ".ctl").map { String($0.dropLast(4)) }
            for id in ids { #expect(try Data(contentsOf: inbox.appendingPathComponent(id + ".dat")) == sent[id], "\(id) in IN is not what was sent") }
            #expect(names(inbox, ".dat").count == ids.count, "a data file in IN without its control file")
            return Set(ids)
        }

        let full = try agent(f, root, "bob")
        #expect(full.status == 1, "the pass should stop on the full disk: \(full.err)")
        let kept = try keptWhole()
        #expect(!kept.isEmpty && kept.count < 6, "kept \(kept.count) of 6 on a 2 MiB filesystem")
        // What was not kept is still waiting on the broker: nothing acknowledged without its files.
        #expect(try waitingOnTheBroker() == Set(sent.keys).subtracting(kept))

        try Mounts.mount(["-o", "remount,size=32m", root.path])
        let grown = try agent(f, root, "bob")
        #expect(grown.status == 0, "\(grown.err)")
        #expect(try keptWhole() == Set(sent.keys))
        #expect(try waitingOnTheBroker().isEmpty)
    }

    /// Twenty files of a megabyte in 16 KiB chunks; the agent killed with SIGKILL three times while it
    /// sends, then the recipient's three times while it receives; each side then finishes with one pass.
    /// Run one suite at a time (scripts/test), so the polling loop sees the agent's progress promptly.
    @Test(.timeLimit(.minutes(3)))
    func killedDuringSendsAndReceivesNothingIsLostOrDoubled() async throws {
        let f = try ClientFixture("agent-kill", chunkSize: 16 * 1024)
        defer { f.stop() }
        let root = f.folder.appendingPathComponent("agent")
        var payloads: [String: Data] = [:]
        for n in 0..<20 {
            let data = Data((0..<(1_000_000 + n)).map { UInt8(truncatingIfNeeded: $0 &* (n + 3)) })
            payloads["m\(n)"] = data
            try drop("m\(n)", data: data, control: control(to: "BOB", localID: "kill-\(n)"), in: root.appendingPathComponent("ALICE/OUT"))
        }
        for (profile, done) in [("alice", "ALICE/SENT"), ("bob", "BOB/IN")] {
            var afterKills: [Int] = []
            // Each agent is killed once it has moved on by a few messages, so every kill lands mid-work.
            for threshold in [2, 8, 14] {
                let (process, _) = try f.start(["agent", "run", "--folder", root.path, "--profile", profile, "--poll-seconds", "0.2"])
                let deadline = ContinuousClock.now + .seconds(60)
                while names(root.appendingPathComponent(done), ".ctl").count < threshold, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(5))
                }
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                afterKills.append(names(root.appendingPathComponent(done), ".ctl").count)
            }
            #expect(afterKills.allSatisfy { $0 < 20 }, "\(profile)'s agent finished before a kill: \(afterKills)")
            let finish = try agent(f, root, profile)
            #expect(finish.status == 0, "\(finish.err)")
        }
        let sent = names(root.appendingPathComponent("ALICE/SENT"), ".ctl")
        let left = ["ALICE/OUT", "ALICE/OUT/.sending", "ALICE/ERROR"].map { "\($0): \(names(root.appendingPathComponent($0), ""))" }
        #expect(sent.count == 20 && names(root.appendingPathComponent("ALICE/OUT"), ".ctl").isEmpty, "\(sent.count) sent; \(left)")
        // The broker holds exactly twenty messages from ALICE, one per local id: none sent twice.
        let rich = try #require(try f.run(["client", "inbox", "--rich", "--profile", "bob", "--json"]).out.data(using: .utf8))
        let listed = try #require(try JSONSerialization.jsonObject(with: rich) as? [[String: Any]])
        #expect(listed.count == 20 && Set(listed.compactMap { $0["local_id"] as? String }).count == 20)
        #expect(listed.allSatisfy { $0["status"] as? String == "acknowledged" })
        // Every one is in IN once, whole.
        let inbox = root.appendingPathComponent("BOB/IN")
        let received = try names(inbox, ".ctl").map { try DTSControl.parse(Data(contentsOf: inbox.appendingPathComponent($0))) }
        #expect(received.count == 20 && names(inbox, ".dat").count == 20)
        for control in received {
            let name = "m" + (control.localID ?? "").replacingOccurrences(of: "kill-", with: "")
            #expect(try Data(contentsOf: inbox.appendingPathComponent(control.messageID! + ".dat")) == payloads[name], "\(name)")
        }
    }
}
