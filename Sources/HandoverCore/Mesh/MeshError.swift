/// A MESH protocol error with its HTTP status and the `event`/`code`/`msg` triple of reference §7.
/// The texts are the sandbox's byte for byte, because clients match on them. None carries a payload.
public struct MeshError: Error, Hashable, Sendable {
    /// The HTTP status (`status` in the HTTP layer, as Hummingbird's errors name it).
    public let statusCode: Int
    public let event: String
    public let code: String
    public let message: String
    public var messageID: MessageID?
    /// For 429: how long to wait, sent as `Retry-After`.
    public var retryAfterSeconds: Int?
    /// Handover's own explanation of which rule refused (a routing refusal's), shown after MESH's
    /// text in v2's `msg`; v1's `errorDescription` keeps MESH's text alone, as clients match on it.
    public var reason: String?

    /// MESH's text and, when there is one, the reason after it.
    public var explained: String { reason.map { message + ": " + $0 } ?? message }

    public init(status: Int, event: String, code: String, message: String, messageID: MessageID? = nil) {
        self.statusCode = status
        self.event = event
        self.code = code
        self.message = message
        self.messageID = messageID
    }

    /// The same error with the rule that caused it after MESH's own text
    /// ("Unregistered to address: no service for WF covers postcode district RV9").
    /// One of Handover's own errors, its status from the catalogue.
    public init(_ code: HandoverErrorCode, event: String, message: String, messageID: MessageID? = nil) {
        self.init(status: code.status ?? 400, event: event, code: code.rawValue, message: message, messageID: messageID)
    }

    public func because(_ reason: String) -> MeshError {
        var copy = self
        copy.reason = reason
        return copy
    }

    public func with(messageID: MessageID) -> MeshError {
        var copy = self
        copy.messageID = messageID
        return copy
    }

    // Send-time failures.
    public static let dataFileMissing = MeshError(status: 417, event: "COLLECT", code: "02", message: "Data file is missing or inaccessible.")
    public static let malformedControlFile = MeshError(status: 400, event: "TRANSFER", code: "06", message: "MalformedControlFile")
    public static let toMissing = MeshError(status: 400, event: "SEND", code: "08", message: "TO_DTS missing")
    public static let unregisteredRecipient = MeshError(status: 417, event: "SEND", code: "12", message: "Unregistered to address")
    public static let senderNotAllowed = MeshError(
        status: 417, event: "SEND", code: "16", message: "Sender is not allowed to send messages of this type")
    public static let workflowNotRegistered = MeshError(status: 417, event: "SEND", code: "17", message: "Workflow ID not registered for mailbox")
    public static let multipleMailboxesMatched = MeshError(status: 417, event: "SEND", code: "EPL-150", message: "Multiple mailboxes matches")
    public static let invalidChunks = MeshError(
        status: 417, event: "SEND", code: "InvalidHeaderChunks", message: "Invalid chunk values sent in mex-Chunk-Range header")
    public static let unsupportedEncoding = MeshError(
        status: 422, event: "SEND", code: "UnsupportedContentEncoding", message: "Unsupported content encoding")
    public static let invalidChecksum = MeshError(status: 400, event: "SEND", code: "Invalid checksum", message: "Invalid checksum")
    public static let cannotChangeEncoding = MeshError(status: 417, event: "SEND", code: "", message: "cannot change content encoding")
    public static let chunkLocked = MeshError(status: 423, event: "SEND", code: "", message: "Message is no longer accepting chunks")
    public static let chunkNotAcceptable = MeshError(
        status: 406, event: "SEND", code: "", message: "Chunk number is outside the message's chunk range")
    public static let payloadTooLarge = MeshError(status: 413, event: "SEND", code: "", message: "Request body exceeds the size limit")

    // Receive-time failures.
    public static let messageDoesNotExist = MeshError(status: 404, event: "RECEIVE", code: "20", message: "Message does not exist")
    public static let noLongerAvailable = MeshError(
        status: 410, event: "SEND", code: "Message already accepted", message: "Message no longer available for download")
    public static let forbidden = MeshError(status: 403, event: "", code: "", message: "Forbidden")
    public static let notFound = MeshError(status: 404, event: "", code: "", message: "Not Found")
    public static let multipleLocalIDs = MeshError(status: 300, event: "", code: "", message: "Multiple messages found for this local id")

    // Request-shape failures.
    public static let badAcceptHeader = MeshError(status: 400, event: "", code: "", message: "Accept header api format incorrect")
    public static func badRequest(_ text: String) -> MeshError { MeshError(status: 400, event: "", code: "", message: text) }
    public static func missingHeader(_ name: String) -> MeshError {
        MeshError(status: 400, event: "", code: "", message: "Missing required header \(name)")
    }

    public static func tooManyRequests(retryAfter: Int) -> MeshError {
        var e = MeshError(.rateLimited, event: "", message: "Too many requests from this mailbox; retry after \(retryAfter) s")
        e.retryAfterSeconds = retryAfter
        return e
    }

    public static func auth(_ failure: MeshAuthFailure) -> MeshError {
        failure == .unknownMailbox
            ? MeshError(status: 403, event: "SEND", code: "EPL-151", message: failure.message)
            : MeshError(status: 403, event: "", code: "", message: failure.message)
    }
}
