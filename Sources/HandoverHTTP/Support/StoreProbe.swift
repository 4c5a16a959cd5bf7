import HandoverStore

/// Whether the store answers a trivial read within a deadline: the readiness check, and the
/// watcher that logs the database going and coming back.
public enum StoreProbe {
    public static func answers(_ store: any BrokerStore, within deadline: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await store.setting("mode")) != nil }
            group.addTask {
                try? await Task.sleep(for: deadline)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
