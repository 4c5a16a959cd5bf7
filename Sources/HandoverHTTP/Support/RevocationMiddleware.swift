import HandoverCore
import HandoverReceipts
import Hummingbird
import Synchronization

/// The client-certificate revocation list in force (`--client-crl`), replaced on SIGHUP.
public final class ClientRevocations: Sendable {
    let list: Mutex<RevocationList?>

    public init(_ list: RevocationList?) { self.list = Mutex(list) }

    public func replace(_ new: RevocationList?) { list.withLock { $0 = new } }

    var current: RevocationList? { list.withLock { $0 } }
}

/// Refuses every request over a connection whose client certificate the CRL revokes (MESH and admin
/// alike), before any handler runs. Costs nothing when no CRL is configured.
public struct RevocationMiddleware<Context: ClientCertificateContext>: RouterMiddleware {
    let revocations: ClientRevocations

    public init(revocations: ClientRevocations) { self.revocations = revocations }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let list = revocations.current, let serial = await context.clientCertificateSerial(), list.revokes(serial: serial) {
            context.logger.notice("refused: the client certificate is revoked",
                                  metadata: ["handover.client_address": "\(context.clientAddress ?? "unknown")"])
            if request.uri.path.hasPrefix("/admin") {
                throw AdminProblem(status: .forbidden, type: "certificate-revoked", title: "Forbidden", detail: "the client certificate has been revoked")
            }
            throw MeshError(status: 403, event: "", code: "", message: "Forbidden: the client certificate has been revoked")
        }
        return try await next(request, context)
    }
}
