import Foundation
import HandoverCore
import NIOCore
import NIOPosix
import NIOSSL

/// The SMTP relay alert emails go through (`--smtp-url`). STARTTLS is required unless the URL says
/// `?starttls=off`; credentials come from the environment, never the URL, and are never sent
/// without TLS.
public struct SMTPRelayConfiguration: Hashable, Sendable {
    public enum Security: String, Hashable, Sendable {
        /// `smtp://`: plain connection upgraded with STARTTLS before anything else; a relay that does not offer it is refused.
        case startTLS = "starttls"
        /// `smtps://`: TLS from the first byte (port 465).
        case implicitTLS = "tls"
        /// `smtp://…?starttls=off`: no encryption, for a relay on the same host; no credentials are sent.
        case none
    }

    public var host: String
    public var port: Int
    public var security: Security
    public var from: String
    public var username: String?
    public var password: String?
    /// PEM certificates to trust for the relay instead of the system's (a private CA).
    public var trustFile: String?

    /// Parses `--smtp-url`; `environment` supplies `HANDOVER_SMTP_USERNAME` and `HANDOVER_SMTP_PASSWORD`.
    public static func parse(url: String, from: String?, trustFile: String?, environment: [String: String]) throws -> SMTPRelayConfiguration {
        func refuse(_ why: String) -> ConfigurationError { ConfigurationError("--smtp-url " + why) }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), let host = components.host, !host.isEmpty
        else {
            throw refuse("must look like smtp://relay.example.org:587 or smtps://relay.example.org:465")
        }
        guard components.user == nil, components.password == nil else {
            throw refuse("must not carry credentials: set HANDOVER_SMTP_USERNAME and HANDOVER_SMTP_PASSWORD")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        if let unknown = query.keys.first(where: { $0 != "starttls" }) {
            throw refuse("has an unknown setting '\(unknown.prefix(30))' (only starttls=off)")
        }
        let security: Security
        switch (scheme, query["starttls"]) {
        case ("smtp", nil), ("smtp", "required"): security = .startTLS
        case ("smtp", "off"): security = .none
        case ("smtps", nil): security = .implicitTLS
        default: throw refuse("must be smtp:// (STARTTLS, or ?starttls=off for a relay on this host) or smtps://")
        }
        guard let from, EmailAddress.isValid(from) else { throw ConfigurationError("--smtp-from must be an email address (alerts@example.org)") }
        let username = environment["HANDOVER_SMTP_USERNAME"].flatMap { $0.isEmpty ? nil : $0 }
        let password = environment["HANDOVER_SMTP_PASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        if (username == nil) != (password == nil) {
            throw ConfigurationError("HANDOVER_SMTP_USERNAME and HANDOVER_SMTP_PASSWORD are set together or not at all")
        }
        if security == .none && username != nil {
            throw ConfigurationError("SMTP credentials are never sent without TLS: drop ?starttls=off or the credentials")
        }
        let port = components.port ?? (security == .implicitTLS ? 465 : 587)
        guard (1...65535).contains(port) else { throw refuse("has a port out of range") }
        return SMTPRelayConfiguration(
            host: host, port: port, security: security, from: from, username: username, password: password, trustFile: trustFile)
    }

    /// The relay as logs and banners show it: no credentials.
    public var redacted: String { "\(security == .implicitTLS ? "smtps" : "smtp")://\(host):\(port) (\(security.rawValue))" }
}

/// Sends one email through the relay. A failed send says whether retrying can help: a 5xx reply
/// (unknown recipient, refused sender, policy) is permanent and the delivery is abandoned with the
/// relay's words recorded; a 4xx, a timeout, a refused connection or a TLS failure is retried.
public struct SMTPRelay: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var permanent: Bool
        public var description: String
    }

    public let configuration: SMTPRelayConfiguration
    /// The whole conversation, connection included, ends by then.
    public var timeout: TimeAmount = .seconds(60)

    public init(configuration: SMTPRelayConfiguration) { self.configuration = configuration }

    /// Delivers `message` (RFC 5322 text) to `recipient`; returns the relay's final reply.
    @discardableResult
    public func send(to recipient: String, message: String) async throws -> SMTPReply {
        let c = configuration
        let tls = try makeTLSContext()
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: c.host, port: c.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if c.security == .implicitTLS {
                            try channel.pipeline.syncOperations.addHandler(
                                try NIOSSLClientHandler(context: tls, serverHostname: Self.sniName(c.host)))
                        }
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw Failure(permanent: false, description: "cannot connect to the SMTP relay \(c.host):\(c.port): \(Self.describe(error))")
        }
        // One deadline for everything: closing the channel ends any read that is waiting.
        let deadline = channel.channel.eventLoop.scheduleTask(in: timeout) { channel.channel.close(promise: nil) }
        defer { deadline.cancel() }
        do {
            return try await channel.executeThenClose { inbound, outbound in
                var conversation = Conversation(inbound: inbound.makeAsyncIterator(), outbound: outbound)
                try await conversation.expect("greeting", 220)
                var hello = try await conversation.command("EHLO", "EHLO handover", 250)
                if c.security == .startTLS {
                    guard hello.extensions.contains(where: { $0 == "STARTTLS" }) else {
                        throw Failure(
                            permanent: false, description: "the SMTP relay does not offer STARTTLS (set ?starttls=off only for a relay on this host)")
                    }
                    try await conversation.command("STARTTLS", "STARTTLS", 220)
                    // Plain text queued behind the 220 would be read as if it came over TLS (the STARTTLS injection flaw).
                    guard conversation.ready.isEmpty && conversation.parser.isEmpty else {
                        throw Failure(permanent: false, description: "the SMTP relay sent more after agreeing to STARTTLS; refused")
                    }
                    // Made on the channel's own event loop: a TLS handler may not cross threads.
                    let serverName = Self.sniName(c.host)
                    try await channel.channel.eventLoop.submit {
                        try channel.channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: tls, serverHostname: serverName), position: .first)
                    }.get()
                    hello = try await conversation.command("EHLO", "EHLO handover", 250)
                }
                if let username = c.username, let password = c.password {
                    let token = Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
                    try await conversation.command("AUTH", "AUTH PLAIN " + token, 235)
                }
                try await conversation.command("MAIL FROM", "MAIL FROM:<\(c.from)>", 250)
                try await conversation.command("RCPT TO", "RCPT TO:<\(recipient)>", 250, 251)
                try await conversation.command("DATA", "DATA", 354)
                let accepted = try await conversation.send(SMTPMessage.dataSection(message), step: "message", expecting: [250])
                try? await conversation.write("QUIT\r\n")
                return accepted
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(permanent: false, description: "SMTP conversation with \(c.host):\(c.port) failed: \(Self.describe(error))")
        }
    }

    func makeTLSContext() throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let file = configuration.trustFile { tls.trustRoots = .file(file) }
        do { return try NIOSSLContext(configuration: tls) } catch {
            throw Failure(permanent: false, description: "cannot load the SMTP relay's trust file: \(Self.describe(error))")
        }
    }

    /// SNI carries names, not addresses; a relay reached by address is still verified against its certificate.
    static func sniName(_ host: String) -> String? {
        host.contains(":") || host.split(separator: ".").allSatisfy({ UInt8($0) != nil }) ? nil : host
    }

    static func describe(_ error: any Error) -> String {
        let text = String(describing: error)
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }

    /// Commands and replies, one at a time (no pipelining: a relay's refusal is tied to its command).
    struct Conversation {
        var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
        var parser = SMTPReplyParser()
        var ready: [SMTPReply] = []

        mutating func reply(_ step: String) async throws -> SMTPReply {
            while ready.isEmpty {
                guard let bytes = try await inbound.next() else {
                    throw Failure(permanent: false, description: "the SMTP relay closed the connection (or it timed out) at \(step)")
                }
                do { ready += try parser.feed(bytes.readableBytesView) } catch {
                    throw Failure(permanent: false, description: "the SMTP relay's reply at \(step) is not SMTP: \(error)")
                }
            }
            return ready.removeFirst()
        }

        func write(_ text: String) async throws { try await outbound.write(ByteBuffer(string: text)) }

        @discardableResult
        mutating func expect(_ step: String, _ codes: Int...) async throws -> SMTPReply { try check(try await reply(step), step: step, codes) }

        @discardableResult
        mutating func command(_ step: String, _ line: String, _ codes: Int...) async throws -> SMTPReply {
            try await send(line + "\r\n", step: step, expecting: codes)
        }

        mutating func send(_ text: String, step: String, expecting codes: [Int]) async throws -> SMTPReply {
            try await write(text)
            return try check(try await reply(step), step: step, codes)
        }

        func check(_ reply: SMTPReply, step: String, _ codes: [Int]) throws -> SMTPReply {
            guard codes.contains(reply.code) else {
                let words = String(String(describing: reply).prefix(200))
                throw Failure(permanent: reply.isPermanentFailure, description: "the SMTP relay refused \(step): \(words)")
            }
            return reply
        }
    }
}
