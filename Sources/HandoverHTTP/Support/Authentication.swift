import HandoverCore
import HandoverStore
import Hummingbird

/// Who a MESH request is from, settled once before any handler runs.
public struct MeshCaller: Sendable {
    public let mailbox: MailboxID
    public let version: MeshAPIVersion
    /// The directory version this request uses from start to end: the token was checked against it,
    /// the certificate binding read from it, and the handler routes and shapes its reply with it.
    public let directory: DirectoryIndex
    /// The token's spend in the replay cache every instance shares, where the route left it to the
    /// request's first write (a send: `MeshAuthentication.defersSharedSpend`).
    let pendingSpend: PendingTokenSpend?
}

/// The authentication policy of a route group. Every route is registered in a group with one of
/// these (the router-policy test refuses any route that answers without credentials and is not listed
/// as public).
struct MeshAuthentication<Context: HandoverContext>: RouterMiddleware {
    enum Scope {
        /// The path's `{mailbox}` with its own token (every mailbox route).
        case pathMailbox
        /// A token of any mailbox (directory lookups); none in sandbox mode, as NHS's sandbox.
        case anyMailbox
    }

    let broker: MeshBroker
    let scope: Scope
    /// Leaves the shared replay cache's spend to the handler's first write (see `PendingTokenSpend`);
    /// spent after the handler if it did not write.
    var defersSharedSpend = false

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if broker.revocations.revokes(context.peer, address: context.clientAddress, logger: context.logger) {
            throw MeshError(.certificateRevoked, event: "", message: "Forbidden: the client certificate has been revoked")
        }
        // Accept is validated first, so a bad Accept is a 400 even with a valid token.
        let version = try request.meshVersion()
        let directory = broker.directory.snapshot
        let header = request.header("authorization")
        let claimed: MailboxID
        switch scope {
        case .pathMailbox:
            claimed = try context.pathMailbox()
        case .anyMailbox:
            if broker.configuration.sandbox { return try await next(request, context) }
            guard case .success(let token) = MeshAuthToken.parse(header) else { throw MeshError.auth(.missingHeader) }
            claimed = MailboxID(token.mailbox)
        }
        let (mailbox, pending) = try await broker.authenticate(
            header: header, mailbox: claimed, directory: directory, address: context.clientAddress,
            logger: context.logger, deferringSharedSpend: defersSharedSpend)
        var context = context
        do {
            try checkCertificateBinding(mailbox, directory: directory, context: context)
            context.mesh = MeshCaller(mailbox: mailbox, version: version, directory: directory, pendingSpend: pending)
            let response = try await next(request, context)
            try await broker.spend(pending, logger: context.logger)
            return response
        } catch {
            try await broker.spend(pending, logger: context.logger)
            throw error
        }
    }

    /// Under mutual TLS, the client certificate must name the mailbox or its organisation.
    private func checkCertificateBinding(_ mailbox: MailboxID, directory: DirectoryIndex, context: Context) throws {
        guard broker.configuration.bindClientCertificates else { return }
        let names = context.peer?.names ?? []
        guard let box = directory.mailboxes[mailbox],
            ClientCertificateBinding.permits(certificateNames: names, mailbox: box, mode: broker.configuration.certificateBinding)
        else {
            context.logger.info(
                "authentication refused",
                metadata: [
                    "handover.mailbox": "\(mailbox)", "handover.cause": "client certificate is not bound to this mailbox",
                    "handover.client_address": "\(context.clientAddress ?? "unknown")",
                    "handover.client_certificate": "\(names.joined(separator: ",").prefix(200))",
                ])
            throw MeshError.auth(.invalidToken)
        }
    }
}

/// The admin API's policy: a known, unrevoked, unexpired bearer token whose role is at least `least`,
/// and under mutual TLS an admin client certificate (a stolen token alone must not open the API).
struct AdminAuthentication<Context: HandoverContext>: RouterMiddleware {
    let store: any BrokerStore
    let clock: @Sendable () -> Timestamp
    let revocations: ClientRevocations
    /// The client-certificate names (CN or DNS SAN) that may use the admin API; nil when the listener
    /// does not bind certificates.
    let certificateNames: Set<String>?
    let least: AdminRole

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if revocations.revokes(context.peer, address: context.clientAddress, logger: context.logger) {
            throw AdminProblem(code: .certificateRevoked, detail: "the client certificate has been revoked")
        }
        if let allowed = certificateNames {
            let names = context.peer?.names ?? []
            guard names.contains(where: { allowed.contains($0.lowercased()) }) else {
                context.logger.info(
                    "admin request refused: not an admin client certificate",
                    metadata: ["handover.client_address": "\(context.clientAddress ?? "unknown")"])
                throw AdminProblem(
                    code: .adminCertificateRequired,
                    detail: "the admin API needs the admin client certificate (Certs/dev/clients/admin.pem in development)")
            }
        }
        guard let header = request.header("authorization"), header.lowercased().hasPrefix("bearer "),
            case let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces), !token.isEmpty,
            let principal = try await store.adminPrincipal(tokenHash: AdminTokenFormat.hash(token), now: clock())
        else { throw AdminProblem.unauthorized }
        guard principal.role.includes(least) else {
            throw AdminProblem(code: .forbidden, detail: "this call needs the \(least == .admin ? "admin" : "operator or admin") role")
        }
        var context = context
        context.admin = principal
        return try await next(request, context)
    }
}

extension AdminRole {
    /// admin ⊇ operator ⊇ viewer.
    func includes(_ other: AdminRole) -> Bool { rank >= other.rank }

    private var rank: Int {
        switch self {
        case .viewer: 0
        case .operator: 1
        case .admin: 2
        }
    }
}
