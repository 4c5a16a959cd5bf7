import Foundation
import HandoverCore
import HandoverStore

/// On a store with no admin token, creates one and writes it to a 0600 file in the data folder, so a
/// first start needs no other step; only its hash is stored. Once per store, not once per replica:
/// instances starting together on one PostgreSQL database race for a store setting, and only the
/// winner creates the token.
public enum FirstAdminToken {
    public static func ensure(store: any DirectoryStore, folder: String) async throws -> [String] {
        let path = folder + "/admin-token"
        guard try await store.adminTokenCount() == 0 else {
            return FileManager.default.fileExists(atPath: path) ? ["admin token: \(path)"] : []
        }
        let claim = randomHex(bytes: 16)
        guard try await store.settingOnce("first_admin_token", value: claim) == claim else {
            return ["the first admin token was created by another instance (see its data folder), or create one: handover admin token create"]
        }
        let token = AdminTokenFormat.generate()
        guard FileManager.default.createFile(atPath: path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError("cannot write \(path)")
        }
        try await store.createAdminToken(
            name: "first-start", role: .admin, tokenHash: AdminTokenFormat.hash(token), expiresAt: nil, now: SystemClock.now())
        return ["admin token created: \(path) (Authorization: Bearer <token>; more with `handover admin token create`)"]
    }
}
