import ArgumentParser
import Foundation
import HandoverClient
import HandoverCore

/// `handover client`: a MESH mailbox on the command line, against Handover or any MESH-compatible server.
struct Client: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send, receive and act on messages as a mailbox (any MESH server; Handover's responsibility calls too).",
        discussion: """
            Profiles are read from --config, else HANDOVER_CLIENT_CONFIG, else ~/.config/handover/client.yaml:

              profiles:
                carehome:
                  url: https://localhost:8443
                  mailbox: CAREHOME1
                  password_env: CAREHOME1_PASSWORD      # or password_file: PATH
                  shared_key_env: HANDOVER_SHARED_KEY   # or shared_key_file: PATH
                  certificate: Certs/dev/clients/CAREHOME1.pem
                  key: Certs/dev/clients/CAREHOME1.key
                  ca: Certs/dev/ca.pem
                  chunk_size: 20971520                  # optional, bytes per chunk when sending

            Secrets are never in the file, only where to find them. TransferProgress goes to standard error (a bar on a
            terminal, a line per chunk otherwise); --json prints one JSON object on standard output.
            """,
        subcommands: [Send.self, Inbox.self, Download.self, Ack.self, Accept.self, Decline.self, Outcome.self, Track.self, Receipt.self])
}

/// The options every client command takes.
struct ClientOptions: ParsableArguments {
    @Option(help: "The profile file.") var config: String?
    @Option(help: "The profile to use (needed when the file has several).") var profile: String?
    @Flag(help: "Print one JSON object on standard output.") var json = false

    /// Runs `body` with a client for the profile; MESH refusals and client errors become a message and exit status 1.
    func with<T>(_ body: (MeshClient, TransferProgress) async throws -> T, print render: (T) -> (text: String, json: JSONValue)) async throws {
        let environment = ProcessInfo.processInfo.environment
        let client: MeshClient
        do {
            client = try MeshClient(
                profile: try ClientProfiles.load(path: ClientProfiles.path(explicit: config, environment: environment), name: profile),
                environment: environment)
        } catch {
            FileHandle.standardError.write(Data("handover client: \(error)\n".utf8))
            throw ExitCode(2)
        }
        do {
            let result = try await body(client, TransferProgress.forStandardError())
            await client.shutdown()
            let (text, value) = render(result)
            print(json ? value.serialized : text)
        } catch {
            await client.shutdown()
            if json {
                print(JSONValue.object([("error", .string("\(error)"))]).serialized)
            } else {
                FileHandle.standardError.write(Data("handover client: \(error)\n".utf8))
            }
            throw ExitCode(1)
        }
    }
}

/// Who acts: Handover records a decision or outcome against a named person.
struct PersonOptions: ParsableArguments {
    @Option(help: "The person acting (their name).") var by: String
    @Option(help: "Their role, such as \"Social worker\".") var role: String?
    @Option(help: "Their team.") var team: String?

    var person: Person { Person(name: by, role: role, team: team) }
}

extension Client {
    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a file to a mailbox, organisation or area for a workflow.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The file to send.") var file: String
        @Option(help: "Mex-To: a mailbox id, an organisation code, AREA:<code> or POSTCODE:<district>.") var to: String
        @Option(help: "The workflow id.") var workflow: String
        @Option(help: "Mex-Subject.") var subject: String?
        @Option(name: .customLong("local-id"), help: "Mex-LocalID: your own reference, for tracking.") var localID: String?
        @Flag(help: "Gzip the file before sending (Content-Encoding: gzip).") var gzip = false
        @Option(name: .customLong("crossing"), help: "A JSON file with the crossing record (Handover's Mex-Handover-Crossing).") var crossing: String?
        @Option(name: .customLong("chunk-size"), help: "Bytes per chunk (default: the profile's, else 20 MiB).") var chunkSize: Int?

        func validate() throws {
            if let chunkSize, !(1024...100_000_000).contains(chunkSize) { throw ValidationError("--chunk-size is from 1024 to 100000000 bytes") }
        }

        func run() async throws {
            var outgoing = Outgoing(file: file, to: to, workflow: workflow)
            (outgoing.subject, outgoing.localID, outgoing.gzip) = (subject, localID, gzip)
            if let crossing {
                guard let text = try? String(contentsOfFile: crossing, encoding: .utf8) else { throw ValidationError("cannot read \(crossing)") }
                outgoing.crossingJSON = text
            }
            let chosen = chunkSize
            try await options.with(
                { client, progress in
                    var message = outgoing
                    if let chosen { message.chunkSize = chosen } else if let size = client.profileChunkSize { message.chunkSize = size }
                    return try await client.send(message, progress: progress)
                }, print: { id in (id, .object([("message_id", .string(id))])) })
        }
    }

    struct Inbox: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the messages waiting (with --rich: every message received, any status).")
        @OptionGroup var options: ClientOptions
        @Flag(help: "Every message received with its sender, workflow and status (the rich inbox).") var rich = false

        func run() async throws {
            if rich {
                try await options.with(
                    { client, _ in try await client.richInbox().map(RichRow.init) },
                    print: { rows in
                        (rows.map(\.line).joined(separator: "\n"), .array(rows.map(\.json)))
                    })
            } else {
                try await options.with(
                    { client, _ in try await client.inbox() },
                    print: { ids in
                        (ids.joined(separator: "\n"), .object([("messages", .array(ids.map { .string($0) }))]))
                    })
            }
        }
    }

    struct Download: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download a message (resumes an interrupted download), then optionally acknowledge it.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The message id.") var id: String
        @Option(help: "Where to write it (default: <id>.dat here).") var output: String?
        @Flag(help: "Acknowledge the message once it is saved.") var ack = false

        func run() async throws {
            let path = output ?? "\(id).dat"
            let (id, ack) = (id, ack)
            try await options.with(
                { client, progress in
                    let headers = try await client.download(id, to: path, progress: progress)
                    if ack { try await client.acknowledge(id) }
                    return headers
                },
                print: { headers in
                    let summary = [
                        "from": headers["mex-from"], "to": headers["mex-to"], "workflow": headers["mex-workflowid"],
                        "type": headers["mex-messagetype"], "local_id": headers["mex-localid"], "subject": headers["mex-subject"],
                    ]
                    let text =
                        "saved \(path)\n" + summary.keys.sorted().compactMap { key in summary[key]!.map { "\(key): \($0)" } }.joined(separator: "\n")
                    return (
                        text,
                        .object([
                            ("message_id", .string(id)), ("file", .string(path)), ("acknowledged", .bool(ack)),
                            ("headers", .object(headers.keys.sorted().map { ($0, .string(headers[$0]!)) })),
                        ])
                    )
                })
        }
    }

    struct Ack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Acknowledge a message (it leaves the inbox).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The message id.") var id: String

        func run() async throws {
            let id = id
            try await options.with(
                { client, _ in try await client.acknowledge(id) },
                print: { _ in
                    ("acknowledged \(id)", .object([("message_id", .string(id)), ("acknowledged", true)]))
                })
        }
    }

    struct Accept: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Accept responsibility for a downloaded message, as a named person (Handover).")
        @OptionGroup var options: ClientOptions
        @OptionGroup var who: PersonOptions
        @Argument(help: "The message id.") var id: String
        @Option(help: "Your own lawful basis, Article 6 code (where the workflow asks for it).") var article6: String?
        @Option(help: "Article 9 code.") var article9: String?
        @Option(name: .customLong("schedule1"), help: "DPA 2018 Schedule 1 condition, where Article 9 needs one.") var schedule1: String?
        @Option(help: "A note.") var note: String?

        func run() async throws {
            var basis: LawfulBasis?
            if article6 != nil || article9 != nil || schedule1 != nil {
                var given = LawfulBasis()
                (given.article6, given.article9, given.schedule1) = (article6, article9, schedule1)
                basis = given
            }
            let (id, person, note, chosen) = (id, who.person, note, basis)
            try await options.with(
                { client, _ in try await client.decide(id, accept: true, by: person, note: note, basis: chosen) },
                print: {
                    ("accepted \(id) as \(person.name)", .stored(jsonText($0)))
                })
        }
    }

    struct Decline: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Decline responsibility, saying why (Handover); responsibility stays with the sender.")
        @OptionGroup var options: ClientOptions
        @OptionGroup var who: PersonOptions
        @Argument(help: "The message id.") var id: String
        @Option(help: "Why, in words (required).") var note: String
        @Option(help: "Why, as a code: wrong-service, wrong-area, not-eligible, needs-more-information, duplicate or other.") var reason: String?

        func run() async throws {
            let (id, person, note, reason) = (id, who.person, note, reason)
            try await options.with(
                { client, _ in try await client.decide(id, accept: false, by: person, note: note, basis: nil, reason: reason) },
                print: {
                    ("declined \(id) as \(person.name)", .stored(jsonText($0)))
                })
        }
    }

    struct Outcome: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Record what happened (Handover): "
                + "assessed, services-arranged, no-further-action, s42-enquiry, s47-initiated, referred-elsewhere, closed."
        )
        @OptionGroup var options: ClientOptions
        @OptionGroup var who: PersonOptions
        @Argument(help: "The message id.") var id: String
        @Option(help: "The outcome code.") var code: String
        @Option(help: "A few words of detail.") var detail: String?

        func run() async throws {
            let (id, person, code, detail) = (id, who.person, code, detail)
            try await options.with(
                { client, _ in try await client.outcome(id, code: code, detail: detail, by: person) },
                print: {
                    ("recorded \(code) on \(id)", .stored(jsonText($0)))
                })
        }
    }

    struct Track: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Track a sent message: status, and on Handover responsibility and outcome.")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The message id.") var id: String

        func run() async throws {
            let id = id
            try await options.with(
                { client, _ in try await client.track(id) },
                print: { tracking in
                    let handover = tracking["handover"] as? [String: Any]
                    let responsibility = handover?["responsibility"] as? [String: Any]
                    var lines = ["\(id): \(tracking["status"] as? String ?? "?") (to \(tracking["recipient"] as? String ?? "?"))"]
                    if let state = responsibility?["state"] as? String { lines.append("responsibility: \(state)") }
                    if let outcome = (responsibility?["outcome"] as? [String: Any])?["code"] as? String { lines.append("outcome: \(outcome)") }
                    return (lines.joined(separator: "\n"), .stored(jsonText(tracking)))
                })
        }
    }

    struct Receipt: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Fetch the signed crossing receipt of a message (Handover).")
        @OptionGroup var options: ClientOptions
        @Argument(help: "The message id.") var id: String
        @Flag(help: "As the recipient (default: as the sender).") var inbox = false
        @Option(help: "Also write the receipt's JSON to this file.") var output: String?

        func run() async throws {
            let (id, inbox, output) = (id, inbox, output)
            try await options.with(
                { client, _ in
                    let receipt = try await client.receipt(id, asSender: !inbox)
                    if let output { try Data(jsonText(receipt).utf8).write(to: URL(fileURLWithPath: output)) }
                    return receipt
                },
                print: { (receipt: [String: Any]) in
                    let signed = receipt["signature"] is String ? "signed" : "unsigned"
                    return ("receipt for \(id) (\(signed))\(output.map { ", written to \($0)" } ?? "")", .stored(jsonText(receipt)))
                })
        }
    }
}

/// One row of the rich inbox, for people and for --json.
struct RichRow: Sendable {
    let line: String
    let json: JSONValue

    init(_ message: [String: Any]) {
        func field(_ key: String) -> String { (message[key] as? String) ?? "" }
        line = [field("message_id"), field("status"), field("workflow_id"), "from \(field("sender"))", field("sent_date")].joined(separator: "  ")
        json = .stored(jsonText(message))
    }
}

func jsonText(_ object: Any) -> String {
    (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
}
