import HandoverCore
import HandoverStore
import Synchronization

/// A send's token, admitted by this instance's replay guard but not yet spent in the replay cache
/// that every instance shares. Spent there on its own, it is a commit the send waits for before its
/// delivery's; a plain delivery instead spends it in its own commit (`TokenSpendingMessageStore`), so
/// the send waits for one. The request carries it to its first write: whatever writes first takes it,
/// and spends it at once or in that write; the authentication middleware spends it after the handler
/// if nothing took it. So no request writes before its token is spent, and none is answered before.
final class PendingTokenSpend: Sendable {
    let token: TokenSpend
    let mailbox: MailboxID
    let address: String?
    private let taken = Atomic<Bool>(false)

    init(token: TokenSpend, mailbox: MailboxID, address: String?) {
        (self.token, self.mailbox, self.address) = (token, mailbox, address)
    }

    /// True the first time only: that caller spends the token.
    func take() -> Bool { !taken.exchange(true, ordering: .acquiringAndReleasing) }
}
