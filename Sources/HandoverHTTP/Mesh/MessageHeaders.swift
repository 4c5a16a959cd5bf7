import HTTPTypes
import HandoverCore

/// The `mex-*` headers of a download or HEAD (reference §5.3). Empty values are omitted.
enum MessageHeaders {
    /// The `Mex-From` of messages the broker sends itself.
    static let brokerSender = "HANDOVER"

    static func name(_ text: String) -> HTTPField.Name { HTTPField.Name(text)! }

    static func fields(for message: MessageRecord, chunk: Int, sandbox: Bool) -> HTTPFields {
        var h = HTTPFields()
        func set(_ key: String, _ value: String?) {
            if let value, !value.isEmpty { h[name(key)] = value }
        }
        // Messages the broker itself sends (alerts and their notices) say so, rather than carry no sender.
        set("mex-from", message.type == .data ? (message.sender?.rawValue ?? Self.brokerSender) : nil)
        set("mex-to", message.mexTo)
        set("mex-workflowid", message.workflowID)
        set("mex-chunk-range", "\(message.type == .report ? 1 : chunk):\(message.totalChunks)")
        set("mex-total-chunks", String(message.totalChunks))
        set("mex-addresstype", "ALL")
        set("mex-localid", message.localID)
        set("mex-partnerid", message.partnerID)
        set("mex-filename", message.effectiveFileName)
        set("mex-subject", message.subject)
        set("mex-version", "1.0")
        set("mex-messagetype", message.type.rawValue)
        set("mex-messageid", message.id.rawValue)
        let event = message.statusEvent ?? .transferred(at: message.deliveredAt ?? message.createdAt)
        set("mex-statuscode", event.code)
        set("mex-statusevent", event.event)
        set("mex-statusdescription", event.description)
        set("mex-statussuccess", message.type == .report || !event.success ? "ERROR" : "SUCCESS")
        set("mex-statustimestamp", event.at.compactUTC)
        set("mex-linkedmsgid", message.linkedMessageID?.rawValue)
        if message.contentCompressed == true { set("mex-content-compressed", "Y") }
        if message.contentEncrypted == true { set("mex-content-encrypted", "Y") }
        set("mex-content-checksum", message.checksum)
        set("mex-content-type", message.contentType)
        // Handover's extension, without who the message is about: headers reach proxy logs.
        set("mex-handover-crossing", message.crossing?.headerValue)
        h[.lastModified] = event.at.httpDate
        return h
    }
}
