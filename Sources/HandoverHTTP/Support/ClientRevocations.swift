import HandoverCore
import HandoverReceipts
import Logging
import Synchronization

/// The client-certificate revocation list in force (`--client-crl`), replaced on SIGHUP. The
/// authentication middleware of every route group asks it first, so a revoked certificate reaches no
/// handler; it costs nothing when no CRL is configured.
public final class ClientRevocations: Sendable {
    let list: Mutex<RevocationList?>

    public init(_ list: RevocationList?) { self.list = Mutex(list) }

    public func replace(_ new: RevocationList?) { list.withLock { $0 = new } }

    /// True (and logged) when the connection's certificate is revoked. The address is formatted only
    /// for the log line.
    func revokes(_ peer: PeerIdentity?, address: @autoclosure () -> String?, logger: Logger) -> Bool {
        guard let peer, let current = list.withLock({ $0 }), current.revokes(serial: peer.serial) else { return false }
        logger.notice("refused: the client certificate is revoked", metadata: ["handover.client_address": "\(address() ?? "unknown")"])
        return true
    }
}
