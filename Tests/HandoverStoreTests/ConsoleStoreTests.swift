import HandoverCore
import HandoverStore
import Testing

/// Console accounts and sessions behave alike on every backend: one account per email, a TOTP step
/// spent once, sessions tied to enabled accounts, stale sessions swept.
@Suite("Console store: accounts, TOTP steps and sessions")
struct ConsoleStoreTests {
    let t0 = CivilDateTime(year: 2026, month: 11, day: 30, hour: 9).timestamp
    let sam = ConsoleUser(
        email: "Sam.Patel@Riverside.gov.uk", name: "Sam Patel", roles: [.practitioner, .operator], organisations: ["713"],
        mailboxes: [MailboxID("LA713SAFE")])

    @Test(arguments: StoreFactory.all)
    func accountsAreOnePerEmailAndKeepTheirScope(factory: StoreFactory) async throws {
        let store = try await factory.make()
        let created = try await store.createConsoleUser(sam, passwordHash: "hash-1", sealedTOTPSecret: "sealed", actor: "cli", now: t0)
        #expect(created.id > 0 && created.email == "sam.patel@riverside.gov.uk")
        await #expect(throws: ConsoleUserProblem.duplicateEmail) {
            _ = try await store.createConsoleUser(sam, passwordHash: "hash-2", sealedTOTPSecret: "sealed", actor: "cli", now: t0)
        }
        let account = try #require(try await store.consoleAccount(email: "SAM.PATEL@riverside.gov.uk"))
        #expect(account.passwordHash == "hash-1" && account.sealedTOTPSecret == "sealed")
        #expect(account.user.roles == [.practitioner, .operator] && account.user.organisations == ["713"])
        #expect(account.user.mailboxes == [MailboxID("LA713SAFE")] && account.user.mustChangePassword)
        try await store.setConsolePassword(userID: created.id, passwordHash: "hash-3", mustChange: false, actor: "console:sam", now: t0)
        #expect(try await store.consoleAccount(email: sam.email)?.passwordHash == "hash-3")
        #expect(try await store.consoleUser(id: created.id)?.mustChangePassword == false)
        #expect(try await store.consoleUsers().map(\.email) == ["sam.patel@riverside.gov.uk"])
        let actions = try await store.auditEntries(afterSequence: 0, limit: 100).map(\.action)
        #expect(actions.contains("console.user_created") && actions.contains("console.password_changed"))
    }

    @Test(arguments: StoreFactory.all)
    func aTOTPStepIsSpentOnceAndNeverAnEarlierOne(factory: StoreFactory) async throws {
        let store = try await factory.make()
        let user = try await store.createConsoleUser(sam, passwordHash: "h", sealedTOTPSecret: "s", actor: "cli", now: t0)
        #expect(try await store.spendTOTPStep(userID: user.id, step: 100))
        #expect(!(try await store.spendTOTPStep(userID: user.id, step: 100)), "the same code twice")
        #expect(!(try await store.spendTOTPStep(userID: user.id, step: 99)), "an older code after a newer one")
        #expect(try await store.spendTOTPStep(userID: user.id, step: 101))
    }

    @Test(arguments: StoreFactory.all)
    func sessionsFollowTheirAccount(factory: StoreFactory) async throws {
        let store = try await factory.make()
        let user = try await store.createConsoleUser(sam, passwordHash: "h", sealedTOTPSecret: "s", actor: "cli", now: t0)
        let session = ConsoleSession(idHash: "hash-a", userID: user.id, stage: .awaitingCode, csrfToken: "csrf", createdAt: t0, lastSeenAt: t0)
        try await store.createConsoleSession(session)
        try await store.createConsoleSession(
            ConsoleSession(
                idHash: "hash-b", userID: user.id, stage: .active, csrfToken: "c2", createdAt: t0,
                lastSeenAt: t0.adding(seconds: 600)))
        let found = try #require(try await store.consoleSession(idHash: "hash-a"))
        #expect(found.session == session && found.user.email == user.email)
        try await store.updateConsoleSession(idHash: "hash-a", stage: .active, lastSeenAt: t0.adding(seconds: 60))
        #expect(try await store.consoleSession(idHash: "hash-a")?.session.stage == .active)
        #expect(try await store.deleteConsoleSessions(lastSeenBefore: t0.adding(seconds: 300)) == 1)
        #expect(try await store.consoleSession(idHash: "hash-a") == nil)
        #expect(try await store.consoleSession(idHash: "hash-b") != nil)
        #expect(try await store.disableConsoleUser(email: "SAM.PATEL@riverside.gov.uk", actor: "cli", now: t0))
        #expect(try await store.consoleSession(idHash: "hash-b") == nil, "disabling an account ends its sessions")
        #expect(!(try await store.disableConsoleUser(email: sam.email, actor: "cli", now: t0)))
        #expect(try await store.consoleAccount(email: sam.email)?.user.disabled == true)
        try await store.deleteConsoleSession(idHash: "missing")
    }
}
