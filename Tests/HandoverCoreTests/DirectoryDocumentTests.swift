import Foundation
import Testing

@testable import HandoverCore

@Suite("Directory documents: round trip, diff, entities")
struct DirectoryDocumentTests {
    @Test func documentRoundTripsThroughTheModel() throws {
        let yaml = DirectoryRoutingTests.directory
        let document = DirectoryDocument(yaml)
        let (rebuilt, problems) = DirectoryBuilder.build([(source: "x", document: document)])
        #expect(problems.isEmpty)
        #expect(rebuilt == yaml)
        #expect(DirectoryDocument(rebuilt) == document)
    }

    /// `acknowledgement_lapses_after` on a policy: read into the model, written back, and a
    /// working-time lapse needs a calendar like any working-time duration; the lapse time follows it.
    @Test func anAcknowledgementLapseIsReadWrittenAndChecked() throws {
        var doc = DirectoryDocument(DirectoryRoutingTests.directory)
        let stage = DirectoryDocument.StageEntry(after: "1h", when: "not-accepted", notify: [["sender": .bool(true)]], repeat: nil)
        doc.escalation_policies = [.init(id: "p", calendar: nil, stages: [stage], acknowledgement_lapses_after: "2h")]
        let (directory, problems) = DirectoryBuilder.build([(source: "x", document: doc)])
        #expect(problems.isEmpty)
        let policy = try #require(directory.escalationPolicies.first)
        #expect(policy.acknowledgementLapse == DirectoryDuration("2h"))
        #expect(DirectoryDocument(directory).escalation_policies?.first?.acknowledgement_lapses_after == "2h")
        let alert = Alert(
            id: "a", messageID: MessageID("m"), stage: 0, policy: "p", workflowID: "WF", condition: .notAccepted, dueAt: .distantPast,
            raisedAt: .distantPast, lastNotifiedAt: .distantPast, nextNotifyAt: nil)
        let now = Timestamp(microsecondsSinceEpoch: 1_000_000_000_000)
        let index = DirectoryIndex(directory: directory, version: 1, passwords: [:])
        #expect(EscalationRules.acknowledgementLapsesAt(alert, now: now, index: index) == now.adding(seconds: 7200))
        var other = alert
        other.policy = "none"
        #expect(EscalationRules.acknowledgementLapsesAt(other, now: now, index: index) == nil)

        doc.escalation_policies?[0].acknowledgement_lapses_after = "3wh"
        let (working, _) = DirectoryBuilder.build([(source: "x", document: doc)])
        #expect(DirectoryValidator.problems(in: working).contains { $0.entry == "escalation policy p" && $0.message.contains("need a calendar") })
        doc.escalation_policies?[0].acknowledgement_lapses_after = "soon"
        #expect(DirectoryBuilder.build([(source: "x", document: doc)]).1.contains { $0.field == "acknowledgement_lapses_after" })
    }

    @Test func diffNamesAddedRemovedAndChangedEntries() {
        var old = DirectoryDocument(DirectoryRoutingTests.directory)
        var new = old
        new.areas?.removeFirst()
        new.mailboxes?[0].name = "Renamed"
        new.webhooks = [.init(id: "hook", url: "https://x", secret: nil)]
        let changes = DirectoryDiff.changes(from: old, to: new).map(\.summary)
        #expect(changes == ["changed mailbox RX1DISCH (name)", "removed area E08000099", "added webhook hook"])
        old = new
        #expect(DirectoryDiff.changes(from: old, to: new).isEmpty)
    }

    @Test func entitiesUpsertAndDeleteCaseInsensitively() throws {
        var doc = DirectoryDocument(DirectoryRoutingTests.directory)
        let kind = try #require(DirectoryEntityKind.all["mailboxes"])
        let created = try kind.upsert(
            in: &doc, id: "NEWBOX", body: Data(#"{"id":"NEWBOX","organisation":"RX1","name":"n"}"#.utf8), decoder: JSONEntryDecoder())
        #expect(created && kind.entry(in: doc, id: "newbox") != nil)
        let replaced = try kind.upsert(
            in: &doc, id: "newbox", body: Data(#"{"id":"NEWBOX","organisation":"RX1","name":"m"}"#.utf8), decoder: JSONEntryDecoder())
        #expect(!replaced && doc.mailboxes?.last?.name == "m")
        #expect(throws: EntityIDMismatch.self) {
            _ = try kind.upsert(
                in: &doc, id: "OTHER", body: Data(#"{"id":"NEWBOX","organisation":"RX1","name":"m"}"#.utf8), decoder: JSONEntryDecoder())
        }
        #expect(kind.delete(in: &doc, id: "NewBox") && !kind.delete(in: &doc, id: "NewBox"))
    }
}

@Suite("Secrets at rest")
struct SecretBoxTests {
    @Test func sealsOpensAndRefusesTamperingOrTheWrongKey() throws {
        let box = try SecretBox(keyBytes: SecretBox.generateKeyBytes())
        let sealed = try box.seal("correct horse battery staple", boundTo: "LA713SAFE")
        #expect(sealed.hasPrefix("v2:") && !sealed.contains("horse"))
        #expect(try box.open(sealed, boundTo: "LA713SAFE") == "correct horse battery staple")
        #expect(try box.seal("x", boundTo: "A") != box.seal("x", boundTo: "A"), "nonces must differ")
        let other = try SecretBox(keyBytes: SecretBox.generateKeyBytes())
        #expect(throws: (any Error).self) { _ = try other.open(sealed, boundTo: "LA713SAFE") }
        var tampered = Array(sealed)
        tampered[10] = tampered[10] == "A" ? "B" : "A"
        #expect(throws: (any Error).self) { _ = try box.open(String(tampered), boundTo: "LA713SAFE") }
        // Bound to its mailbox: the same sealed value copied to another mailbox does not open.
        #expect(throws: (any Error).self) { _ = try box.open(sealed, boundTo: "RX1DISCH") }
        #expect(throws: SecretBoxError.badKey) { _ = try SecretBox(keyBytes: [1, 2, 3]) }
        #expect(SecretBox.decodeKey(SecretBox.encodeKey(Array(0..<32))) == Array(0..<32))
    }
}
