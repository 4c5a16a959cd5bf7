import Testing

@testable import HandoverCore

/// Which directory edits touch a safeguarding workflow's routing, policy or mailboxes (the changes
/// that are to need a second admin's approval), and which do not.
@Suite("Safeguarding change gate")
struct SafeguardingChangeGateTests {
    var base: Directory {
        var d = DirectoryRoutingTests.directory
        d.workflows[0].safeguarding = true
        d.workflows[0].escalation = "sg"
        d.escalationPolicies = [
            EscalationPolicy(id: "sg", stages: [EscalationStage(after: .elapsed(seconds: 3600), when: .notAccepted, notify: [.sender])])
        ]
        return d
    }

    @Test func anEditElsewhereNeedsNoApproval() {
        var new = base
        new.workflows[1].receivers = ["713", "714"]  // DISCHARGE is not safeguarding
        new.mailboxes[2].name = "Hospital social work team"  // LA713HOSP carries no safeguarding workflow
        #expect(SafeguardingChangeGate.reasons(from: base, to: new).isEmpty)
        #expect(SafeguardingChangeGate.reasons(from: base, to: base).isEmpty)
    }

    @Test func routingPolicyAndMailboxChangesAreNamed() {
        var new = base
        new.services.removeAll { $0.id == "riverside-safe" }
        let routing = SafeguardingChangeGate.reasons(from: base, to: new)
        #expect(routing.contains("service riverside-safe carrying SAFEGUARDING changed"))
        #expect(routing.contains { $0.hasSuffix("of SAFEGUARDING would route differently") })

        new = base
        new.escalationPolicies[0].acknowledgementLapse = .elapsed(seconds: 7200)
        #expect(SafeguardingChangeGate.reasons(from: base, to: new) == ["escalation policy sg of SAFEGUARDING changed"])

        new = base
        new.mailboxes[1].active = false  // LA713SAFE, Riverside's safeguarding service mailbox
        #expect(SafeguardingChangeGate.reasons(from: base, to: new).contains("mailbox LA713SAFE used by SAFEGUARDING changed"))

        // A mailbox of the organisation that sends it.
        new = base
        new.mailboxes[0].name = "Renamed"  // RX1DISCH, of RX1
        #expect(SafeguardingChangeGate.reasons(from: base, to: new) == ["mailbox RX1DISCH used by SAFEGUARDING changed"])

        // With no service for it, a receiving organisation's mailboxes are where it goes.
        var byOrganisation = base
        byOrganisation.services.removeAll()
        new = byOrganisation
        new.mailboxes[2].name = "Renamed"  // LA713HOSP, of 713
        #expect(SafeguardingChangeGate.reasons(from: byOrganisation, to: new) == ["mailbox LA713HOSP used by SAFEGUARDING changed"])

        new = base
        new.workflows[0].safeguarding = false  // turning the flag off is itself guarded
        #expect(SafeguardingChangeGate.reasons(from: base, to: new) == ["workflow SAFEGUARDING changed"])
    }
}
