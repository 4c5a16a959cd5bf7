import Crypto
import Foundation
import HandoverCore
import Testing

@Suite("NHSMESH token")
struct MeshAuthTokenTests {
    // Reference §3.1 test vector, checked there against the sandbox and Python's hmac.
    let vectorHeader =
        "NHSMESH X26ABC1:2c001608-5f09-4840-9611-bea43e666a30:1:202611251725:a07297391594e1b0654656bede7d7963a279f3d105d1415e0e4121211b3d7979"
    let now = CivilDateTime(year: 2026, month: 11, day: 25, hour: 17, minute: 30).timestamp
    let verifier = MeshTokenVerifier(sharedKey: "TestKey")
    func credentials(_ id: MailboxID) -> (password: String?, active: Bool)? { id.rawValue == "X26ABC1" ? ("password", true) : nil }

    @Test func hashMatchesTheReferenceVector() {
        let hash = MeshAuthToken.expectedHash(
            mailbox: "X26ABC1", nonce: "2c001608-5f09-4840-9611-bea43e666a30", nonceCount: "1",
            password: "password", timestamp: "202611251725", sharedKey: "TestKey")
        #expect(hash == "a07297391594e1b0654656bede7d7963a279f3d105d1415e0e4121211b3d7979")
        #expect(
            MeshAuthToken.header(
                mailbox: "X26ABC1", password: "password", sharedKey: "TestKey",
                nonce: "2c001608-5f09-4840-9611-bea43e666a30", nonceCount: 1, timestamp: "202611251725") == vectorHeader)
    }

    /// A signer keyed once makes the same headers, one after another, as a fresh key each time.
    @Test func aSignerKeyedOnceMakesTheReferenceHeaderEveryTime() {
        let signer = MeshTokenSigner(sharedKey: "TestKey")
        for _ in 0..<3 {
            #expect(
                signer.header(
                    mailbox: "X26ABC1", password: "password", nonce: "2c001608-5f09-4840-9611-bea43e666a30", nonceCount: 1,
                    timestamp: "202611251725") == vectorHeader)
        }
        #expect(signer.header(mailbox: "X26ABC1", password: "password", nonce: "other", nonceCount: 1, timestamp: "202611251725") != vectorHeader)
    }

    @Test func acceptsTheReferenceVector() throws {
        let token = try verifier.verify(header: vectorHeader, pathMailbox: MailboxID("X26ABC1"), now: now, credentials: credentials).get()
        #expect(token.nonceCount == "1")
    }

    /// One keyed HMAC serves every check: checks from many tasks at once, each of its own token, all
    /// pass, a wrong one among them fails, and the reference vector still verifies after them.
    @Test func theVerifiersKeyedHMACIsSharedWithoutBeingChanged() async throws {
        let verifier = verifier
        let results = await withTaskGroup(of: (Int, Bool).self) { group in
            for i in 0..<200 {
                group.addTask {
                    var header = MeshAuthToken.header(
                        mailbox: "X26ABC1", password: "password", sharedKey: "TestKey", nonce: "nonce-\(i)", nonceCount: i, timestamp: "202611251725")
                    if i == 99 { header = String(header.dropLast()) + (header.hasSuffix("0") ? "1" : "0") }
                    let credentials: (MailboxID) -> (password: String?, active: Bool)? = { _ in ("password", true) }
                    let verified = verifier.verify(header: header, pathMailbox: MailboxID("X26ABC1"), now: self.now, credentials: credentials)
                    return (i, (try? verified.get()) != nil)
                }
            }
            return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        #expect(results.count == 200)
        #expect(results.filter { !$0.value }.map(\.key) == [99])
        #expect((try? verifier.verify(header: vectorHeader, pathMailbox: MailboxID("X26ABC1"), now: now, credentials: credentials).get()) != nil)
    }

    @Test func prefixIsOptionalAndCaseInsensitive() {
        let bare = String(vectorHeader.dropFirst("NHSMESH ".count))
        #expect((try? verifier.verify(header: bare, pathMailbox: MailboxID("X26ABC1"), now: now, credentials: credentials).get()) != nil)
        #expect((try? verifier.verify(header: "nhsmesh " + bare, pathMailbox: MailboxID("X26ABC1"), now: now, credentials: credentials).get()) != nil)
        #expect((try? verifier.verify(header: "NhSmEsH " + bare, pathMailbox: MailboxID("X26ABC1"), now: now, credentials: credentials).get()) != nil)
    }

    @Test(arguments: [
        (nil as String?, MeshAuthFailure.missingHeader),
        ("", .missingHeader),
        (" \t ", .missingHeader),
        ("\u{3000}", .missingHeader),  // Unicode whitespace, found by the slower check
        ("NHSMESH\u{e9}X26ABC1:n:1:202611251725:00", .mailboxMismatch),
        ("Bearer abc", .mailboxMismatch),
        ("NHSMESH X26ABC2:n:1:202611251725:00", .mailboxMismatch),
        ("NHSMESH X26ABC1:n:x:202611251725:00", .malformedHeader),
        ("NHSMESH X26ABC1:n:1:202611251725", .mailboxMismatch),
        ("NHSMESH X26ABC1:n:1:202611251725:00:00", .mailboxMismatch),  // five colons
    ])
    func refusesMalformedHeaders(header: String?, expected: MeshAuthFailure) {
        #expect(verifier.verify(header: header, pathMailbox: MailboxID("X26ABC1"), now: now, credentials: credentials) == .failure(expected))
    }

    /// The hash in any case is the same hash; one digit wrong anywhere, one too few or too many, or a
    /// letter that is not hex, and it is not.
    @Test func theHashIsComparedInAnyCaseAndDigitByDigit() {
        let hash = String(vectorHeader.suffix(64)), head = String(vectorHeader.dropLast(64))
        func verdict(_ hash: String) -> Result<MeshAuthToken, MeshAuthFailure> {
            verifier.verify(header: head + hash, pathMailbox: MailboxID("X26ABC1"), now: now, credentials: credentials)
        }
        #expect((try? verdict(hash.uppercased()).get()) != nil)
        #expect((try? verdict(String(hash.prefix(10)).uppercased() + hash.dropFirst(10)).get()) != nil)
        let flipped = { (c: Character) -> String in c == "0" ? "1" : "0" }
        for wrong in [
            flipped(hash.first!) + hash.dropFirst(), hash.dropLast() + flipped(hash.last!), String(hash.dropLast()), hash + "0",
            "g" + hash.dropFirst(), "", String(repeating: "0", count: 64),
        ] {
            #expect(verdict(wrong) == .failure(.invalidToken), "\(wrong)")
        }
    }

    @Test func refusesWrongPasswordUnknownAndInactiveMailboxes() {
        let wrong = MeshTokenVerifier(sharedKey: "OtherKey")
        #expect(wrong.verify(header: vectorHeader, pathMailbox: MailboxID("X26ABC1"), now: now, credentials: credentials) == .failure(.invalidToken))
        #expect(
            verifier.verify(header: vectorHeader, pathMailbox: MailboxID("X26ABC1"), now: now, credentials: { _ in nil }) == .failure(.unknownMailbox)
        )
        #expect(
            verifier.verify(header: vectorHeader, pathMailbox: MailboxID("X26ABC1"), now: now, credentials: { _ in ("password", false) })
                == .failure(.inactiveMailbox))
        #expect(
            verifier.verify(header: vectorHeader, pathMailbox: MailboxID("X26ABC1"), now: now, credentials: { _ in (nil, true) })
                == .failure(.passwordNotSet))
    }

    @Test func refusesTimestampsOutsideTwoHours() {
        let later = now.adding(seconds: 2 * 3600 + 600)
        #expect(
            verifier.verify(header: vectorHeader, pathMailbox: MailboxID("X26ABC1"), now: later, credentials: credentials)
                == .failure(.staleTimestamp))
        let earlier = now.adding(seconds: -(2 * 3600 + 600))
        #expect(
            verifier.verify(header: vectorHeader, pathMailbox: MailboxID("X26ABC1"), now: earlier, credentials: credentials)
                == .failure(.staleTimestamp))
        let justInside = now.adding(seconds: 2 * 3600 - 400)
        #expect(
            (try? verifier.verify(header: vectorHeader, pathMailbox: MailboxID("X26ABC1"), now: justInside, credentials: credentials).get()) != nil)
    }

    @Test func replayGuardAdmitsEachTokenOnce() throws {
        var guardian = TokenReplayGuard(windowSeconds: 100, capacity: 10)
        let token = try MeshAuthToken.parse(vectorHeader).get()
        let issued = try #require(Timestamp.parseTokenMinute(Substring(token.timestamp)))
        #expect(guardian.admit(token, now: issued) == .admitted)
        #expect(guardian.admit(token, now: issued.adding(seconds: 50)) == .replayed)
        // Past its own timestamp plus the window the timestamp check refuses it; the guard still remembers
        // it for the clock-step tolerance (a clock run ahead and corrected must not reopen it), then forgets.
        #expect(guardian.admit(token, now: issued.adding(seconds: 200)) == .replayed)
        #expect(guardian.admit(token, now: issued.adding(seconds: 100 + TokenReplayGuard.clockStepToleranceSeconds + 60)) == .admitted)
        #expect(guardian.count == 0)
    }

    @Test func aTokenDatedAheadStaysSpentUntilItsOwnTimestampPlusTheWindow() throws {
        var guardian = TokenReplayGuard()
        let token = try MeshAuthToken.parse(vectorHeader).get()
        let issued = try #require(Timestamp.parseTokenMinute(Substring(token.timestamp)))
        // First used two hours before its timestamp (the verifier allows ±2 h) ...
        let firstUse = issued.adding(seconds: -2 * 3600)
        #expect(guardian.admit(token, now: firstUse) == .admitted)
        // ... it must still be refused two hours after first use, and just before its window closes.
        #expect(guardian.admit(token, now: firstUse.adding(seconds: 2 * 3600 + 60)) == .replayed)
        #expect(guardian.admit(token, now: issued.adding(seconds: 2 * 3600)) == .replayed)
    }

    @Test func aFullGuardRefusesRatherThanForgets() throws {
        var guardian = TokenReplayGuard(windowSeconds: 10_000, capacity: 100)
        var verdicts: [TokenReplayGuard.Verdict] = []
        for i in 0..<150 {
            let t = MeshAuthToken(mailbox: "A", nonce: "n", nonceCount: String(i), timestamp: "202611251725", hash: "")
            verdicts.append(guardian.admit(t, now: now))
        }
        #expect(verdicts.prefix(100).allSatisfy { $0 == .admitted })
        #expect(verdicts.suffix(50).allSatisfy { $0 == .full })
        #expect(guardian.count == 100)
        // The first token is still remembered: full never means forgotten.
        let first = MeshAuthToken(mailbox: "A", nonce: "n", nonceCount: "0", timestamp: "202611251725", hash: "")
        #expect(guardian.admit(first, now: now) == .replayed)
    }

    /// Spent tokens are journalled by this digest and shared between instances by its hex, so it must
    /// stay what it was: SHA-256 of the length-prefixed parts, read as two big-endian words.
    @Test(arguments: [
        ("ALICE", "4a1b", "1", "202611251725"), ("X26OT001", "", "0", "202611251725"), ("Bé", "ñ:once", "12", "2026"),
    ])
    func aTokensDigestIsTheLengthPrefixedPartsHashed(parts: (String, String, String, String)) {
        let token = MeshAuthToken(mailbox: parts.0, nonce: parts.1, nonceCount: parts.2, timestamp: parts.3, hash: "")
        let text = [parts.0, parts.1, parts.2, parts.3].map { "\($0.utf8.count):\($0)" }.joined()
        let reference = SHA256.hash(data: Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
        let digest = TokenReplayGuard.digest(token)
        #expect(digest.hex == String(reference.prefix(32)))
        #expect(String(digest.key, radix: 16).leftPadded(to: 16) == String(reference.prefix(16)))
    }

    @Test func constantTimeEqualityIsExact() {
        #expect(constantTimeEqual("abc", "abc"))
        #expect(!constantTimeEqual("abc", "abd"))
        #expect(!constantTimeEqual("abc", "abcd"))
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
