import Crypto
import HandoverCore
import HandoverStore
import Hummingbird

extension MeshEndpoints {
    /// `GET /messageexchange/{MB}/outbox/{ID}/receipt` (sender) and `/inbox/{ID}/receipt` (recipient):
    /// the canonical receipt and the broker's detached CMS signature over it.
    func receipt(_ request: Request, _ context: Context, asSender: Bool) async throws -> Response {
        let caller = try context.meshCaller()
        let mailbox = caller.mailbox
        let id = try context.pathMessageID()
        guard let message = try await broker.store.message(id), (asSender ? message.sender : message.recipient) == mailbox else {
            throw MeshError.messageDoesNotExist
        }
        guard message.deliveredAt != nil, message.type == .data else {
            throw MeshError(.receiptNotReady, event: "RECEIPT", message: "a receipt exists only once the message is delivered")
        }
        guard let signer = broker.receiptSigner else {
            throw MeshError(.receiptsOff, event: "RECEIPT", message: "receipts are not configured on this broker (--receipt-cert, --receipt-key)")
        }
        let (digest, bytes) = try await broker.payloadDigest(of: message)
        let canonical = CrossingReceipt.canonical(message, payloadSHA256: digest, payloadBytes: bytes)
        let signature = try signer.sign(Array(canonical.utf8))
        return .json(.object([("receipt", .string(canonical)), ("signature", .string(signature)), ("certificate", .string(signer.certificatePEM))]))
    }

}

extension MeshBroker {
    /// The payload's SHA-256 and size. A delivered payload never changes, so it is hashed once and
    /// remembered (bounded), rather than read whole again on every receipt call.
    func payloadDigest(of message: MessageRecord) async throws -> (digest: String, bytes: Int64) {
        if let known = payloadDigests.withLock({ $0[message.id] }) { return known }
        var hasher = SHA256()
        var bytes: Int64 = 0
        for number in 1...max(message.totalChunks, 1) {
            guard let chunk = try await store.chunk(messageID: message.id, number: number) else { throw MeshError.noLongerAvailable }
            for index in 0..<chunk.segmentCount {
                guard let segment = try await store.segment(of: chunk, index: index) else { throw MeshError.noLongerAvailable }
                segment.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
                bytes += Int64(segment.readableBytes)
            }
        }
        let result = (hexString(hasher.finalize()), bytes)
        payloadDigests.withLock { cache in
            if cache.count >= 100_000 { cache.removeAll(keepingCapacity: true) }
            cache[message.id] = result
        }
        return result
    }

    /// The receipt of a delivered message, made and then checked as a reader of it would check it
    /// (the console's message page): the signature verified by OpenSSL against the receipt
    /// certificate, and the payload held now against the SHA-256 recorded when it was sent. Nil when
    /// receipts are off, the message is not a delivered data message, or its payload is gone.
    public func checkedReceipt(for message: MessageRecord) async throws -> ReceiptCheck? {
        guard message.deliveredAt != nil, message.type == .data, let signer = receiptSigner else { return nil }
        let digest: String
        let bytes: Int64
        do {
            (digest, bytes) = try await payloadDigest(of: message)
        } catch let error as MeshError where error == .noLongerAvailable {
            return nil
        }
        let canonical = CrossingReceipt.canonical(message, payloadSHA256: digest, payloadBytes: bytes)
        let signature = try signer.sign(Array(canonical.utf8))
        return ReceiptCheck(
            receipt: canonical, signature: signature, certificatePEM: signer.certificatePEM, certificateNotAfter: signer.certificateNotAfter,
            signatureVerified: signer.verify(Array(canonical.utf8), signaturePEM: signature),
            payloadMatches: message.crossing?.derived?.payloadSHA256.map { $0 == digest })
    }
}
