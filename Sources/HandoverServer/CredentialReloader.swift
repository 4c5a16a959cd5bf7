import Foundation
import HandoverHTTP
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The server certificate chain and key in force, read again on SIGHUP so a renewed certificate
/// takes effect without a restart (new connections get it; open ones keep theirs). Handed to each
/// handshake through swift-nio-ssl's context callback.
public final class ServerCredentials: Sendable {
    struct Loaded: Sendable {
        let chain: [NIOSSLCertificateSource]
        let key: NIOSSLPrivateKeySource
    }
    let current: Mutex<Loaded>
    let certificatePath: String
    let keyPath: String

    init(certificatePath: String, keyPath: String) throws {
        (self.certificatePath, self.keyPath) = (certificatePath, keyPath)
        current = Mutex(try Self.load(certificatePath, keyPath))
    }

    static func load(_ certificatePath: String, _ keyPath: String) throws -> Loaded {
        let chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { NIOSSLCertificateSource.certificate($0) }
        let key = NIOSSLPrivateKeySource.privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem))
        return Loaded(chain: chain, key: key)
    }

    func reload() throws {
        let fresh = try Self.load(certificatePath, keyPath)
        current.withLock { $0 = fresh }
    }

    var contextCallback: NIOSSLContextCallback {
        { [self] _, promise in
            let loaded = current.withLock { $0 }
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = loaded.chain
            override.privateKey = loaded.key
            promise.succeed(override)
        }
    }
}

/// On SIGHUP: reads the server certificate and key and the receipt-signing key again. A file that no
/// longer loads is logged and the previous credentials stay in force.
struct CredentialReloader: Service, CustomStringConvertible {
    let server: ServerCredentials?
    let broker: MeshBroker
    let revocations: ClientRevocations
    let config: ServeConfiguration
    let logger: Logger

    var description: String { "CredentialReloader" }

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals {
                reload()
            }
        }
    }

    func reload() {
        do {
            try server?.reload()
            var notes: [String] = []
            broker.replaceReceiptSigner(try ReceiptKeys.load(config, notes: &notes))
            revocations.replace(try ClientCRL.load(config))
            logger.notice("SIGHUP: server certificate, receipt key and client CRL reloaded")
        } catch {
            logger.error(
                "SIGHUP: reload failed; the previous certificates stay in force",
                metadata: ["handover.error": "\(String(describing: error).prefix(200))"])
        }
    }
}
