import HandoverCore
import Testing

@Suite("Console: TOTP, throttling, sessions and who sees what")
struct ConsoleCoreTests {
    // RFC 6238 appendix B, SHA-1, with the six low digits its eight-digit codes end in.
    let rfcSecret = Array("12345678901234567890".utf8)

    @Test(arguments: [(59, "287082"), (1_111_111_109, "081804"), (1_111_111_111, "050471"), (1_234_567_890, "005924"), (2_000_000_000, "279037")])
    func totpMatchesTheRFCVectors(seconds: Int64, code: String) {
        #expect(TOTP.code(secret: rfcSecret, counter: TOTP.counter(at: Timestamp(secondsSinceEpoch: seconds))) == code)
    }

    @Test func aCodeIsAcceptedOneStepEitherSideAndNoFurther() {
        let now = Timestamp(secondsSinceEpoch: 1_234_567_890)
        let step = TOTP.counter(at: now)
        for offset in Int64(-1)...1 {
            #expect(TOTP.matchingCounter(code: TOTP.code(secret: rfcSecret, counter: step + offset), secret: rfcSecret, now: now) == step + offset)
        }
        for offset: Int64 in [-2, 2] {
            #expect(TOTP.matchingCounter(code: TOTP.code(secret: rfcSecret, counter: step + offset), secret: rfcSecret, now: now) == nil)
        }
        #expect(TOTP.matchingCounter(code: "12345a", secret: rfcSecret, now: now) == nil)
        #expect(TOTP.matchingCounter(code: "", secret: rfcSecret, now: now) == nil)
        #expect(TOTP.matchingCounter(code: "005 924", secret: rfcSecret, now: now) == step)
    }

    @Test func base32FollowsRFC4648AndRoundTrips() {
        #expect(Base32.encode(Array("foobar".utf8)) == "MZXW6YTBOI")
        #expect(Base32.decode("MZXW6YTBOI======") == Array("foobar".utf8))
        let secret = TOTP.generateSecret()
        #expect(secret.count == 20 && Base32.decode(Base32.encode(secret)) == secret)
        #expect(Base32.decode("not base32!") == nil)
        let uri = TOTP.provisioningURI(secret: Array("foobar".utf8), account: "sam patel@example.org")
        #expect(uri == "otpauth://totp/Handover:sam%20patel@example.org?secret=MZXW6YTBOI&issuer=Handover&algorithm=SHA1&digits=6&period=30")
    }

    @Test func failedSignInsAreSlowedNotLockedOut() {
        var throttle = SignInThrottle()
        let t0 = Timestamp(secondsSinceEpoch: 1_000)
        let keys = ["account:sam@example.org", "address:192.0.2.1"]
        for _ in 0..<2 { throttle.recordFailure(for: keys, now: t0) }
        #expect(throttle.waitSeconds(for: keys, now: t0) == 0, "the first three attempts are not slowed")
        throttle.recordFailure(for: keys, now: t0)
        #expect(throttle.waitSeconds(for: keys, now: t0) == 1)
        throttle.recordFailure(for: keys, now: t0)
        #expect(throttle.waitSeconds(for: keys, now: t0) == 2)
        #expect(throttle.waitSeconds(for: keys, now: t0.adding(seconds: 2)) == 0)
        for _ in 0..<20 { throttle.recordFailure(for: keys, now: t0) }
        #expect(throttle.waitSeconds(for: keys, now: t0) == 60, "the wait is capped: the account is never locked")
        #expect(throttle.waitSeconds(for: ["account:other@example.org"], now: t0) == 0)
        #expect(throttle.waitSeconds(for: ["address:192.0.2.1"], now: t0) == 60)
        throttle.recordSuccess(for: keys)
        #expect(throttle.waitSeconds(for: keys, now: t0) == 0)
    }

    @Test func sessionsEndWhenIdleOrTooOld() {
        let policy = ConsoleSessionPolicy()
        let start = Timestamp(secondsSinceEpoch: 10_000)
        var session = ConsoleSession(idHash: "h", userID: 1, stage: .active, csrfToken: "c", createdAt: start, lastSeenAt: start)
        #expect(policy.isLive(session, now: start.adding(seconds: policy.idleSeconds - 1)))
        #expect(!policy.isLive(session, now: start.adding(seconds: policy.idleSeconds)))
        session.lastSeenAt = start.adding(seconds: policy.absoluteSeconds - 10)
        #expect(!policy.isLive(session, now: start.adding(seconds: policy.absoluteSeconds)), "busy sessions still end")
        session = ConsoleSession(idHash: "h", userID: 1, stage: .awaitingCode, csrfToken: "c", createdAt: start, lastSeenAt: start)
        #expect(!policy.isLive(session, now: start.adding(seconds: policy.signInStepSeconds)), "a half-finished sign-in lapses sooner")
    }

    @Test func accountsNeedWhatTheirRolesUse() {
        #expect(ConsoleUser(email: "a@b.org", name: "A", roles: [.practitioner]).problems() == [.practitionerWithoutMailbox])
        #expect(ConsoleUser(email: "a@b.org", name: "A", roles: [.operator]).problems() == [.noOrganisation])
        #expect(ConsoleUser(email: "not an email", name: "A", roles: [.admin]).problems() == [.badEmail])
        #expect(ConsoleUser(email: " Sam@Example.ORG ", name: "Sam", roles: [.admin]).email == "sam@example.org")
        #expect(ConsoleUser.parseRoles("admin,practitioner") == .success([.admin, .practitioner]))
        #expect(ConsoleUser.parseRoles("admin,root") == .failure(.unknownRole("root")))
    }

    @Test func peopleSeeTheirOwnOrganisationsCrossingsOnly() {
        let directory = Directory(
            organisations: [
                Organisation(code: ODSCode("RX1"), name: "Hospital", domain: .nhs),
                Organisation(code: ODSCode("713"), name: "Riverside", domain: .localAuthority),
                Organisation(code: ODSCode("714"), name: "Hillside", domain: .localAuthority),
            ],
            mailboxes: [
                Mailbox(id: MailboxID("RX1DISCH"), organisation: ODSCode("RX1"), name: "d"),
                Mailbox(id: MailboxID("LA713SAFE"), organisation: ODSCode("713"), name: "s"),
                Mailbox(id: MailboxID("LA714SAFE"), organisation: ODSCode("714"), name: "s"),
            ])
        let index = DirectoryIndex(directory: directory, version: 1, passwords: [:])
        let toRiverside = MessageRecord(
            id: MessageID("M1"), sender: MailboxID("RX1DISCH"), recipient: MailboxID("LA713SAFE"), workflowID: "W", totalChunks: 1, status: .accepted,
            createdAt: Timestamp(secondsSinceEpoch: 1))
        let toHillside = MessageRecord(
            id: MessageID("M2"), sender: MailboxID("RX1DISCH"), recipient: MailboxID("LA714SAFE"), workflowID: "W", totalChunks: 1, status: .accepted,
            createdAt: Timestamp(secondsSinceEpoch: 1))
        let operatorOf713 = ConsoleAccess(
            user: ConsoleUser(email: "o@x.org", name: "O", roles: [.operator], organisations: ["713"]), directory: index)
        #expect(operatorOf713.mayOpen(toRiverside) && !operatorOf713.mayOpen(toHillside))
        #expect(operatorOf713.mayActOnAlerts(about: toRiverside) && !operatorOf713.mayActOnAlerts(about: toHillside))
        #expect(operatorOf713.sections == [.alerts, .messages, .directory, .boundaries])
        let practitioner = ConsoleAccess(
            user: ConsoleUser(email: "p@x.org", name: "P", roles: [.practitioner], mailboxes: [MailboxID("LA714SAFE")]), directory: index)
        #expect(practitioner.mayOpen(toHillside) && !practitioner.mayOpen(toRiverside) && !practitioner.mayActOnAlerts(about: toHillside))
        #expect(practitioner.sections == [.mailbox, .directory])
        let admin = ConsoleAccess(user: ConsoleUser(email: "a@x.org", name: "A", roles: [.admin]), directory: index)
        #expect(!admin.mayOpen(toRiverside) && admin.mayEditDirectory && admin.sections == [.directory, .boundaries])
        let viewer = ConsoleAccess(user: ConsoleUser(email: "v@x.org", name: "V", roles: [.viewer], organisations: ["RX1"]), directory: index)
        #expect(viewer.mayOpen(toRiverside) && viewer.mayOpen(toHillside) && !viewer.mayActOnAlerts(about: toRiverside) && !viewer.mayEditDirectory)
    }
}
