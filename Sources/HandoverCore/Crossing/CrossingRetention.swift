import Crypto

/// Keeping less (docs/CROSSINGS.md, "Keeping less"): once a crossing has closed and its retention
/// period has passed, who it was about is reduced to a keyed hash of the NHS number, so counting
/// and duplicate detection still work but the number itself is gone; local ids are dropped.
public struct CrossingSubjectHasher: Sendable {
    let keyBytes: [UInt8]

    /// `secrets` holds the store's master key; a separate key is derived from it, so the hashes
    /// cannot be used to check guesses against anything else the key protects, and every instance
    /// on one database (which share the master key) hashes alike.
    public init(secrets: SecretBox) {
        let derived = HMAC<SHA256>.authenticationCode(
            for: Array("handover crossing subject hash v1".utf8), using: SymmetricKey(data: secrets.keyBytes))
        keyBytes = Array(derived)
    }

    public func hash(_ nhsNumber: String) -> String {
        let digits = nhsNumber.filter { $0 != " " }
        return "hmac-sha256:" + hexString(HMAC<SHA256>.authenticationCode(for: Array(digits.utf8), using: SymmetricKey(data: keyBytes)))
    }

    /// The record with each subject's NHS number hashed and its local ids dropped; the verification
    /// status, absent reason and restriction stay (the scorecard counts them).
    public func reduced(_ record: CrossingRecord) -> CrossingRecord {
        var copy = record
        copy.subjects = record.subjects.map { subject in
            var s = subject
            if let number = subject.nhsNumber { s.nhsNumberHash = hash(number) }
            s.nhsNumber = nil
            s.localIDs = nil
            return s
        }
        return copy
    }
}

extension CrossingRecord {
    /// Whether a subject still holds an NHS number or local ids (not yet reduced).
    public var holdsIdentifiers: Bool { subjects.contains { $0.nhsNumber != nil || $0.localIDs != nil } }
}

extension MessageRecord {
    /// When this crossing closed: an outcome was recorded, it expired or failed, or (where no named
    /// person must accept) it was acknowledged. Nil while open, or when there is nothing to reduce.
    public var crossingClosedAt: Timestamp? {
        guard crossing?.holdsIdentifiers == true else { return nil }
        if let outcome = responsibility?.outcomeAt { return outcome }
        if status == .error || status == .undeliverable { return statusEvent?.at ?? createdAt }
        if !responsibilityRequired, let acknowledged = acknowledgedAt { return acknowledged }
        return nil
    }
}
