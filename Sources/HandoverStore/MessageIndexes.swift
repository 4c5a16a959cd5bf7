/// Index changes both stores make in the same words.
public enum MessageIndexes {
    /// Tracking by local id (`GET /messageexchange/{mailbox}/outbox/tracking/{localID}`) asks for
    /// `sender = ? AND local_id = ?`, which both databases match to this partial index.
    public static let localIDPartial = """
        DROP INDEX messages_sender_local;
        CREATE INDEX messages_sender_local ON messages (sender, local_id) WHERE local_id IS NOT NULL
        """
}
