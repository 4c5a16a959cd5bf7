/// Index changes both stores make in the same words.
public enum MessageIndexes {
    /// Tracking by local id (`GET /messageexchange/{mailbox}/outbox/tracking/{localID}`) asks for
    /// `sender = ? AND local_id = ?`, which both databases match to this partial index.
    public static let localIDPartial = """
        DROP INDEX messages_sender_local;
        CREATE INDEX messages_sender_local ON messages (sender, local_id) WHERE local_id IS NOT NULL
        """

    /// Payloads are purged some time after delivery (`delivered_at < ?`, which both databases
    /// take to imply `IS NOT NULL`), so an undelivered message needs no entry: one B-tree insert
    /// fewer per send, and a delivery adds its entry instead of moving one. `notPurged` is the
    /// dialect's "payload_purged is false".
    public static func purgeDelivered(notPurged: String) -> String {
        """
        DROP INDEX messages_purge;
        CREATE INDEX messages_purge ON messages (delivered_at) WHERE \(notPurged) AND delivered_at IS NOT NULL
        """
    }
}
