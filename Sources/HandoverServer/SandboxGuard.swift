import HandoverStore

/// Keeps sandbox mode (literal passwords, open lookups, `DELETE /admin/reset`) away from production:
/// it listens on loopback only, and never on a store that a production broker has used, unless
/// `--force-sandbox` says so. Each store records the mode of the first broker that opened it.
enum SandboxGuard {
    static func checkListener(_ config: ServeConfiguration) throws {
        guard config.sandbox, !config.forceSandbox, !isLoopback(config.host) else { return }
        throw ConfigurationError(
            "--sandbox listens on loopback only (127.0.0.1, ::1, localhost), not \(config.host); "
                + "sandbox mode opens the reset endpoints without a token (override with --force-sandbox)")
    }

    static func checkStore(_ store: any DirectoryStore, config: ServeConfiguration) async throws {
        let mode = try await store.settingOnce("mode", value: config.sandbox ? "sandbox" : "production")
        guard config.sandbox, mode != "sandbox", !config.forceSandbox else { return }
        throw ConfigurationError(
            "--sandbox refused: this store was first used by a production broker, and sandbox mode "
                + "would let anyone reset its mailboxes (use a new --database, or override with --force-sandbox)")
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }
}
