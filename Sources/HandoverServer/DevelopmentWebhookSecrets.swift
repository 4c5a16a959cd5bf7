import Foundation
import HandoverCore

/// On a development start (the generated PKI, the sample directory) webhook secrets whose variable is
/// unset are generated once into `<data>/webhook-secrets.env` (0600) and read from there, as the
/// shared key and admin token are, so `handover serve` needs no step. Anywhere else an unset secret
/// variable stops the start: a webhook is never posted unsigned.
public enum DevelopmentWebhookSecrets {
    public static func fill(
        environment: [String: String], directoryFolder: String, dataDirectory: String,
        notes: inout [String]
    ) throws -> [String: String] {
        guard let files = try? DirectoryFiles.load(folder: directoryFolder) else { return environment }
        let wanted = files.webhooks.compactMap { hook -> String? in
            if case .environment(let name)? = hook.secret { return name }
            return nil
        }
        let path = dataDirectory + "/webhook-secrets.env"
        var saved = read(path)
        var merged = environment
        var generated: [String] = []
        for name in wanted where (environment[name] ?? "").isEmpty {
            if saved[name] == nil {
                saved[name] = randomHex(bytes: 24)
                generated.append(name)
            }
            merged[name] = saved[name]
        }
        if !generated.isEmpty {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let text = saved.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)\n" }.joined()
            guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw ConfigurationError("cannot write webhook secrets to \(path)")
            }
            notes.append(
                "webhook secret(s) \(generated.joined(separator: ", ")) generated into \(path) (development only; set the variables in production)")
        }
        return merged
    }

    static func read(_ path: String) -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { values[String(parts[0])] = String(parts[1]) }
        }
        return values
    }
}
