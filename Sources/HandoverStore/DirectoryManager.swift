import HandoverCore
import Synchronization

/// Owns the directory in force: imports `Routes/` at start, validates and saves edits as new
/// versions, and swaps the running directory atomically so edits apply to new messages at once
/// (messages already routed keep the route recorded on them).
public final class DirectoryManager: Sendable {
    public enum StartMode: String, Sendable, CaseIterable {
        /// Import the files only when the store has no directory yet (default).
        case importIfEmpty = "import-if-empty"
        /// Make the files the current directory, as a new version if they differ.
        case replace
    }

    public enum Outcome: Sendable {
        case invalid([DirectoryProblem])
        /// `approvalReasons`: why applying it would need a second admin (empty: it would not).
        case dryRun(changes: [DirectoryChange], impact: RoutingImpact, warnings: [DirectoryValidator.Problem], approvalReasons: [String])
        case applied(version: Int64, changes: [DirectoryChange], impact: RoutingImpact, warnings: [DirectoryValidator.Problem])
        /// The edit would make addresses that route today unroutable or ambiguous: not applied
        /// until proposed again with `confirmImpact`.
        case needsConfirmation(impact: RoutingImpact)
        /// The edit touches a safeguarding workflow's routing, policy or mailboxes: not applied; it
        /// can be proposed (`submitProposal`) for another admin to approve.
        case needsApproval(reasons: [String], changes: [DirectoryChange], impact: RoutingImpact)
    }

    /// Whether an edit to a safeguarding workflow may apply at once.
    public enum Approval: Sendable, Hashable {
        /// An admin's edit (admin API, console): a change to a safeguarding workflow waits for a second admin.
        case secondAdminForSafeguarding
        /// The operator's own files (`Routes/` at start, `routes import`): whoever can write those and
        /// the store needs no one's approval, so none is asked.
        case operatorFiles
        /// A second admin applying a proposal another admin made.
        case approving(ProposalApproval)
    }

    public let holder: DirectoryHolder
    let store: any DirectoryStore
    let environment: [String: String]
    let sandbox: Bool
    let clock: @Sendable () -> Timestamp
    /// Seals rotated passwords before they reach the store.
    let secrets: SecretBox
    /// The sealed rotated passwords last applied, to notice rotations made elsewhere.
    let appliedRotations = Mutex<[MailboxID: String]>([:])

    public init(
        store: any DirectoryStore, environment: [String: String], sandbox: Bool, secrets: SecretBox, clock: @escaping @Sendable () -> Timestamp
    ) {
        self.store = store
        self.secrets = secrets
        self.environment = environment
        self.sandbox = sandbox
        self.clock = clock
        holder = DirectoryHolder(DirectoryIndex(directory: Directory(), version: 0, passwords: [:]))
    }

    /// Loads the directory at start. Returns notes for the operator (what was imported, who cannot log in).
    public func start(files: DirectoryDocument?, mode: StartMode, actor: String) async throws -> [String] {
        var notes: [String] = []
        let current = try await store.currentDirectory()
        if let files, current == nil || mode == .replace {
            do {
                // `--routes-mode replace` is the operator's explicit choice: its routing impact is confirmed, and noted.
                switch try await propose(
                    files, expectedVersion: current?.version, actor: actor, dryRun: false, confirmImpact: true, approval: .operatorFiles)
                {
                case .invalid(let problems): throw DirectoryRejected(problems: problems)
                case .needsConfirmation, .needsApproval: break
                case .applied(let version, let changes, let impact, _):
                    notes.append(
                        current == nil
                            ? "directory imported from files as version \(version)"
                            : "directory replaced from files as version \(version) (\(changes.count) changes)")
                    notes += impact.lines.prefix(20).map { "routing impact: " + $0 }
                case .dryRun: break
                }
            } catch is DirectoryVersionConflict where mode == .importIfEmpty {
                // Another instance starting at the same moment imported first: use its version.
                guard let saved = try await store.currentDirectory() else { throw DirectoryVersionConflict(expected: nil, current: nil) }
                try await apply(saved)
                notes.append("directory version \(saved.version) loaded from the store (imported by another instance)")
            }
        } else if let current {
            try await apply(current)
            notes.append("directory version \(current.version) loaded from the store")
        }
        if !sandbox, let inForce = try await store.currentDirectory() {
            let problems = webhookSecretProblems(inForce.document)
            guard problems.isEmpty else { throw DirectoryRejected(problems: problems) }
        }
        let missing = holder.snapshot.directory.mailboxes.filter { holder.snapshot.credentials(for: $0.id)?.password == nil }.map(\.id.rawValue)
        if !missing.isEmpty {
            notes.append(
                "\(missing.count) mailbox(es) cannot log in until their password variable is set or rotated: " + missing.joined(separator: ", "))
        }
        return notes
    }

    /// Validates `document`; unless `dryRun`, saves it as the next version and puts it in force.
    /// Throws `DirectoryVersionConflict` when `expectedVersion` is not the current version.
    /// `current`: the stored version the caller already read (an entity edit), so it is not read and
    /// decoded again; the save still refuses the edit if another landed meanwhile.
    public func propose(
        _ document: DirectoryDocument, expectedVersion: Int64?, actor: String, dryRun: Bool,
        confirmImpact: Bool = false, current known: StoredDirectoryVersion? = nil, approval: Approval = .secondAdminForSafeguarding
    ) async throws -> Outcome {
        let (proposed, problems) = DirectoryBuilder.build([(source: "directory", document: document)])
        let literals = (document.mailboxes ?? []).filter {
            $0.password.map { SecretReference($0) }.map { if case .literal = $0 { true } else { false } } ?? false
        }
        var all = problems
        if !sandbox {
            all += literals.map {
                DirectoryProblem(
                    file: "directory", entry: "mailbox \($0.id.uppercased())", field: "password",
                    message: "literal passwords are accepted only in sandbox mode; write ${VARIABLE}")
            }
            all += webhookSecretProblems(document)
        }
        guard all.isEmpty else { return .invalid(all) }
        var current = known
        if current == nil { current = try await store.currentDirectory() }
        if let expectedVersion, current?.version != expectedVersion {
            throw DirectoryVersionConflict(expected: expectedVersion, current: current?.version)
        }
        let changes = DirectoryDiff.changes(from: current?.document ?? DirectoryDocument(), to: document)
        // The directory in force is already built; the first import has no live routing to break
        // and no safeguarding workflow to guard.
        let inForce = holder.snapshot
        let before = current.map {
            $0.version == inForce.version ? inForce.directory : DirectoryBuilder.build([(source: "directory", document: $0.document)]).0
        }
        let impact = before.map { RoutingImpact.between($0, proposed) } ?? RoutingImpact(changes: [], complete: true)
        let reasons = before.map { SafeguardingChangeGate.reasons(from: $0, to: proposed) } ?? []
        let warnings = DirectoryValidator.warnings(in: proposed)
        if dryRun { return .dryRun(changes: changes, impact: impact, warnings: warnings, approvalReasons: reasons) }
        // Its author confirms a breaking routing impact before it is applied or proposed.
        if impact.needsConfirmation && !confirmImpact { return .needsConfirmation(impact: impact) }
        if approval == .secondAdminForSafeguarding && !reasons.isEmpty { return .needsApproval(reasons: reasons, changes: changes, impact: impact) }
        let recordedActor =
            impact.needsConfirmation ? actor + " (confirmed routing impact: \(impact.breaking.count) address(es) no longer route)" : actor
        var approving: ProposalApproval?
        if case .approving(let approval) = approval { approving = approval }
        let version = try await store.saveDirectory(
            document, expectedVersion: current?.version, actor: recordedActor, changes: changes, now: clock(), approving: approving)
        // Saved as given, so the directory built above is the one now in force: built once per edit.
        try await apply(proposed, version: version)
        return .applied(version: version, changes: changes, impact: impact, warnings: warnings)
    }

    /// Webhook secrets that are literal (outside sandbox mode) or whose variable is unset: either would
    /// mean unsigned or guessable POSTs, so both refuse the directory (and the start). A URL taken
    /// from the environment (a chat tool's, which is its own credential) must be set as well.
    func webhookSecretProblems(_ document: DirectoryDocument) -> [DirectoryProblem] {
        var found: [DirectoryProblem] = []
        for hook in document.webhooks ?? [] {
            switch hook.secret.map(SecretReference.init) {
            case .literal?:
                found.append(
                    DirectoryProblem(
                        file: "directory", entry: "webhook \(hook.id)", field: "secret",
                        message: "literal secrets are accepted only in sandbox mode; write ${VARIABLE}"))
            case .environment(let name)? where (environment[name] ?? "").isEmpty:
                found.append(
                    DirectoryProblem(
                        file: "directory", entry: "webhook \(hook.id)", field: "secret",
                        message: "the variable \(name) is not set in the broker's environment"))
            default: break
            }
            if case .environment(let name) = SecretReference(hook.url), (environment[name] ?? "").isEmpty {
                found.append(
                    DirectoryProblem(
                        file: "directory", entry: "webhook \(hook.id)", field: "url",
                        message: "the variable \(name) is not set in the broker's environment"))
            }
        }
        return found
    }

    /// Reloads when another process (a CLI import, another instance) saved a newer version.
    @discardableResult
    /// A password rotated by another instance counts as a change too.
    public func refreshIfChanged() async throws -> Bool {
        // The version number first: the directory itself is read and built only when it changed.
        guard let version = try await store.currentDirectoryVersion() else { return false }
        if version == holder.snapshot.version {
            let rotated = try await store.mailboxPasswords()
            guard rotated != appliedRotations.withLock({ $0 }) else { return false }
        }
        guard let current = try await store.currentDirectory() else { return false }
        try await apply(current)
        return true
    }

    /// A new random password for `mailbox`, in force at once and returned once.
    public func rotatePassword(_ mailbox: MailboxID, actor: String) async throws -> String? {
        guard holder.snapshot.mailboxes[mailbox] != nil else { return nil }
        let password = MailboxPasswordFormat.generate()
        try await store.setMailboxPassword(mailbox, password: try secrets.seal(password, boundTo: mailbox.rawValue), actor: actor, now: clock())
        if let current = try await store.currentDirectory() { try await apply(current) }
        return password
    }

    func apply(_ stored: StoredDirectoryVersion) async throws {
        try await apply(DirectoryBuilder.build([(source: "directory", document: stored.document)]).0, version: stored.version)
    }

    func apply(_ directory: Directory, version: Int64) async throws {
        let rotated = try await store.mailboxPasswords()
        appliedRotations.withLock { $0 = rotated }
        var passwords: [MailboxID: String] = [:]
        for mailbox in directory.mailboxes {
            switch mailbox.password {
            case .environment(let name)?: passwords[mailbox.id] = environment[name].flatMap { $0.isEmpty ? nil : $0 }
            case .literal(let value)? where sandbox: passwords[mailbox.id] = value
            default: break
            }
            if let sealed = rotated[mailbox.id] { passwords[mailbox.id] = try secrets.open(sealed, boundTo: mailbox.id.rawValue) }
        }
        holder.replace(with: DirectoryIndex(directory: directory, version: version, passwords: passwords))
    }
}

public struct DirectoryRejected: Error, CustomStringConvertible {
    public var problems: [DirectoryProblem]
    public init(problems: [DirectoryProblem]) { self.problems = problems }
    public var description: String { "the directory is invalid:\n" + problems.map(\.description).joined(separator: "\n") }
}
