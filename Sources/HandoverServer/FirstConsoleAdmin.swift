import Foundation
import HandoverConsole
import HandoverCore
import HandoverStore

/// On a store with no console user, creates a local admin and writes how to sign in (email,
/// one-time password, TOTP URI) to a 0600 file in the data folder. Once per store, not per replica:
/// instances starting together race for a store setting and only the winner creates the account.
public enum FirstConsoleAdmin {
    public static func ensure(store: any BrokerStore, secrets: SecretBox, email: String, folder: String, now: Timestamp) async throws -> [String] {
        let path = folder + "/console-admin"
        guard try await store.consoleUsers().isEmpty else {
            return FileManager.default.fileExists(atPath: path) ? ["console admin sign-in: \(path)"] : []
        }
        let claim = randomHex(bytes: 16)
        guard try await store.settingOnce("first_console_admin", value: claim) == claim else { return [] }
        let created = try await ConsoleAccounts.create(
            ConsoleUser(email: email, name: "Console admin", roles: [.admin]), store: store, secrets: secrets, actor: "first-start", now: now)
        let text = """
            # The console's first admin. Add the TOTP secret to an authenticator app (most read the URI as a
            # QR code: qrencode -t ansiutf8 < this line), sign in, choose a new password, then delete this file.
            email: \(created.user.email)
            one-time password: \(created.oneTimePassword)
            totp: \(created.totpURI)

            """
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError("cannot write \(path)")
        }
        return ["console admin created: \(path) (sign in with the email, one-time password and TOTP secret it holds)"]
    }
}
