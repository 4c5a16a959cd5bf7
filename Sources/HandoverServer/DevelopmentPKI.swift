import Crypto
import Foundation
import HandoverCore
import SwiftASN1
import X509

/// A development PKI (contract §1): a CA, a server certificate for localhost, 127.0.0.1 and ::1, a
/// client certificate for every mailbox (CN = the mailbox id), an admin client certificate and the
/// broker's receipt-signing certificate. ECDSA P-256, generated on the machine that runs the broker
/// and never committed. For real certificates, see Certs/README.md.
public struct DevelopmentPKI {
    public let folder: URL

    public init(folder: String) { self.folder = URL(fileURLWithPath: folder) }

    var caCertificateURL: URL { folder.appendingPathComponent("ca.pem") }
    var caKeyURL: URL { folder.appendingPathComponent("ca.key") }
    public var clientsFolder: URL { folder.appendingPathComponent("clients") }

    public var exists: Bool { FileManager.default.fileExists(atPath: caCertificateURL.path) }

    /// Creates the CA, server, admin and receipt certificates and one client certificate per mailbox.
    /// Returns the files written.
    @discardableResult
    public func initialise(mailboxes: [MailboxID], now: Date = Date()) throws -> [String] {
        try FileManager.default.createDirectory(at: clientsFolder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName {
            OrganizationName("Handover development")
            CommonName("Handover development CA")
        }
        let ca = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(caKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(5 * 365 * 86_400),
            issuer: caName, subject: caName, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(caKey))
        var written = [try write(ca, key: caKey, named: "ca", in: folder)]
        written.append(
            try issue(
                commonName: "localhost", dnsNames: ["localhost"], ipAddresses: [[127, 0, 0, 1], Array(repeating: 0, count: 15) + [1]],
                serverAuth: true, named: "server", in: folder, ca: (ca, caKey), now: now))
        written.append(try issue(commonName: "handover-receipts", named: "receipts", in: folder, ca: (ca, caKey), now: now, signing: true))
        written.append(try issue(commonName: "handover-admin", named: "admin", in: clientsFolder, ca: (ca, caKey), now: now))
        for mailbox in mailboxes {
            written.append(
                try issue(
                    commonName: mailbox.rawValue, dnsNames: [mailbox.rawValue], named: mailbox.rawValue, in: clientsFolder, ca: (ca, caKey), now: now)
            )
        }
        return written
    }

    /// Adds (or replaces) a client certificate for one mailbox, signed by the existing CA.
    @discardableResult
    public func issueClient(_ name: String, validFor days: Double = 825, now: Date = Date()) throws -> String {
        // The name becomes a file name and a certificate name: only a mailbox id or organisation code
        // (letters, digits, '-' and '_'), so `../../x` cannot write outside clients/.
        guard (1...100).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw ConfigurationError("\"\(name.prefix(60))\" is not a mailbox id or organisation code (letters, digits, - and _ only)")
        }
        let ca = try loadCA()
        return try issue(commonName: name, dnsNames: [name], named: name, in: clientsFolder, ca: ca, now: now, validDays: days)
    }

    /// A new receipt-signing key and certificate. The previous pair is kept as
    /// `receipts-<date>.pem/.key`: receipts already issued carry their signing certificate and still
    /// verify against the CA. Restart the broker (or send SIGHUP) to sign with the new key.
    @discardableResult
    public func rotateReceipts(now: Date = Date()) throws -> (certificate: String, previous: String?) {
        let ca = try loadCA()
        let current = folder.appendingPathComponent("receipts.pem")
        var previous: String?
        if FileManager.default.fileExists(atPath: current.path) {
            let stamp = ISO8601DateFormatter.string(
                from: now, timeZone: TimeZone(identifier: "UTC") ?? .current,
                formatOptions: [.withYear, .withMonth, .withDay, .withTime]
            ).replacingOccurrences(of: ":", with: "")
            let oldCertificate = folder.appendingPathComponent("receipts-\(stamp).pem")
            try FileManager.default.moveItem(at: current, to: oldCertificate)
            try? FileManager.default.moveItem(
                at: folder.appendingPathComponent("receipts.key"), to: folder.appendingPathComponent("receipts-\(stamp).key"))
            previous = oldCertificate.path
        }
        let written = try issue(commonName: "handover-receipts", named: "receipts", in: folder, ca: ca, now: now, signing: true)
        return (written, previous)
    }

    /// The CA, for tests that issue unusual certificates (expired, other names).
    public func loadCAForTests() throws -> (Certificate, P256.Signing.PrivateKey) { try loadCA() }

    func loadCA() throws -> (Certificate, P256.Signing.PrivateKey) {
        let cert = try Certificate(pemEncoded: try String(contentsOf: caCertificateURL, encoding: .utf8))
        let key = try P256.Signing.PrivateKey(pemRepresentation: try String(contentsOf: caKeyURL, encoding: .utf8))
        return (cert, key)
    }

    /// A leaf certificate signed by `ca`; `validDays` may be negative for an already-expired one (tests).
    @discardableResult
    public func issue(
        commonName: String, dnsNames: [String] = [], ipAddresses: [[UInt8]] = [], serverAuth: Bool = false, named: String,
        in directory: URL, ca: (Certificate, P256.Signing.PrivateKey), now: Date, validDays: Double = 825, signing: Bool = false
    ) throws -> String {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("Handover development")
            CommonName(commonName)
        }
        let names: [GeneralName] = dnsNames.map { .dnsName($0) } + ipAddresses.map { .ipAddress(ASN1OctetString(contentBytes: ArraySlice($0))) }
        let usages: [ExtendedKeyUsage.Usage] = signing ? [.emailProtection] : (serverAuth ? [.serverAuth] : [.clientAuth])
        let (notBefore, notAfter) =
            validDays >= 0
            ? (now.addingTimeInterval(-3600), now.addingTimeInterval(validDays * 86_400))
            : (now.addingTimeInterval(validDays * 86_400 * 2), now.addingTimeInterval(validDays * 86_400))
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: notBefore, notValidAfter: notAfter, issuer: ca.0.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, nonRepudiation: signing))
                try ExtendedKeyUsage(usages)
                if !names.isEmpty { SubjectAlternativeNames(names) }
            },
            issuerPrivateKey: .init(ca.1))
        return try write(certificate, key: key, named: named, in: directory)
    }

    func write(_ certificate: Certificate, key: P256.Signing.PrivateKey, named name: String, in directory: URL) throws -> String {
        let certURL = directory.appendingPathComponent("\(name).pem"), keyURL = directory.appendingPathComponent("\(name).key")
        try certificate.serializeAsPEM().pemString.appending("\n").write(to: certURL, atomically: true, encoding: .utf8)
        guard
            FileManager.default.createFile(
                atPath: keyURL.path, contents: Data((key.pemRepresentation + "\n").utf8), attributes: [.posixPermissions: 0o600])
        else {
            throw ConfigurationError("cannot write \(keyURL.path)")
        }
        return certURL.path
    }
}
