import HandoverCore
import HandoverReceipts
import HandoverStore
import Logging
import Synchronization

/// Behaviour switches for the MESH endpoints.
public struct MeshConfiguration: Sendable {
    /// Mirrors NHS mesh-sandbox: unknown workflow ids accepted, reset endpoints open, lookups without
    /// a token, and `mex-content-compressed: Y` whenever a response is gzip-encoded (§14 item 6).
    public var sandbox: Bool
    /// The largest request body (one chunk), 100 MB as MESH.
    public var maxRequestBytes: Int64
    /// Default expiry when a workflow sets none (MESH: 5 days).
    public var defaultExpirySeconds: Int64
    /// Identity-encoded chunks at least this big are gzipped on the fly for clients that accept gzip.
    public var compressResponsesFrom: Int64
    public var environmentName: String
    /// Mutual TLS: the client certificate must name the mailbox or its organisation.
    public var bindClientCertificates: Bool = false
    /// How a certificate names its mailbox: by id or organisation, or only as the directory lists.
    public var certificateBinding: ClientCertificateBinding.Mode = .names
    /// Requests a second per mailbox (0: unlimited), with bursts up to `rateBurst`.
    public var ratePerSecond: Double = 1000
    public var rateBurst: Double = 2000

    public init(
        sandbox: Bool = false, maxRequestBytes: Int64 = 100_000_000, bindClientCertificates: Bool = false,
        ratePerSecond: Double = 1000, rateBurst: Double = 2000,
        defaultExpirySeconds: Int64 = 5 * 86_400, compressResponsesFrom: Int64 = 1024, environmentName: String = "handover"
    ) {
        self.bindClientCertificates = bindClientCertificates
        self.ratePerSecond = ratePerSecond
        self.rateBurst = rateBurst
        self.sandbox = sandbox
        self.maxRequestBytes = maxRequestBytes
        self.defaultExpirySeconds = defaultExpirySeconds
        self.compressResponsesFrom = compressResponsesFrom
        self.environmentName = environmentName
    }
}

/// What every MESH endpoint needs: the store, the directory in force, token checks and the clock.
public final class MeshBroker: Sendable {
    public let store: any BrokerStore
    /// The store's cluster-wide replay cache, if it has one (PostgreSQL), found once rather than per request.
    let sharedReplayCache: (any SharedReplayCache)?
    public let directory: DirectoryHolder
    /// Called after a delivery that has an escalation policy, to wake the scheduler.
    let onDelivered: @Sendable () -> Void
    public let metrics: BrokerMetrics
    /// Client certificates refused whatever their token (`--client-crl`).
    public let revocations: ClientRevocations
    /// Signs crossing receipts; nil when no receipt key is configured. Replaced on SIGHUP after
    /// `handover certs rotate-receipts`.
    public var receiptSigner: CMSReceiptSigner? { signer.withLock { $0 } }
    let signer: Mutex<CMSReceiptSigner?>
    public let configuration: MeshConfiguration
    let verifier: MeshTokenVerifier
    let replayGuard: Mutex<TokenReplayGuard>
    /// Keeps spent tokens across restarts where the store has no shared replay cache (SQLite).
    let spentTokens: (any SpentTokenRecorder)?
    let rateLimiter: Mutex<RateLimiter<MailboxID>>
    /// Failed authentications per client address and mailbox (password guessing: 30, then one every
    /// 2 s), and per address alone (junk floods: 300, then 10 a second). Past either budget the
    /// address is refused before any HMAC is computed. Both are per address, not per connection:
    /// behind a proxy that hides client addresses every client shares one budget.
    let failedGuesses = Mutex(RateLimiter<String>(ratePerSecond: 0.5, burst: 30))
    let failedFloods = Mutex(RateLimiter<String>(ratePerSecond: 10, burst: 300))
    let clock: @Sendable () -> Timestamp
    let idGenerator = MessageIDGenerator.shared
    /// Payload digests of delivered messages, for receipts (payloads never change once delivered).
    let payloadDigests = Mutex<[MessageID: (digest: String, bytes: Int64)]>([:])
    /// Refused safeguarding concerns told to the sender's duty team, per sending mailbox and workflow:
    /// three at once, then one every ten minutes, so a misconfigured system retrying cannot bury
    /// the duty inbox (every refusal is still counted and logged).
    let refusalNotices = Mutex(RateLimiter<String>(ratePerSecond: 1.0 / 600, burst: 3))

    public init(
        store: any BrokerStore, directory: DirectoryHolder, sharedKey: String, configuration: MeshConfiguration,
        clock: @escaping @Sendable () -> Timestamp, metrics: BrokerMetrics = BrokerMetrics(), receiptSigner: CMSReceiptSigner? = nil,
        replayGuard: TokenReplayGuard = TokenReplayGuard(), spentTokens: (any SpentTokenRecorder)? = nil,
        revocations: ClientRevocations = ClientRevocations(nil), onDelivered: @escaping @Sendable () -> Void = {}
    ) {
        self.store = store
        self.sharedReplayCache = store as? any SharedReplayCache
        self.signer = Mutex(receiptSigner)
        self.metrics = metrics
        self.revocations = revocations
        self.onDelivered = onDelivered
        self.directory = directory
        self.configuration = configuration
        self.verifier = MeshTokenVerifier(sharedKey: sharedKey)
        self.replayGuard = Mutex(replayGuard)
        self.spentTokens = spentTokens
        self.rateLimiter = Mutex(RateLimiter(ratePerSecond: configuration.ratePerSecond, burst: configuration.rateBurst))
        self.clock = clock
    }

    /// Signs receipts with a new key from now on (SIGHUP).
    public func replaceReceiptSigner(_ new: CMSReceiptSigner?) { signer.withLock { $0 = new } }

    /// Checks the NHSMESH token for `mailbox` against the passwords of `directory` and spends it.
    /// Failures are logged with their cause (never the token) and answered with MESH's 403 texts.
    /// Nothing here writes to the database before the rate limit has passed. With `deferringSharedSpend`
    /// and a store that can spend a token in a delivery's commit, the spend in the replay cache every
    /// instance shares is returned for the request to make (`PendingTokenSpend`) instead of made here.
    func authenticate(
        header: String?, mailbox: MailboxID, directory index: DirectoryIndex, address: @autoclosure () -> String?, logger: Logger,
        deferringSharedSpend: Bool = false
    ) async throws -> (MailboxID, PendingTokenSpend?) {
        let now = clock()
        if let wait = failedGuesses.withLock({ $0.peek((address() ?? "unknown") + " " + mailbox.rawValue, now: now) })
            ?? failedFloods.withLock({ $0.peek(address() ?? "unknown", now: now) })
        {
            logger.notice(
                "authentication refused: too many failures from this address",
                metadata: ["handover.client_address": "\(address() ?? "unknown")", "handover.retry_after": "\(wait)"])
            throw MeshError.tooManyRequests(retryAfter: wait)
        }
        let result = verifier.verify(header: header, pathMailbox: mailbox, now: now) { index.credentials(for: $0) }
        switch result {
        case .success(let token):
            if let wait = rateLimiter.withLock({ $0.admit(mailbox, now: now) }) {
                logger.notice("rate limited", metadata: ["handover.mailbox": "\(mailbox)", "handover.retry_after": "\(wait)"])
                throw MeshError.tooManyRequests(retryAfter: wait)
            }
            let expiry = TokenReplayGuard.expiry(of: token, now: now)
            let digest = TokenReplayGuard.digest(token)
            switch replayGuard.withLock({ $0.admit(key: digest.key, expiresAt: expiry, now: now) }) {
            case .admitted: spentTokens?.record(key: digest.key, expiresAt: expiry)
            case .replayed: throw reject(.replayed, mailbox: mailbox, address: address(), now: now, logger: logger)
            case .full:
                logger.warning("token replay guard full: refusing new tokens until the oldest expire", metadata: ["handover.mailbox": "\(mailbox)"])
                var error = MeshError(.replayGuardFull, event: "", message: "Service Unavailable: too many tokens in use; retry later")
                error.retryAfterSeconds = 60
                throw error
            }
            // With several instances, a token spent on another one is a replay too.
            guard let shared = sharedReplayCache else { return (mailbox, nil) }
            let toSpend = TokenSpend(digest: digest.hex, expiresAt: expiry)
            if deferringSharedSpend && shared is any TokenSpendingMessageStore {
                return (mailbox, PendingTokenSpend(token: toSpend, mailbox: mailbox, address: address()))
            }
            try await spend(toSpend, in: shared, mailbox: mailbox, address: address(), now: now, logger: logger)
            return (mailbox, nil)
        case .failure(let failure):
            throw reject(failure, mailbox: mailbox, address: address(), now: now, logger: logger)
        }
    }

    /// Spends a pending token in the shared replay cache, unless something has taken it; a replay is
    /// refused as at authentication.
    func spend(_ pending: PendingTokenSpend?, logger: Logger) async throws {
        guard let pending, pending.take(), let shared = sharedReplayCache else { return }
        try await spend(pending.token, in: shared, mailbox: pending.mailbox, address: pending.address, now: clock(), logger: logger)
    }

    /// Spends `token` in the replay cache every instance shares; a token spent before is refused as a replay.
    private func spend(
        _ token: TokenSpend, in shared: any SharedReplayCache, mailbox: MailboxID, address: String?, now: Timestamp, logger: Logger
    ) async throws {
        if !(try await shared.spendToken(digest: token.digest, expiresAt: token.expiresAt, now: now)) {
            throw reject(.replayed, mailbox: mailbox, address: address, now: now, logger: logger)
        }
    }

    /// `store.createMessage`, spending a pending token in the same commit where the store can.
    func createMessage(
        _ record: MessageRecord, firstChunk: StagedChunk, now: Timestamp, onDelivery: DeliveryCompanion?, spending pending: PendingTokenSpend?,
        logger: Logger
    ) async throws -> MessageRecord {
        guard let pending, let folding = store as? any TokenSpendingMessageStore, pending.take() else {
            try await spend(pending, logger: logger)
            return try await store.createMessage(record, firstChunk: firstChunk, now: now, onDelivery: onDelivery)
        }
        do {
            return try await folding.createMessage(record, firstChunk: firstChunk, now: now, onDelivery: onDelivery, spending: pending.token)
        } catch is TokenAlreadySpent {
            throw reject(.replayed, mailbox: pending.mailbox, address: pending.address, now: clock(), logger: logger)
        } catch {
            // The write failed, and with it, most likely, the token's spend: spent now all the same,
            // so that the token cannot be used again on another instance. With the database out of
            // reach that spend would only wait out a second timeout before the caller's 503, so it is
            // left to finish (or time out) behind the answer.
            let token = pending.token
            let spendToken = { @Sendable [clock] in
                _ = try? await folding.spendToken(digest: token.digest, expiresAt: token.expiresAt, now: clock())
            }
            if (error as? StoreUnavailable)?.cause == .unavailable { Task { await spendToken() } } else { await spendToken() }
            throw error
        }
    }

    private func reject(_ failure: MeshAuthFailure, mailbox: MailboxID, address: String?, now: Timestamp, logger: Logger) -> MeshError {
        _ = failedGuesses.withLock { $0.admit((address ?? "unknown") + " " + mailbox.rawValue, now: now) }
        _ = failedFloods.withLock { $0.admit(address ?? "unknown", now: now) }
        logger.info(
            "authentication refused",
            metadata: [
                "handover.mailbox": "\(mailbox)", "handover.cause": "\(failure.logCause)",
                "handover.client_address": "\(address ?? "unknown")",
            ])
        return MeshError.auth(failure)
    }
}

/// Keeps spent tokens somewhere that outlives the process, for stores with no shared replay cache.
public protocol SpentTokenRecorder: Sendable {
    func record(key: UInt64, expiresAt: Timestamp)
}
