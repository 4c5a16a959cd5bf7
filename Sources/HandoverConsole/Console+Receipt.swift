import Foundation
import HTTPTypes
import HandoverCore
import HandoverStore
import Hummingbird

/// A message's receipt for the operators and viewers of either end: on the message page with a
/// "verified" mark the server checked (the broker's signature verified by OpenSSL against its receipt
/// certificate, and the payload held now against the SHA-256 recorded when it was sent), and as a
/// download to check again elsewhere (`openssl cms -verify`). Downloads are audited.
extension Console {
    /// The message named in the path, if this person may open it; otherwise not found, audited.
    func openedMessage(_ context: ConsoleRequestContext, _ access: ConsoleAccess) async throws -> MessageRecord {
        let id = String((context.parameters.get("message") ?? "").prefix(100))
        guard let message = try await store.message(MessageID(id)), access.mayOpen(message) else {
            try await audit(access.user, "console.message_refused", subject: "message \(id)")
            throw ConsoleRefusal.notFound
        }
        return message
    }

    /// `{receipt, signature, certificate}`, as the MESH receipt call answers, as an attachment.
    func receiptDownload(_ context: ConsoleRequestContext) async throws -> Response {
        let (_, access) = try self.access(context, for: .messages)
        let message = try await openedMessage(context, access)
        guard let check = try await receipts?(message) else {
            throw HTTPError(
                .notFound, message: "This message has no receipt: it is not delivered yet, its payload is no longer held, or receipts are off.")
        }
        try await audit(access.user, "console.receipt_downloaded", subject: "message \(message.id.rawValue)")
        let body = JSONValue.object([
            ("receipt", .string(check.receipt)), ("signature", .string(check.signature)), ("certificate", .string(check.certificatePEM)),
        ]).serialized
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.contentDisposition] = "attachment; filename=\"\(message.id.rawValue).receipt.json\""
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }
}
