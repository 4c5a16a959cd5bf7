import HTTPTypes
import HandoverCore

/// The `mex-*` headers of a download or HEAD (reference §5.3). Empty values are omitted.
enum MessageHeaders {
    /// The `Mex-From` of messages the broker sends itself.
    static let brokerSender = "HANDOVER"

    static func name(_ text: String) -> HTTPField.Name { HTTPField.Name(text)! }

    static func fields(for message: MessageRecord, chunk: Int, sandbox: Bool) -> HTTPFields {
        var h = HTTPFields()
        h.reserveCapacity(28)
        // Each name is made once (`Mex`), and appended rather than set: a name made and checked per
        // header, and a search of the fields before each, were about 1 % of a full cycle's CPU.
        func set(_ name: HTTPField.Name, _ value: String?) {
            if let value, !value.isEmpty { h.append(HTTPField(name: name, value: value)) }
        }
        // Messages the broker itself sends (alerts and their notices) say so, rather than carry no sender.
        set(Mex.from, message.type == .data ? (message.sender?.rawValue ?? Self.brokerSender) : nil)
        set(Mex.to, message.mexTo)
        set(Mex.workflowID, message.workflowID)
        set(Mex.chunkRange, "\(message.type == .report ? 1 : chunk):\(message.totalChunks)")
        set(Mex.totalChunks, String(message.totalChunks))
        set(Mex.addressType, "ALL")
        set(Mex.localID, message.localID)
        set(Mex.partnerID, message.partnerID)
        set(Mex.fileName, message.effectiveFileName)
        set(Mex.subject, message.subject)
        set(Mex.version, "1.0")
        set(Mex.messageType, message.type.rawValue)
        set(Mex.messageID, message.id.rawValue)
        let event = message.statusEvent ?? .transferred(at: message.deliveredAt ?? message.createdAt)
        set(Mex.statusCode, event.code)
        set(Mex.statusEvent, event.event)
        set(Mex.statusDescription, event.description)
        set(Mex.statusSuccess, message.type == .report || !event.success ? "ERROR" : "SUCCESS")
        set(Mex.statusTimestamp, event.at.compactUTC)
        set(Mex.linkedMessageID, message.linkedMessageID?.rawValue)
        if message.contentCompressed == true { set(Mex.contentCompressed, "Y") }
        if message.contentEncrypted == true { set(Mex.contentEncrypted, "Y") }
        set(Mex.contentChecksum, message.checksum)
        set(Mex.contentType, message.contentType)
        // Handover's extension, without who the message is about: headers reach proxy logs.
        set(Mex.handoverCrossing, message.crossing?.headerValue)
        set(.lastModified, event.at.httpDate)
        return h
    }

    /// The names, made once.
    enum Mex {
        static let from = name("mex-from")
        static let to = name("mex-to")
        static let workflowID = name("mex-workflowid")
        static let chunkRange = name("mex-chunk-range")
        static let totalChunks = name("mex-total-chunks")
        static let addressType = name("mex-addresstype")
        static let localID = name("mex-localid")
        static let partnerID = name("mex-partnerid")
        static let fileName = name("mex-filename")
        static let subject = name("mex-subject")
        static let version = name("mex-version")
        static let messageType = name("mex-messagetype")
        static let messageID = name("mex-messageid")
        static let statusCode = name("mex-statuscode")
        static let statusEvent = name("mex-statusevent")
        static let statusDescription = name("mex-statusdescription")
        static let statusSuccess = name("mex-statussuccess")
        static let statusTimestamp = name("mex-statustimestamp")
        static let linkedMessageID = name("mex-linkedmsgid")
        static let contentCompressed = name("mex-content-compressed")
        static let contentEncrypted = name("mex-content-encrypted")
        static let contentChecksum = name("mex-content-checksum")
        static let contentType = name("mex-content-type")
        static let handoverCrossing = name("mex-handover-crossing")
    }
}
