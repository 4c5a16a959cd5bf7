import AsyncHTTPClient
import Crypto
import Foundation
import HandoverCore
import NIOCore
import NIOHTTP1
import Synchronization
import _CryptoExtras

/// How the console signs people in with OpenID Connect (a CIS2-like or Entra-like provider).
public struct OIDCConfiguration: Sendable {
    public var issuer: String
    public var clientID: String
    /// `client_secret_basic`, or, with `clientKeyPEM`, `private_key_jwt` (as NHS CIS2 uses).
    public var clientSecret: String?
    public var clientKeyPEM: String?
    /// Claims that carry the person's Handover roles, organisations (ODS codes) and mailboxes, read
    /// from the ID token and then UserInfo.
    public var rolesClaim = "handover_roles"
    public var organisationsClaim = "handover_organisations"
    public var mailboxesClaim = "handover_mailboxes"
    public var scope = "openid email profile"

    public init(issuer: String, clientID: String, clientSecret: String? = nil, clientKeyPEM: String? = nil) {
        (self.issuer, self.clientID, self.clientSecret, self.clientKeyPEM) = (issuer, clientID, clientSecret, clientKeyPEM)
    }

    /// Why this configuration cannot work, or nil. Plain HTTP only for an issuer on loopback (tests).
    public var problem: String? {
        guard let url = URL(string: issuer), let host = url.host, let scheme = url.scheme else { return "--oidc-issuer must be an https URL" }
        if scheme != "https" && !(scheme == "http" && ["127.0.0.1", "localhost", "::1"].contains(host)) {
            return "--oidc-issuer must be https (plain http only on loopback, for tests)"
        }
        if clientID.isEmpty { return "--oidc-client-id is required with --oidc-issuer" }
        if (clientSecret == nil) == (clientKeyPEM == nil) { return "give exactly one of --oidc-client-secret and --oidc-client-key" }
        if let pem = clientKeyPEM, (try? _RSA.Signing.PrivateKey(pemRepresentation: pem)) == nil {
            return "--oidc-client-key is not an RSA private key (PEM)"
        }
        return nil
    }
}

/// The provider's endpoints and keys, fetched on first use and kept; the keys are fetched again
/// when a token names one not seen (the provider rotated), at most once a minute.
final class OIDCProvider: Sendable {
    struct Endpoints: Sendable {
        var authorization: String
        var token: String
        var jwks: String
        var userInfo: String?
    }

    let configuration: OIDCConfiguration
    private let cache = Mutex<(endpoints: Endpoints?, keys: JSONWebKeySet?, keysFetchedAt: Timestamp?)>((nil, nil, nil))

    init(_ configuration: OIDCConfiguration) { self.configuration = configuration }

    var verifier: IDTokenVerifier { IDTokenVerifier(issuer: configuration.issuer, clientID: configuration.clientID) }

    func endpoints() async throws -> Endpoints {
        if let known = cache.withLock({ $0.endpoints }) { return known }
        let base = configuration.issuer.hasSuffix("/") ? String(configuration.issuer.dropLast()) : configuration.issuer
        let document = try await fetchJSON(base + "/.well-known/openid-configuration")
        guard document["issuer"]?.string == configuration.issuer, let authorization = document["authorization_endpoint"]?.string,
            let token = document["token_endpoint"]?.string, let jwks = document["jwks_uri"]?.string
        else { throw OIDCFailure.provider("its discovery document does not name this issuer and its endpoints") }
        let endpoints = Endpoints(authorization: authorization, token: token, jwks: jwks, userInfo: document["userinfo_endpoint"]?.string)
        cache.withLock { $0.endpoints = endpoints }
        return endpoints
    }

    func keys(refresh: Bool, now: Timestamp) async throws -> JSONWebKeySet {
        let cached = cache.withLock { $0 }
        if let keys = cached.keys, !refresh || (cached.keysFetchedAt.map { now < $0.adding(seconds: 60) } ?? false) { return keys }
        let keys = try JSONWebKeySet(json: try await fetch(try await endpoints().jwks, request: nil))
        cache.withLock {
            $0.keys = keys
            $0.keysFetchedAt = now
        }
        return keys
    }

    /// Verifies an ID token, fetching the keys again once if it names a key not yet seen.
    func verify(_ idToken: String, nonce: String, now: Timestamp) async throws -> [String: JSONValue] {
        do {
            return try verifier.verify(idToken, keys: try await keys(refresh: false, now: now), nonce: nonce, now: now)
        } catch IDTokenVerifier.Failure.unknownKey {
            return try verifier.verify(idToken, keys: try await keys(refresh: true, now: now), nonce: nonce, now: now)
        }
    }

    /// The authorization code for tokens: the ID token and the access token (for UserInfo).
    func exchange(code: String, verifier: String, redirectURI: String, now: Timestamp) async throws -> (idToken: String, accessToken: String?) {
        let endpoints = try await endpoints()
        var form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI), ("code_verifier", verifier)]
        var request = HTTPClientRequest(url: endpoints.token)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        if let secret = configuration.clientSecret {
            let pair = Self.formEncode(configuration.clientID) + ":" + Self.formEncode(secret)
            request.headers.add(name: "Authorization", value: "Basic " + Data(pair.utf8).base64EncodedString())
        } else if let pem = configuration.clientKeyPEM {
            form += [
                ("client_id", configuration.clientID),
                ("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                ("client_assertion", try ClientAssertion.make(clientID: configuration.clientID, audience: endpoints.token, keyPEM: pem, now: now)),
            ]
        }
        request.body = .bytes(ByteBuffer(string: form.map { Self.formEncode($0.0) + "=" + Self.formEncode($0.1) }.joined(separator: "&")))
        let tokens = try JSONValue.parse(try await fetch(endpoints.token, request: request))
        guard let idToken = tokens["id_token"]?.string else { throw OIDCFailure.provider("its token response has no ID token") }
        return (idToken, tokens["access_token"]?.string)
    }

    func userInfo(accessToken: String) async throws -> JSONValue? {
        guard let url = try await endpoints().userInfo else { return nil }
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Authorization", value: "Bearer " + accessToken)
        request.headers.add(name: "Accept", value: "application/json")
        return try JSONValue.parse(try await fetch(url, request: request))
    }

    func fetchJSON(_ url: String) async throws -> JSONValue { try JSONValue.parse(try await fetch(url, request: nil)) }

    /// One bounded request: 10 seconds, a megabyte, a 2xx status, or an error that names only the step.
    func fetch(_ url: String, request: HTTPClientRequest?) async throws -> [UInt8] {
        let response = try await HTTPClient.shared.execute(request ?? HTTPClientRequest(url: url), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard (200..<300).contains(response.status.code) else { throw OIDCFailure.provider("it answered \(response.status.code)") }
        return Array(body.readableBytesView)
    }

    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}

enum OIDCFailure: Error, CustomStringConvertible {
    case provider(String)
    var description: String {
        switch self {
        case .provider(let what): "the identity provider could not be used: \(what)"
        }
    }
}

/// `private_key_jwt` client authentication (RFC 7523): a short-lived JWT signed with the client's key.
enum ClientAssertion {
    static func make(clientID: String, audience: String, keyPEM: String, now: Timestamp) throws -> String {
        let key = try _RSA.Signing.PrivateKey(pemRepresentation: keyPEM)
        let seconds = now.microsecondsSinceEpoch / 1_000_000
        let header = JSONValue.object([("alg", .string("RS256")), ("typ", .string("JWT"))])
        let claims = JSONValue.object([
            ("iss", .string(clientID)), ("sub", .string(clientID)), ("aud", .string(audience)), ("jti", .string(randomHex(bytes: 16))),
            ("iat", .int(seconds)), ("exp", .int(seconds + 120)),
        ])
        let signingInput = base64URLEncode(Array(header.serialized.utf8)) + "." + base64URLEncode(Array(claims.serialized.utf8))
        let signature = try key.signature(for: SHA256.hash(data: Array(signingInput.utf8)), padding: .insecurePKCS1v1_5)
        return signingInput + "." + base64URLEncode(Array(signature.rawRepresentation))
    }
}
