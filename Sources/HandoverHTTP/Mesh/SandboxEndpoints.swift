import HandoverCore
import HandoverStore
import Hummingbird

/// NHS mesh-sandbox's reset routes, which the official client's test suite calls before every test.
/// Registered only with `--sandbox`; never in a real deployment.
public struct SandboxEndpoints<Context: RequestContext>: Sendable {
    let store: any MessageStore
    let clock: @Sendable () -> Timestamp

    public init(store: any MessageStore, clock: @escaping @Sendable () -> Timestamp) { (self.store, self.clock) = (store, clock) }

    /// Public by design: the sandbox has no real data and mesh-client's suite resets without a token.
    public func register(on router: Router<Context>) {
        let group = router.group().add(middleware: MeshErrorTranslation(metrics: nil))
        for prefix in ["/admin", "/messageexchange/admin"] {
            group.delete(RouterPath(prefix + "/reset")) { _, context in
                try await store.reset(mailbox: nil, now: clock())
                context.logger.notice("sandbox reset: all mailboxes")
                return Response.json(.object([("message", "all mailboxes reset")]))
            }
            group.delete(RouterPath(prefix + "/reset/:mailbox")) { _, context in
                let mailbox = try context.pathMailbox()
                try await store.reset(mailbox: mailbox, now: clock())
                return Response.json(.object([("message", .string("mailbox \(mailbox.rawValue) reset"))]))
            }
        }
    }
}
