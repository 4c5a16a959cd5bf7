import Foundation
import HandoverCore
import HandoverStore

/// The master key for secrets at rest: `HANDOVER_MASTER_KEY` (32 bytes, base64url), or a 0600 key
/// file in the data folder. A store keeps a check value sealed with the key that first used it, so a
/// wrong or missing key is one clear line at start, never a cryptography error at the first login.
/// A key is generated only for a new SQLite store: never on PostgreSQL (every replica would make its
/// own and refuse the others' rotated passwords), never on a store that already holds sealed secrets.
/// Losing the key makes rotated passwords unreadable (rotate them again); back it up apart from the
/// database, and give it to any copy of the store (`handover db copy`, a restore).
public enum MasterKey {
    static let checkSetting = "master_key_check"
    static let checkPlaintext = "handover master key check"

    public static func load(
        dataDirectory: String, environment: [String: String], store: any DirectoryStore, shared: Bool,
        notes: inout [String]
    ) async throws -> SecretBox {
        let path = dataDirectory + "/master.key"
        let box: SecretBox
        let origin: String
        if let text = environment["HANDOVER_MASTER_KEY"], !text.isEmpty {
            guard let bytes = SecretBox.decodeKey(text), bytes.count == 32 else {
                throw ConfigurationError(
                    "HANDOVER_MASTER_KEY must be 32 bytes in base64url (generate one: openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')")
            }
            (box, origin) = (try SecretBox(keyBytes: bytes), "HANDOVER_MASTER_KEY")
        } else if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            guard let bytes = SecretBox.decodeKey(text), bytes.count == 32 else { throw ConfigurationError("\(path) is not a master key") }
            (box, origin) = (try SecretBox(keyBytes: bytes), path)
        } else {
            if shared {
                throw ConfigurationError(
                    "set HANDOVER_MASTER_KEY: on PostgreSQL every instance must use the same master key, so none is generated "
                        + "(make one: openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')")
            }
            let recorded = try await store.setting(checkSetting)
            let sealed = try await store.mailboxPasswords()
            if recorded != nil || !sealed.isEmpty {
                throw ConfigurationError(
                    "this store holds secrets sealed with a master key, and neither HANDOVER_MASTER_KEY nor \(path) is set; "
                        + "set HANDOVER_MASTER_KEY to the key of the installation this store came from")
            }
            let bytes = SecretBox.generateKeyBytes()
            guard
                FileManager.default.createFile(
                    atPath: path, contents: Data((SecretBox.encodeKey(bytes) + "\n").utf8), attributes: [.posixPermissions: 0o600])
            else {
                throw ConfigurationError("cannot write \(path)")
            }
            notes.append("master key for secrets at rest generated: \(path) (mode 0600; back it up apart from the database)")
            (box, origin) = (try SecretBox(keyBytes: bytes), path)
        }
        try await check(box, origin: origin, store: store)
        return box
    }

    /// Records the key's check value on first use, or proves the key matches the one recorded.
    static func check(_ box: SecretBox, origin: String, store: any DirectoryStore) async throws {
        let mine = try box.seal(checkPlaintext, boundTo: checkSetting)
        let recorded = try await store.settingOnce(checkSetting, value: mine)
        guard (try? box.open(recorded, boundTo: checkSetting)) == checkPlaintext else {
            throw ConfigurationError(
                "this store was sealed with another master key (the key from \(origin) does not open it); "
                    + "set HANDOVER_MASTER_KEY to the key of the installation that first used this store")
        }
    }
}
