import Foundation
import HandoverCore
import Testing

@Suite("MESH protocol pieces")
struct MeshProtocolTests {
    @Test(arguments: [("1:1", 1, 1), ("1:5", 1, 5), (" 3:4 ", 3, 4)])
    func parsesChunkRanges(text: String, n: Int, total: Int) {
        #expect(ChunkRange.parse(text) == ChunkRange(number: n, total: total))
    }

    @Test(arguments: ["", "1", "0:1", "2:1", "1:0", "a:b", "1:2:3", "-1:2", "1:99999999", "1:"])
    func refusesBadChunkRanges(text: String) {
        #expect(ChunkRange.parse(text) == nil)
    }

    @Test func workflowFilterHasSixForms() throws {
        let wf = WorkflowID("TOC_FHIR_EC_DISCH")
        let ack = WorkflowID("TOC_FHIR_EC_DISCH_ACK")
        let cases: [(String, Bool, Bool)] = [
            ("TOC_FHIR_EC_DISCH", true, false), ("!TOC_FHIR_EC_DISCH", false, true),
            ("TOC_*", true, true), ("!TOC_*", false, false),
            ("*_ACK*", false, true), ("!*_ACK*", true, false),
        ]
        for (raw, matchesData, matchesAck) in cases {
            let filter = try #require(WorkflowFilter(raw))
            #expect(filter.matches(wf) == matchesData, "\(raw) on data")
            #expect(filter.matches(ack) == matchesAck, "\(raw) on ack")
        }
        #expect(WorkflowFilter("x") == nil)
        #expect(WorkflowFilter("**") == nil)
        #expect(WorkflowFilter("A*B") == nil)
        #expect(try #require(WorkflowFilter("toc_*")).matches(wf))
    }

    @Test func cursorRoundTripsAndRefusesForgeries() throws {
        let bob = MailboxID("BOB")
        let cursor = InboxCursor(mailbox: bob, afterSequence: 12_345)
        #expect(cursor.encoded.count >= 24)
        #expect(InboxCursor.decode(cursor.encoded, mailbox: bob) == cursor)
        #expect(InboxCursor.decode(cursor.encoded, mailbox: MailboxID("ALICE")) == nil)
        #expect(InboxCursor.decode("garbage!!", mailbox: bob) == nil)
        #expect(InboxCursor.decode("", mailbox: bob) == nil)
        #expect(InboxCursor.decode(String(repeating: "A", count: 2000), mailbox: bob) == nil)
        #expect(InboxCursor.decode(String(cursor.encoded.dropLast(3)), mailbox: bob) == nil)
    }

    @Test func acceptHeaderSelectsVersion() {
        #expect(MeshAPIVersion.negotiate(accept: nil) == .v1)
        #expect(MeshAPIVersion.negotiate(accept: "application/json") == .v1)
        #expect(MeshAPIVersion.negotiate(accept: "*/*") == .v1)
        #expect(MeshAPIVersion.negotiate(accept: "application/vnd.mesh.v1+json") == .v1)
        #expect(MeshAPIVersion.negotiate(accept: "application/vnd.mesh.v2+json") == .v2)
        #expect(MeshAPIVersion.negotiate(accept: "application/vnd.mesh.v2+json, */*") == .v2)
        #expect(MeshAPIVersion.negotiate(accept: "application/vnd.mesh.v3+json") == .v2)
        #expect(MeshAPIVersion.negotiate(accept: "application/vnd.mesh.v2+xml") == nil)
    }

    @Test func sendHeadersValidateLikeTheSandbox() throws {
        func parse(_ headers: [String: String]) -> Result<SendHeaders, MeshError> { SendHeaders.parse { headers[$0] } }
        let ok = ["mex-to": " bob ", "mex-workflowid": "WF"]
        #expect(try parse(ok).get().to == "BOB")
        #expect(try parse(ok).get().chunkRange == ChunkRange(number: 1, total: 1))
        // Trimmed at both ends of any Unicode whitespace; left whole when its ends are printable ASCII.
        let spaced = try parse(["mex-to": "\u{00A0}bob\u{2003}", "mex-workflowid": " WF\u{3000}"]).get()
        #expect(spaced.to == "BOB" && spaced.workflowIDAsSent == "WF")
        #expect(try parse(["mex-to": "b o b", "mex-workflowid": "W\u{0301}"]).get().to == "B O B")
        #expect(try parse(["mex-to": "bob", "mex-workflowid": "W\u{0301}"]).get().workflowIDAsSent == "W\u{0301}")
        #expect(parse(["mex-workflowid": "WF"]) == .failure(.missingHeader("mex-to")))
        #expect(parse(["mex-to": "  ", "mex-workflowid": "WF"]) == .failure(.toMissing))
        #expect(parse(ok.merging(["mex-subject": "a\u{01}b"]) { $1 }) == .failure(.malformedControlFile))
        #expect(parse(ok.merging(["mex-to": "https://evil"]) { $1 }) == .failure(.malformedControlFile))
        #expect(parse(ok.merging(["mex-chunk-range": "2:3"]) { $1 }) == .failure(.invalidChunks))
        #expect(parse(ok.merging(["content-encoding": "br"]) { $1 }) == .failure(.unsupportedEncoding))
        #expect(parse(ok.merging(["mex-content-checksum": "md5;abc"]) { $1 }) == .failure(.invalidChecksum))
        #expect(try parse(ok.merging(["mex-content-checksum": "md5:abc-1/2"]) { $1 }).get().checksum == "md5:abc-1/2")
        #expect(try parse(ok.merging(["mex-content-compressed": "yes", "mex-content-encrypted": "0"]) { $1 }).get().contentCompressed == true)
        // Read as bytes: DEL and C0 controls refused anywhere, other non-ASCII kept; the URL prefix in any case.
        #expect(parse(ok.merging(["mex-localid": "é\u{7F}"]) { $1 }) == .failure(.malformedControlFile))
        #expect(try parse(ok.merging(["mex-subject": "Café – ünïcode ✓"]) { $1 }).get().subject == "Café – ünïcode ✓")
        #expect(parse(ok.merging(["mex-workflowid": "HtTp://x"]) { $1 }) == .failure(.malformedControlFile))
        #expect(parse(ok.merging(["mex-content-checksum": "HTTPS://x"]) { $1 }) == .failure(.malformedControlFile))
        #expect(try parse(ok.merging(["mex-to": "httpbob"]) { $1 }).get().to == "HTTPBOB")
        #expect(parse(ok.merging(["mex-content-checksum": "md5:é"]) { $1 }) == .failure(.invalidChecksum))
        #expect(try parse(ok.merging(["mex-content-checksum": "SHA256:AbZ09 -/"]) { $1 }).get().checksum == "SHA256:AbZ09 -/")
        // The limit counts Characters, not bytes: 300 two-byte letters fit a 300-character file name.
        #expect(try parse(ok.merging(["mex-filename": String(repeating: "é", count: 300)]) { $1 }).get().fileName?.count == 300)
        if case .failure(let e) = parse(ok.merging(["mex-filename": String(repeating: "é", count: 301)]) { $1 }) {
            #expect(e.statusCode == 400)
        } else {
            Issue.record("a 301-character file name was accepted")
        }
        if case .failure(let e) = parse(ok.merging(["mex-subject": String(repeating: "s", count: 501)]) { $1 }) {
            #expect(e.statusCode == 400)
        } else {
            Issue.record("an over-long subject was accepted")
        }
    }

    @Test func messageIDsHaveTheRealMeshShape() {
        let id = MessageIDGenerator().next(
            now: CivilDateTime(year: 2026, month: 11, day: 25, hour: 17, minute: 25, second: 42).timestamp.adding(seconds: 0))
        let parts = id.rawValue.split(separator: "_")
        #expect(parts.count == 2)
        #expect(parts[0].count == 20 && parts[0].hasPrefix("20261125172542"))
        #expect(parts[1].count == 6 && parts[1].allSatisfy { $0.isHexDigit })
        // Microseconds padded to six digits, the suffix six uppercase hex digits; ids within one second
        // share its text, and the next second gets its own.
        var fixed = FixedWords(0x0000_0000_000A_B0C1)
        let generator = MessageIDGenerator()
        let second = CivilDateTime(year: 2026, month: 11, day: 25, hour: 17, minute: 25, second: 42).timestamp
        #expect(generator.next(now: second.adding(seconds: 0), using: &fixed).rawValue.hasPrefix("20261125172542000000_"))
        let later = Timestamp(microsecondsSinceEpoch: second.microsecondsSinceEpoch + 7_001)
        #expect(generator.next(now: later, using: &fixed).rawValue.hasPrefix("20261125172542007001_"))
        let next = Timestamp(microsecondsSinceEpoch: second.microsecondsSinceEpoch + 1_251_334)
        let text = generator.next(now: next, using: &fixed).rawValue
        #expect(text.hasPrefix("20261125172543251334_") && text.count == 27, "\(text)")
        #expect(text.dropFirst(21).allSatisfy { $0.isHexDigit && !$0.isLowercase }, "\(text)")
        #expect(text.dropFirst(21).contains { $0.isLetter }, "this word's suffix has a letter to uppercase: \(text)")
    }

    @Test func acceptEncodingAllowsGzipUnlessItsQualityIsZero() {
        for allowed in ["gzip", "GZip", "deflate, gzip", " gzip ;q=0.5", "*", "br;q=0, *;q=1", "gzip;q=0.001", "gzip;level=1"] {
            #expect(AcceptEncoding.allowsGzip(allowed), "\(allowed)")
        }
        for refused in [nil, "", "identity", "br, deflate", "gzip;q=0", "GZIP; Q = 0", "gzip;q=0.0", "*;q=0.000", "gzipx", "x-gzip", ",,"] {
            #expect(!AcceptEncoding.allowsGzip(refused), "\(refused ?? "nil")")
        }
    }

    @Test func idRandomnessRefillsAndRepeatsNothing() {
        var rng = IDRandom()
        let words = (0..<2_000).map { _ in rng.next() }  // four refills of the 512-word buffer
        #expect(Set(words).count == words.count)
        #expect(words.contains { $0 >> 32 != 0 } && words.contains { $0 & 0xFFFF_FFFF != 0 })
    }

    @Test func timestampsFormatAsMeshDoes() {
        let t = Timestamp(
            microsecondsSinceEpoch: CivilDateTime(year: 2026, month: 11, day: 25, hour: 17, minute: 25, second: 42).timestamp.microsecondsSinceEpoch
                + 251_334)
        #expect(t.compactUTC == "20261125172542")
        #expect(t.naiveISO == "2026-11-25T17:25:42.251334")
        #expect(t.httpDate == "Wed, 25 Nov 2026 17:25:42 GMT")
        #expect(Timestamp.parseTokenMinute("202611251725") == CivilDateTime(year: 2026, month: 11, day: 25, hour: 17, minute: 25).timestamp)
        #expect(Timestamp.parseTokenMinute("202613251725") == nil)
        #expect(Timestamp.parseTokenMinute("abc") == nil)
        // Leap day and a date before the epoch round-trip through the civil conversion.
        for civil in [
            CivilDateTime(year: 2028, month: 2, day: 29, hour: 23, minute: 59, second: 59), CivilDateTime(year: 1969, month: 12, day: 31, hour: 1),
        ] {
            #expect(CivilDateTime(secondsSinceEpoch: civil.timestamp.secondsSinceEpoch) == civil)
        }
        #expect(CivilDateTime(year: 2026, month: 11, day: 27).weekday == 4)
    }

    @Test func durationsParse() {
        #expect(DirectoryDuration("30s") == .elapsed(seconds: 30))
        #expect(DirectoryDuration("15m") == .elapsed(seconds: 900))
        #expect(DirectoryDuration("4h") == .elapsed(seconds: 14_400))
        #expect(DirectoryDuration("5d") == .elapsed(seconds: 432_000))
        #expect(DirectoryDuration("3wh") == .workingHours(3))
        #expect(DirectoryDuration("1wd") == .workingDays(1))
        for bad in ["", "5", "d", "0h", "-1h", "1.5h", "5y", "h5"] { #expect(DirectoryDuration(bad) == nil, "\(bad)") }
        #expect(DirectoryDuration("4h")?.description == "4h")
    }

    @Test func jsonEscapesAndKeepsOrder() throws {
        let v: JSONValue = .compact([("b", .string("x\"y\n\u{01}")), ("a", nil), ("c", .array([.int(1), .bool(false), .null]))])
        #expect(v.serialized == #"{"b":"x\"y\n\u0001","c":[1,false,null]}"#)
        #expect(JSONValue.string("né\t\r\\\u{1F}\u{7F}😀").serialized == #""né\t\r\\\u001f\#u{7F}😀""#)
        #expect(JSONValue.array([.string(""), .string("\""), .string("plain")]).serialized == #"["","\"","plain"]"#)
        // Every ASCII character and some beyond read back as themselves through Foundation's parser.
        let all = String(decoding: (0..<128).map { UInt8($0) }, as: UTF8.self) + "é€😀"
        let text = JSONValue.array([.string(all)]).serialized
        #expect(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String] == [all])
        #expect(JSONValue.object([("k", .string(all))]).serializedBytes == Array(JSONValue.object([("k", .string(all))]).serialized.utf8))
    }

    @Test func hexHelpersPadAndRandomise() {
        #expect(paddedHex(0x1a, width: 4) == "001a")
        #expect(paddedHex(0x1_2345, width: 2) == "12345")
        #expect(paddedHex(0, width: 0) == "0" && paddedHex(0, width: 3) == "000")
        #expect(paddedHex(.max, width: 4) == "ffffffffffffffff" && paddedHex(0xABC, width: 18) == "000000000000000abc")
        for count in [0, 1, 8, 13] {
            let hex = randomHex(bytes: count)
            #expect(hex.count == count * 2 && hex.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }, "\(hex)")
        }
        #expect(randomHex(bytes: 8) != randomHex(bytes: 8))
        #expect(hexString([0x00, 0x09, 0x0A, 0xF0, 0xFF]) == "00090af0ff" && hexString([UInt8]()) == "")
    }

    /// The audit chain's canonical form is stored history: every hash already written must still verify.
    /// Pinned to SHA-256 of `64:0…0|16:1764547200000000|6:broker|17:message.delivered|21:…|9:{"né":1}`
    /// (lengths in UTF-8 bytes), worked out independently of this code.
    @Test func auditHashesKeepTheirCanonicalForm() {
        let hash = AuditChain.hash(
            previous: AuditChain.genesis, at: Timestamp(microsecondsSinceEpoch: 1_764_547_200_000_000), actor: "broker",
            action: "message.delivered", subject: "message 20261201ABC_1", detail: #"{"né":1}"#)
        #expect(hash == "b6bb46678e0a1533c64f5a824b298b668956fbe595d79aac02710eac3a0e2f06")
    }

    @Test func jsonStringsWithNothingToEscapeAreCopiedWhole() {
        #expect(JSONValue.string("Café — ü 20261201").serialized == "\"Café — ü 20261201\"")
        // The escape comes after a clean prefix, so the fast path must not take the string whole.
        #expect(JSONValue.string("MSG-0001 said \\ \t").serialized == #""MSG-0001 said \\ \t""#)
    }
}

/// Returns the same word every time: a message id's random suffix, made predictable.
struct FixedWords: RandomNumberGenerator {
    let word: UInt64
    init(_ word: UInt64) { self.word = word }
    mutating func next() -> UInt64 { word }
}
