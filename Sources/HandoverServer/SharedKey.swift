import Foundation
import HandoverCore

/// The MESH environment's shared HMAC key: `--shared-key`, else `TestKey` in sandbox mode (as NHS's
/// sandbox), else a random key generated once into the data folder (0600) so a first start needs no step.
enum SharedKey {
    static func resolve(config: ServeConfiguration, environment: [String: String], notes: inout [String]) throws -> String {
        if let key = config.sharedKey, !key.isEmpty { return key }
        if config.sandbox { return "TestKey" }
        let path = config.dataDirectory + "/shared-key"
        if let existing = try? String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !existing.isEmpty {
            notes.append("MESH shared key: read from \(path)")
            return existing
        }
        let key = randomHex(bytes: 24)
        guard FileManager.default.createFile(atPath: path, contents: Data((key + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ConfigurationError("cannot write the shared key to \(path)")
        }
        notes.append("MESH shared key: generated into \(path) (give it to clients as their shared key)")
        return key
    }
}
