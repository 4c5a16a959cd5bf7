/// One entry of the tamper-evident audit log. Each entry's hash covers its fields and the hash of
/// the entry before it, so an edited, deleted or reordered entry breaks the chain from there on.
public struct AuditEntry: Hashable, Sendable {
    public var sequence: Int64
    public var at: Timestamp
    public var actor: String
    public var action: String
    public var subject: String
    /// JSON; never a payload or a secret.
    public var detail: String
    public var previousHash: String
    public var hash: String

    public init(sequence: Int64, at: Timestamp, actor: String, action: String, subject: String, detail: String, previousHash: String, hash: String) {
        (self.sequence, self.at, self.actor, self.action, self.subject, self.detail, self.previousHash, self.hash) =
            (sequence, at, actor, action, subject, detail, previousHash, hash)
    }
}

/// What a caller records; the store adds sequence and hashes.
public struct AuditRecord: Hashable, Sendable {
    public var actor: String
    public var action: String
    public var subject: String
    public var detail: String
    public init(actor: String, action: String, subject: String, detail: String = "{}") {
        (self.actor, self.action, self.subject, self.detail) = (actor, action, subject, detail)
    }
}

public enum AuditChain {
    /// The hash of the chain's start.
    public static let genesis = String(repeating: "0", count: 64)

    public static func hash(previous: String, at: Timestamp, actor: String, action: String, subject: String, detail: String) -> String {
        // Length-prefixed, so no field can be shifted into another: `len:field|len:field|…`, built as
        // bytes (every send appends an entry; the string interpolations showed in its profile).
        var canonical: [UInt8] = []
        canonical.reserveCapacity(160 + actor.utf8.count + action.utf8.count + subject.utf8.count + detail.utf8.count)
        for (index, field) in [previous, String(at.microsecondsSinceEpoch), actor, action, subject, detail].enumerated() {
            if index > 0 { canonical.append(UInt8(ascii: "|")) }
            canonical.append(contentsOf: String(field.utf8.count).utf8)
            canonical.append(UInt8(ascii: ":"))
            canonical.append(contentsOf: field.utf8)
        }
        return sha256Hex(canonical)
    }

    public enum Verdict: Hashable, Sendable {
        case intact(entries: Int)
        /// The first entry (by position) at which the chain breaks, and why.
        case broken(atSequence: Int64, reason: String)
    }

    /// Walks the log in stored order and reports the first entry that was changed, removed or reordered.
    public static func verify(_ entries: [AuditEntry]) -> Verdict {
        var verifier = Verifier()
        return verifier.feed(entries) ?? .intact(entries: verifier.count)
    }

    /// Verifies the log a page at a time, so a long log is never held in memory whole.
    public struct Verifier: Sendable {
        var previous = AuditChain.genesis
        var lastSequence: Int64 = 0
        public private(set) var count = 0

        public init() {}

        /// The next page, in stored order: nil while the chain holds, else where it breaks.
        public mutating func feed(_ entries: [AuditEntry]) -> Verdict? {
            for e in entries {
                if e.sequence <= lastSequence { return .broken(atSequence: e.sequence, reason: "out of order") }
                if e.previousHash != previous {
                    return .broken(
                        atSequence: e.sequence,
                        reason: e.sequence != lastSequence + 1
                            ? "an entry before it was removed" : "an entry before it was changed, removed or reordered")
                }
                let expected = AuditChain.hash(previous: previous, at: e.at, actor: e.actor, action: e.action, subject: e.subject, detail: e.detail)
                if expected != e.hash { return .broken(atSequence: e.sequence, reason: "its content was changed") }
                previous = e.hash
                lastSequence = e.sequence
                count += 1
            }
            return nil
        }
    }
}
