import Foundation
import HandoverCore

/// The master key for secrets at rest: `HANDOVER_MASTER_KEY` (32 bytes, base64url), or a 0600 key
/// file in the data folder created on first start. Losing it makes rotated passwords unreadable
/// (rotate them again); back it up apart from the database.
public enum MasterKey {
    public static func load(dataDirectory: String, environment: [String: String], notes: inout [String]) throws -> SecretBox {
        if let text = environment["HANDOVER_MASTER_KEY"], !text.isEmpty {
            guard let bytes = SecretBox.decodeKey(text), bytes.count == 32 else {
                throw ConfigurationError("HANDOVER_MASTER_KEY must be 32 bytes in base64url (generate one: openssl rand -base64 32 | tr '+/' '-_' | tr -d '=')")
            }
            return try SecretBox(keyBytes: bytes)
        }
        let path = dataDirectory + "/master.key"
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            guard let bytes = SecretBox.decodeKey(text), bytes.count == 32 else { throw ConfigurationError("\(path) is not a master key") }
            return try SecretBox(keyBytes: bytes)
        }
        let bytes = SecretBox.generateKeyBytes()
        guard FileManager.default.createFile(atPath: path, contents: Data((SecretBox.encodeKey(bytes) + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError("cannot write \(path)")
        }
        notes.append("master key for secrets at rest generated: \(path) (mode 0600; back it up apart from the database)")
        return try SecretBox(keyBytes: bytes)
    }
}
