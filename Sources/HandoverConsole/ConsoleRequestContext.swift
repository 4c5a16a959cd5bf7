import HandoverCore
import Hummingbird
import NIOCore

/// A console request's context: the signed-in person once the session middleware has found them.
public struct ConsoleRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The caller's address, for slowing repeated failed sign-ins.
    public let remoteAddress: String
    public var session: ConsoleSession?
    public var user: ConsoleUser?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// The signed-in person, or a redirect to sign in (the session middleware normally answers first).
    func signedIn() throws -> (session: ConsoleSession, user: ConsoleUser) {
        guard let session, let user, session.stage == .active else { throw HTTPError(.unauthorized) }
        return (session, user)
    }
}
