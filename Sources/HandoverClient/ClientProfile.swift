import Foundation
import Yams

/// Where `handover client` connects and as whom. Profiles live in a YAML file (`--config`, else
/// `HANDOVER_CLIENT_CONFIG`, else `~/.config/handover/client.yaml`); secrets never do: a profile
/// names the environment variable or the file that holds the password and the shared key.
///
///     profiles:
///       carehome:
///         url: https://localhost:8443
///         mailbox: CAREHOME1
///         password_env: CAREHOME1_PASSWORD      # or password_file: /run/secrets/carehome1
///         shared_key_env: HANDOVER_SHARED_KEY   # or shared_key_file
///         certificate: Certs/dev/clients/CAREHOME1.pem
///         key: Certs/dev/clients/CAREHOME1.key
///         ca: Certs/dev/ca.pem
public struct ClientProfile: Codable, Sendable, Equatable {
    public var url: String
    public var mailbox: String
    public var password_env: String?
    public var password_file: String?
    public var shared_key_env: String?
    public var shared_key_file: String?
    public var certificate: String?
    public var key: String?
    public var ca: String?
    /// Bytes per chunk when sending (MESH takes up to 100 MB a request; default 20 MiB).
    public var chunk_size: Int?

    public init(
        url: String, mailbox: String, password_env: String? = nil, password_file: String? = nil, shared_key_env: String? = nil,
        shared_key_file: String? = nil, certificate: String? = nil, key: String? = nil, ca: String? = nil, chunk_size: Int? = nil
    ) {
        (self.url, self.mailbox, self.password_env, self.password_file) = (url, mailbox, password_env, password_file)
        (self.shared_key_env, self.shared_key_file, self.certificate, self.key, self.ca, self.chunk_size) =
            (shared_key_env, shared_key_file, certificate, key, ca, chunk_size)
    }

    /// The password and shared key, read now from where the profile says.
    public func secrets(environment: [String: String]) throws -> (password: String, sharedKey: String) {
        func read(_ variable: String?, _ file: String?, what: String) throws -> String {
            if let variable {
                guard let value = environment[variable], !value.isEmpty else { throw ClientError("\(what): \(variable) is not set") }
                return value
            }
            if let file {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ClientError("\(what): cannot read \(file)") }
                return text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            throw ClientError("\(what): the profile names neither an environment variable nor a file")
        }
        return (try read(password_env, password_file, what: "password"), try read(shared_key_env, shared_key_file, what: "shared key"))
    }
}

public struct ClientProfiles: Codable, Sendable {
    public var profiles: [String: ClientProfile]

    /// The profile file: `--config`, else `HANDOVER_CLIENT_CONFIG`, else `~/.config/handover/client.yaml`.
    public static func path(explicit: String?, environment: [String: String]) -> String {
        explicit ?? environment["HANDOVER_CLIENT_CONFIG"]
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.config/handover/client.yaml")
    }

    /// The named profile, or the only one when no name is given. Unknown keys are refused by name.
    public static func load(path: String, name: String?) throws -> ClientProfile {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ClientError("cannot read the profile file \(path) (see `handover client --help` for its layout)")
        }
        guard text.utf8.count <= 1 << 20 else { throw ClientError("\(path) is larger than 1 MiB") }
        let file: ClientProfiles
        do {
            file = try YAMLDecoder().decode(ClientProfiles.self, from: text)
        } catch {
            throw ClientError("\(path) is not a profile file: \(error)")
        }
        let allowed: Set<String> = [
            "url", "mailbox", "password_env", "password_file", "shared_key_env", "shared_key_file", "certificate", "key",
            "ca", "chunk_size",
        ]
        if let tree = try Yams.load(yaml: text) as? [String: Any], let profiles = tree["profiles"] as? [String: Any] {
            for (profileName, entry) in profiles {
                for key in (entry as? [String: Any] ?? [:]).keys where !allowed.contains(key) {
                    throw ClientError(
                        "\(path): profile \(profileName) has an unknown key \(key) (known: \(allowed.sorted().joined(separator: ", ")))")
                }
            }
        }
        if let name {
            guard let profile = file.profiles[name] else {
                throw ClientError("\(path) has no profile \(name) (it has: \(file.profiles.keys.sorted().joined(separator: ", ")))")
            }
            return profile
        }
        guard file.profiles.count == 1, let only = file.profiles.values.first else {
            throw ClientError("\(path) has \(file.profiles.count) profiles: choose one with --profile")
        }
        return only
    }
}

public struct ClientError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
