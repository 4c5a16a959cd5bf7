import ArgumentParser
import Foundation
import HandoverClient

/// `handover agent`: the MESH client's folder contract, for people with no integration engine.
struct Agent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send what is dropped in a folder and receive into one, for one or more mailboxes (the MESH client's folder contract).",
        discussion: """
            Under --folder, each profile's mailbox has its own folders:

              <folder>/<MAILBOX>/OUT/     drop X.dat with X.ctl (DTSControl XML: To_DTS, WorkflowId, Subject, LocalId,
                                          Compress, AllowChunking; optional HandoverCrossing with the crossing record's JSON)
              <folder>/<MAILBOX>/SENT/    sent pairs; the message id is written into the .ctl as DTSId
              <folder>/<MAILBOX>/IN/      received messages as <id>.dat and <id>.ctl (a report is a .ctl alone)
              <folder>/<MAILBOX>/ERROR/   pairs that cannot be sent, with X.reason.txt; never retried

            Profiles are those of `handover client`. MESH asks clients to poll at most every five minutes (the
            default) and at least once a day.
            """,
        subcommands: [Run.self, Status.self])

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the agent: a pass now, then one every --poll-seconds (or once with --once).")
        @Option(help: "The agent's root folder.") var folder: String
        @Option(name: .customLong("profile"), help: "A mailbox's profile (repeat for several mailboxes).") var profiles: [String]
        @Option(help: "The profile file (as for `handover client`).") var config: String?
        @Option(name: .customLong("poll-seconds"), help: "Seconds between passes (default 300, MESH's minimum against NHS's MESH).")
        var pollSeconds: Double = 300
        @Flag(help: "One pass, then exit (status 1 if it stopped on a failure).") var once = false

        func validate() throws {
            guard !profiles.isEmpty else { throw ValidationError("name at least one --profile") }
            guard pollSeconds >= 0.1, pollSeconds <= 86_400 else { throw ValidationError("--poll-seconds is from 0.1 to 86400") }
        }

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            let path = ClientProfiles.path(explicit: config, environment: environment)
            var agents: [FolderAgent] = []
            do {
                for name in profiles {
                    let client = try MeshClient(profile: try ClientProfiles.load(path: path, name: name), environment: environment)
                    let agent = FolderAgent(client: client, root: URL(fileURLWithPath: folder)) { line in
                        FileHandle.standardError.write(Data("\(ISO8601DateFormatter().string(from: Date())) \(client.mailbox): \(line)\n".utf8))
                    }
                    try agent.prepare()
                    agents.append(agent)
                }
            } catch {
                for agent in agents { await agent.shutdown() }
                FileHandle.standardError.write(Data("handover agent: \(error)\n".utf8))
                throw ExitCode(2)
            }
            var backoff = pollSeconds
            while true {
                var failed = false
                for agent in agents { failed = await agent.pass().failure != nil || failed }
                if once {
                    for agent in agents { await agent.shutdown() }
                    if failed { throw ExitCode(1) }
                    return
                }
                // After a failure, wait longer each time (up to an hour), then back to the poll interval.
                backoff = failed ? min(max(backoff * 2, pollSeconds), 3600) : pollSeconds
                try await Task.sleep(for: .milliseconds(Int(backoff * 1000)))
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What waits in each mailbox's folders, and each mailbox's last pass.")
        @Option(help: "The agent's root folder.") var folder: String

        func run() throws {
            let root = URL(fileURLWithPath: folder)
            guard let mailboxes = try? FileManager.default.contentsOfDirectory(atPath: root.path).sorted(), !mailboxes.isEmpty else {
                throw ValidationError("no agent folders under \(folder)")
            }
            for mailbox in mailboxes {
                let base = root.appendingPathComponent(mailbox)
                func count(_ sub: String, _ suffix: String) -> Int {
                    ((try? FileManager.default.contentsOfDirectory(atPath: base.appendingPathComponent(sub).path)) ?? []).filter {
                        $0.hasSuffix(suffix)
                    }.count
                }
                var line =
                    "\(mailbox): OUT \(count("OUT", ".ctl")) waiting, SENT \(count("SENT", ".ctl")), "
                    + "IN \(count("IN", ".ctl")), ERROR \(count("ERROR", ".ctl"))"
                if let data = FileManager.default.contents(atPath: base.appendingPathComponent("agent-status.json").path),
                    let status = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
                {
                    line += "; last pass \(status["last_pass"] as? String ?? "?")"
                    if let failure = status["failure"] as? String { line += " stopped: \(failure)" }
                }
                print(line)
            }
        }
    }
}
