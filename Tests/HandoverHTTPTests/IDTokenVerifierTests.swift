import Crypto
import HandoverCore
import Testing
import _CryptoExtras

@testable import HandoverConsole

/// An ID token is accepted only when everything a relying party must check holds; each case below
/// changes one thing and must be refused for that reason.
@Suite("OpenID Connect: ID token checks")
struct IDTokenVerifierTests {
    static let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    static let otherKey = try! _RSA.Signing.PrivateKey(keySize: .bits2048)
    let now = Timestamp(secondsSinceEpoch: 1_800_000_000)
    let verifier = IDTokenVerifier(issuer: "https://idp.example.org", clientID: "handover-console")
    var keys: JSONWebKeySet { JSONWebKeySet(keys: [("k1", Self.key.publicKey)]) }

    func claims(_ changes: [String: JSONValue] = [:]) -> [(String, JSONValue)] {
        var c: [(String, JSONValue)] = [
            ("iss", .string("https://idp.example.org")), ("aud", .string("handover-console")), ("sub", .string("alex")),
            ("exp", .int(1_800_000_300)), ("iat", .int(1_800_000_000)), ("nonce", .string("n-1")),
        ]
        for (k, v) in changes {
            c.removeAll { $0.0 == k }
            if v != .null { c.append((k, v)) }
        }
        return c
    }

    func token(_ claims: [(String, JSONValue)], alg: String = "RS256", kid: String = "k1", key: _RSA.Signing.PrivateKey = key) throws -> String {
        let header = JSONValue.object([("alg", .string(alg)), ("kid", .string(kid))])
        let input = base64URLEncode(Array(header.serialized.utf8)) + "." + base64URLEncode(Array(JSONValue.object(claims).serialized.utf8))
        let signature = try key.signature(for: SHA256.hash(data: Array(input.utf8)), padding: .insecurePKCS1v1_5)
        return input + "." + base64URLEncode(Array(signature.rawRepresentation))
    }

    @Test func aGoodTokenGivesItsClaims() throws {
        let accepted = try verifier.verify(try token(claims()), keys: keys, nonce: "n-1", now: now)
        #expect(accepted["sub"] == .string("alex"))
        let listed = try verifier.verify(
            try token(claims(["aud": .array([.string("other"), .string("handover-console")])])), keys: keys, nonce: "n-1", now: now)
        #expect(listed["sub"] == .string("alex"))
    }

    @Test func eachBrokenRuleIsRefused() throws {
        let cases: [(String, IDTokenVerifier.Failure)] = [
            (try token(claims(), key: Self.otherKey), .badSignature),
            (try token(claims(), kid: "unknown"), .unknownKey),
            (try token(claims(), alg: "HS256"), .unsupportedAlgorithm("HS256")),
            (try token(claims(["iss": .string("https://evil.example.org")])), .wrongIssuer),
            (try token(claims(["aud": .string("another-client")])), .wrongAudience),
            (try token(claims(["exp": .int(1_800_000_000 - 120)])), .expired),
            (try token(claims(["iat": .int(1_800_000_000 + 600)])), .notYetValid),
            (try token(claims(["nonce": .string("n-2")])), .wrongNonce),
            (try token(claims(["nonce": .null])), .wrongNonce),
            ("not.a-token", .malformed),
        ]
        for (token, failure) in cases {
            #expect(throws: failure) { try verifier.verify(token, keys: keys, nonce: "n-1", now: now) }
        }
        // alg "none" with the signature stripped.
        let parts = try token(claims()).split(separator: ".")
        let unsigned = base64URLEncode(Array(#"{"alg":"none"}"#.utf8)) + "." + parts[1] + "."
        #expect(throws: IDTokenVerifier.Failure.unsupportedAlgorithm("none")) { try verifier.verify(unsigned, keys: keys, nonce: "n-1", now: now) }
    }

    @Test func aClientAssertionIsSignedWithTheClientsKey() throws {
        let assertion = try ClientAssertion.make(
            clientID: "handover-console", audience: "https://idp.example.org/token", keyPEM: Self.key.pemRepresentation, now: now)
        let parts = assertion.split(separator: ".").map(String.init)
        let signature = try #require(base64URLDecode(parts[2]))
        #expect(
            Self.key.publicKey.isValidSignature(
                _RSA.Signing.RSASignature(rawRepresentation: signature), for: SHA256.hash(data: Array((parts[0] + "." + parts[1]).utf8)),
                padding: .insecurePKCS1v1_5))
        let body = String(decoding: try #require(base64URLDecode(parts[1])), as: UTF8.self)
        #expect(body.contains(#""iss":"handover-console""#) && body.contains(#""aud":"https://idp.example.org/token""#))
    }
}
