/// How a store writes the row of a `MessageTransition` before carrying out its effects.
public enum TransitionRow: Sendable {
    /// A new message.
    case insert
    /// A message read in this transaction.
    case update
    /// Already written by the statement that decided the change (a conditional `UPDATE … RETURNING`).
    case written
}
