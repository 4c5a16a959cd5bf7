import Crypto
import Foundation
import HandoverCore
import _CryptoExtras

/// Checks an OpenID Connect ID token (a JWS) the way a relying party must: RS256 only (never `none`
/// or a MAC the attacker could compute), a key from the issuer's JWKS by `kid`, the issuer, this
/// client among the audiences, not expired, not issued in the future, and the nonce this sign-in
/// sent. No I/O: the keys and `now` are parameters.
public struct IDTokenVerifier: Sendable {
    public var issuer: String
    public var clientID: String
    /// Clock difference tolerated between the provider and this server.
    public var leewaySeconds: Int64 = 60

    public init(issuer: String, clientID: String) { (self.issuer, self.clientID) = (issuer, clientID) }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case malformed, unsupportedAlgorithm(String), unknownKey, badSignature, wrongIssuer, wrongAudience, expired, notYetValid, wrongNonce

        public var description: String {
            switch self {
            case .malformed: "the ID token is not a well-formed JWS"
            case .unsupportedAlgorithm(let alg): "the ID token is signed with \(alg.prefix(20)), not RS256"
            case .unknownKey: "the ID token's key is not in the provider's JWKS"
            case .badSignature: "the ID token's signature does not verify"
            case .wrongIssuer: "the ID token is from another issuer"
            case .wrongAudience: "the ID token is for another client"
            case .expired: "the ID token has expired"
            case .notYetValid: "the ID token is dated in the future"
            case .wrongNonce: "the ID token does not carry this sign-in's nonce"
            }
        }
    }

    /// The token's claims once every check has passed.
    public func verify(_ token: String, keys: JSONWebKeySet, nonce: String, now: Timestamp) throws -> [String: JSONValue] {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = base64URLDecode(String(parts[0])), let payloadBytes = base64URLDecode(String(parts[1])),
            let signature = base64URLDecode(String(parts[2])),
            case .object(let headerPairs) = try? JSONValue.parse(headerBytes), case .object(let claimPairs) = try? JSONValue.parse(payloadBytes)
        else { throw Failure.malformed }
        let header = Dictionary(headerPairs, uniquingKeysWith: { a, _ in a })
        let claims = Dictionary(claimPairs, uniquingKeysWith: { a, _ in a })
        guard case .string(let alg) = header["alg"] ?? .null, alg == "RS256" else {
            if case .string(let alg) = header["alg"] ?? .null { throw Failure.unsupportedAlgorithm(alg) }
            throw Failure.malformed
        }
        let kid: String? = if case .string(let k) = header["kid"] ?? .null { k } else { nil }
        guard let key = keys.key(id: kid) else { throw Failure.unknownKey }
        let signed = Array(token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count))
        guard
            key.isValidSignature(_RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: signed), padding: .insecurePKCS1v1_5)
        else { throw Failure.badSignature }
        guard case .string(issuer) = claims["iss"] ?? .null else { throw Failure.wrongIssuer }
        switch claims["aud"] ?? .null {
        case .string(let aud) where aud == clientID: break
        case .array(let auds) where auds.contains(.string(clientID)): break
        default: throw Failure.wrongAudience
        }
        let seconds = now.microsecondsSinceEpoch / 1_000_000
        guard let exp = claims["exp"]?.integer, exp + leewaySeconds > seconds else { throw Failure.expired }
        if let iat = claims["iat"]?.integer, iat > seconds + leewaySeconds { throw Failure.notYetValid }
        guard case .string(let tokenNonce) = claims["nonce"] ?? .null, tokenNonce == nonce else { throw Failure.wrongNonce }
        return claims
    }
}

/// An issuer's signing keys (`jwks_uri`), RSA only.
public struct JSONWebKeySet: Sendable {
    let keys: [(id: String?, key: _RSA.Signing.PublicKey)]

    public init(json: [UInt8]) throws {
        guard case .object(let top) = try JSONValue.parse(json), case .array(let list)? = top.first(where: { $0.0 == "keys" })?.1 else {
            throw IDTokenVerifier.Failure.malformed
        }
        var keys: [(String?, _RSA.Signing.PublicKey)] = []
        for case .object(let pairs) in list {
            let fields = Dictionary(pairs, uniquingKeysWith: { a, _ in a })
            guard case .string("RSA") = fields["kty"] ?? .null, case .string(let n) = fields["n"] ?? .null,
                case .string(let e) = fields["e"] ?? .null,
                let nBytes = base64URLDecode(n), let eBytes = base64URLDecode(e), let key = try? _RSA.Signing.PublicKey(n: nBytes, e: eBytes)
            else { continue }
            let kid: String? = if case .string(let k) = fields["kid"] ?? .null { k } else { nil }
            keys.append((kid, key))
        }
        self.keys = keys
    }

    init(keys: [(id: String?, key: _RSA.Signing.PublicKey)]) { self.keys = keys }

    /// The key named `id`, or the only key when the token names none.
    func key(id: String?) -> _RSA.Signing.PublicKey? {
        if let id { return keys.first { $0.id == id }?.key }
        return keys.count == 1 ? keys[0].key : nil
    }
}
