import Foundation
import HandoverCore
import HandoverStore
import Hummingbird

extension MeshEndpoints {
    struct RedirectBody: Decodable {
        /// Where it should have gone: a mailbox id, `ORG:`, `AREA:` or `POSTCODE:` address.
        var to: String
        var by: Person?
        var note: String?
    }

    struct WithdrawBody: Decodable {
        var by: Person?
        var reason: String?
    }

    /// `POST /messageexchange/{MB}/inbox/{ID}/redirect`: the recipient sends a message that reached the
    /// wrong team or council on to the right one; the sender is told.
    func redirect(_ request: Request, _ context: Context) async throws -> Response {
        let caller = try context.meshCaller()
        let id = try context.pathMessageID()
        let body: RedirectBody = try await decodeBody(request)
        let moved = try await applying {
            try await desk.redirect(
                messageID: id, recipient: caller.mailbox, to: body.to, by: body.by ?? Person(name: ""), note: body.note,
                index: caller.directory, now: broker.clock(), allowUnknownWorkflows: broker.configuration.sandbox)
        }
        broker.onDelivered()
        context.logger.info(
            "message redirected",
            metadata: ["handover.message_id": "\(id)", "handover.mailbox": "\(caller.mailbox)", "handover.recipient": "\(moved.recipient)"])
        return .json(
            .compact([
                ("message_id", .string(id.rawValue)), ("recipient", .string(moved.recipient.rawValue)), ("route", moved.route?.json),
                ("responsibility", TrackingView.responsibilityJSON(moved.responsibility ?? ResponsibilityRecord())),
            ]))
    }

    /// `POST /messageexchange/{MB}/outbox/{ID}/withdraw`: the sender takes a message back with a reason.
    func withdraw(_ request: Request, _ context: Context) async throws -> Response {
        let caller = try context.meshCaller()
        let id = try context.pathMessageID()
        let body: WithdrawBody = try await decodeBody(request)
        let withdrawn = try await applying {
            try await desk.withdraw(
                messageID: id, sender: caller.mailbox, by: body.by ?? Person(name: ""), reason: body.reason, index: caller.directory,
                now: broker.clock())
        }
        context.logger.info("message withdrawn", metadata: ["handover.message_id": "\(id)", "handover.mailbox": "\(caller.mailbox)"])
        return .json(
            .compact([
                ("message_id", .string(id.rawValue)),
                ("responsibility", TrackingView.responsibilityJSON(withdrawn.responsibility ?? ResponsibilityRecord())),
            ]))
    }

    /// `POST /messageexchange/{MB}/outbox/{ID}/amend`: the body is the replacement payload (one part,
    /// not compressed); `Mex-Handover-Amend` carries `{"by":{…},"reason":"…"}` as base64url JSON,
    /// like `Mex-Handover-Crossing`; `mex-subject`, `mex-localid`, `mex-filename` and `content-type`
    /// are read as on a send. Answers 202 with the replacement's id.
    func amend(_ request: Request, _ context: Context) async throws -> Response {
        let caller = try context.meshCaller()
        let id = try context.pathMessageID()
        let about: WithdrawBody = try Self.amendHeader(request.header("mex-handover-amend"))
        guard ContentEncoding(header: request.header("content-encoding")) == .identity else { throw MeshError.unsupportedEncoding }
        let limit = Int(min(Int64(ResponsibilityDesk.maximumAmendmentBytes), broker.configuration.maxRequestBytes))
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch {
            throw MeshError.payloadTooLarge
        }
        guard buffer.readableBytes > 0 else { throw MeshError.dataFileMissing }
        let replacement = ResponsibilityDesk.Replacement(
            body: Array(buffer.readableBytesView), subject: request.header("mex-subject"), localID: request.header("mex-localid"),
            contentType: request.header("content-type"), fileName: request.header("mex-filename"))
        let now = broker.clock()
        let (_, newID) = try await applying {
            try await desk.amend(
                messageID: id, sender: caller.mailbox, with: replacement, by: about.by ?? Person(name: ""), reason: about.reason, now: now)
        }
        broker.onDelivered()
        context.logger.info(
            "message amended",
            metadata: ["handover.message_id": "\(id)", "handover.mailbox": "\(caller.mailbox)", "handover.replacement": "\(newID)"])
        return .json(.object([("message_id", .string(newID.rawValue)), ("replaces", .string(id.rawValue))]), status: .accepted)
    }

    static func amendHeader(_ text: String?) throws -> WithdrawBody {
        let refusal = MeshError(
            .badResponsibilityBody, event: "SEND", message: "Mex-Handover-Amend must be base64url JSON: {\"by\":{\"name\":…},\"reason\":…}")
        guard let text, text.utf8.count <= 8 * 1024, let bytes = base64URLDecode(text) else { throw refusal }
        do {
            return try JSONDecoder().decode(WithdrawBody.self, from: Data(bytes))
        } catch {
            throw refusal
        }
    }
}
