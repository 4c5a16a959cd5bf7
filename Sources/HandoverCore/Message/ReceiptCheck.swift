/// A message's receipt as the broker made and checked it for a person reading the message: the
/// canonical receipt, its detached CMS signature and the broker's receipt certificate, and what was
/// checked before the page calls it verified.
public struct ReceiptCheck: Hashable, Sendable {
    public var receipt: String
    public var signature: String
    public var certificatePEM: String
    /// When the receipt certificate stops being valid.
    public var certificateNotAfter: String
    /// The signature verifies over this receipt with the broker's receipt certificate, valid now.
    public var signatureVerified: Bool
    /// The payload held now hashes to the SHA-256 recorded when it was sent; nil when none was recorded.
    public var payloadMatches: Bool?

    public var verified: Bool { signatureVerified && payloadMatches != false }

    public init(
        receipt: String, signature: String, certificatePEM: String, certificateNotAfter: String, signatureVerified: Bool, payloadMatches: Bool?
    ) {
        (self.receipt, self.signature, self.certificatePEM, self.certificateNotAfter) = (receipt, signature, certificatePEM, certificateNotAfter)
        (self.signatureVerified, self.payloadMatches) = (signatureVerified, payloadMatches)
    }
}
