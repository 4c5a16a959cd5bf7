import Foundation
import NIOSSL

/// Checks what a configuration names on disk before anything starts, so a mistake is one line naming
/// the setting and the fix, never a broker that starts without a directory, creates an empty store in
/// the wrong place, or fails after announcing that it listens.
public enum ConfigurationCheck {
    public static func files(_ config: ServeConfiguration) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: config.routes) else {
            throw ConfigurationError(
                "--routes: \(config.routes) does not exist (the routing directory: a folder of YAML files, or one file; see Routes/README.md)")
        }
        if let path = config.sqlitePath, !config.usesDefaultDataDirectory {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
                throw ConfigurationError(
                    "--database: the folder \(folder) does not exist; create it first (a new store would otherwise be made somewhere unexpected)")
            }
        }
        if config.receiptFilesExplicit {
            for (option, path) in [("--receipt-cert", config.receiptCertificate), ("--receipt-key", config.receiptKey)]
            where !FileManager.default.fileExists(atPath: path) {
                throw ConfigurationError("\(option): \(path) does not exist")
            }
        }
        if config.console, config.tls != .off, let certificate = config.consoleCertificate, let key = config.consoleKey {
            guard (try? NIOSSLCertificate.fromPEMFile(certificate)) != nil else {
                throw ConfigurationError("--console-cert: cannot load a PEM certificate chain from \(certificate)")
            }
            guard (try? NIOSSLPrivateKey(file: key, format: .pem)) != nil else {
                throw ConfigurationError("--console-key: cannot load a PEM private key from \(key)")
            }
        }
        guard config.tls != .off, !(config.usesDevelopmentPKI && !FileManager.default.fileExists(atPath: config.certificate)) else { return }
        // The development PKI is generated on first start; anything else must load now.
        do {
            _ = try NIOSSLCertificate.fromPEMFile(config.certificate)
        } catch {
            throw ConfigurationError("--cert: cannot load a PEM certificate chain from \(config.certificate)")
        }
        do {
            _ = try NIOSSLPrivateKey(file: config.privateKey, format: .pem)
        } catch {
            throw ConfigurationError("--key: cannot load a PEM private key from \(config.privateKey)")
        }
        if config.tls == .mutual {
            do {
                _ = try NIOSSLCertificate.fromPEMFile(config.clientCA)
            } catch {
                throw ConfigurationError("--client-ca: cannot load the client CA certificate from \(config.clientCA)")
            }
        }
    }
}
