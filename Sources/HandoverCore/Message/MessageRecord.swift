/// MESH message statuses (reference §5.2). The status is the newest event's.
public enum MessageStatus: String, Hashable, Sendable, Codable, CaseIterable {
    case uploading
    case accepted
    case acknowledged
    case undeliverable
    case error

    /// Title case, as v1 tracking shows it.
    public var titleCase: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }
}

public enum MessageType: String, Hashable, Sendable, Codable {
    case data = "DATA"
    case report = "REPORT"

    public var titleCase: String { self == .data ? "Data" : "Report" }
}

/// The status event that MESH exposes as `mex-status*` headers and in tracking.
public struct StatusEvent: Hashable, Sendable, Codable {
    public var code: String
    public var event: String
    public var description: String
    public var success: Bool
    public var at: Timestamp

    public init(code: String, event: String, description: String, success: Bool, at: Timestamp) {
        (self.code, self.event, self.description, self.success, self.at) = (code, event, description, success, at)
    }

    public static func transferred(at: Timestamp) -> StatusEvent {
        StatusEvent(code: "00", event: "TRANSFER", description: "Transferred to recipient mailbox", success: true, at: at)
    }

    /// A chunked upload whose remaining chunks never came (Handover's own code: MESH has none).
    public static func uploadAbandoned(hours: Int64, at: Timestamp) -> StatusEvent {
        StatusEvent(
            code: HandoverErrorCode.uploadIncomplete.rawValue, event: "SEND",
            description: "Upload not completed within \(hours) hours; the message was discarded", success: false, at: at)
    }

    public static func notCollected(days: Int, at: Timestamp) -> StatusEvent {
        StatusEvent(code: "14", event: "SEND", description: "Message not collected by recipient after \(days) days", success: false, at: at)
    }
}

/// How a message was addressed and where it went (contract §3), recorded on the message.
public struct RouteTaken: Hashable, Sendable, Codable {
    public enum AddressedBy: String, Hashable, Sendable, Codable { case mailbox, organisation, area, postcode, system }
    public var addressedBy: AddressedBy
    public var address: String
    public var service: String?
    public var directoryVersion: Int64

    enum CodingKeys: String, CodingKey {
        case address, service
        case addressedBy = "addressed_by", directoryVersion = "directory_version"
    }

    public init(addressedBy: AddressedBy, address: String, service: String? = nil, directoryVersion: Int64) {
        (self.addressedBy, self.address, self.service, self.directoryVersion) = (addressedBy, address, service, directoryVersion)
    }

    /// As tracking, receipts and the admin API show it (receipts sign these bytes: keep the order).
    public var json: JSONValue {
        .compact([
            ("addressed_by", .string(addressedBy.rawValue)), ("address", .string(address)),
            ("service", service.map { .string($0) }), ("directory_version", .int(directoryVersion)),
        ])
    }
}

/// Everything the broker keeps about a message except its payload.
public struct MessageRecord: Hashable, Sendable {
    public var id: MessageID
    public var type: MessageType
    public var sender: MailboxID?
    public var recipient: MailboxID
    public var workflowID: String
    public var subject: String?
    public var localID: String?
    public var partnerID: String?
    public var fileName: String?
    public var checksum: String?
    public var contentType: String?
    public var contentEncoding: ContentEncoding
    public var contentCompressed: Bool?
    public var contentEncrypted: Bool?
    public var totalChunks: Int
    public var receivedChunks: Int
    public var fileSize: Int64
    public var status: MessageStatus
    public var statusEvent: StatusEvent?
    public var linkedMessageID: MessageID?
    public var createdAt: Timestamp
    public var deliveredAt: Timestamp?
    public var acknowledgedAt: Timestamp?
    /// When an undownloaded, unacknowledged message expires (set on delivery from the workflow's expiry).
    public var expiresAt: Timestamp?
    /// How long after delivery it expires (the workflow's `expiry`, default 5 days).
    public var expirySeconds: Int64
    /// Position in the recipient's inbox, assigned on delivery; the cursor is built from it.
    public var inboxSequence: Int64?
    public var route: RouteTaken?
    /// The escalation policy captured from the workflow at send time.
    public var escalationPolicy: String?
    /// Whether the workflow requires a named person to accept responsibility.
    public var responsibilityRequired: Bool
    public var responsibility: ResponsibilityRecord?
    /// The first download by the recipient.
    public var downloadedAt: Timestamp?
    /// The crossing's governance (identity, lawful basis, provenance, intent), fixed at send. Held
    /// in a box: a message record is copied often on the send path, and the record is large.
    public var crossing: CrossingRecord? {
        get { crossingBox?.value }
        set { crossingBox = newValue.map(CrossingBox.init) }
    }
    private var crossingBox: CrossingBox?

    public init(
        id: MessageID, type: MessageType = .data, sender: MailboxID?, recipient: MailboxID, workflowID: String,
        subject: String? = nil, localID: String? = nil, partnerID: String? = nil, fileName: String? = nil,
        checksum: String? = nil, contentType: String? = nil, contentEncoding: ContentEncoding = .identity,
        contentCompressed: Bool? = nil, contentEncrypted: Bool? = nil, totalChunks: Int, receivedChunks: Int = 0,
        fileSize: Int64 = 0, status: MessageStatus, statusEvent: StatusEvent? = nil, linkedMessageID: MessageID? = nil,
        createdAt: Timestamp, deliveredAt: Timestamp? = nil, acknowledgedAt: Timestamp? = nil, expiresAt: Timestamp? = nil,
        expirySeconds: Int64 = 5 * 86_400, inboxSequence: Int64? = nil, route: RouteTaken? = nil,
        escalationPolicy: String? = nil, responsibilityRequired: Bool = false, responsibility: ResponsibilityRecord? = nil,
        downloadedAt: Timestamp? = nil, crossing: CrossingRecord? = nil
    ) {
        self.id = id
        self.type = type
        self.sender = sender
        self.recipient = recipient
        self.workflowID = workflowID
        self.subject = subject
        self.localID = localID
        self.partnerID = partnerID
        self.fileName = fileName
        self.checksum = checksum
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.contentCompressed = contentCompressed
        self.contentEncrypted = contentEncrypted
        self.totalChunks = totalChunks
        self.receivedChunks = receivedChunks
        self.fileSize = fileSize
        self.status = status
        self.statusEvent = statusEvent
        self.linkedMessageID = linkedMessageID
        self.createdAt = createdAt
        self.deliveredAt = deliveredAt
        self.acknowledgedAt = acknowledgedAt
        self.expiresAt = expiresAt
        self.expirySeconds = expirySeconds
        self.inboxSequence = inboxSequence
        self.route = route
        self.escalationPolicy = escalationPolicy
        self.responsibilityRequired = responsibilityRequired
        self.responsibility = responsibility
        self.downloadedAt = downloadedAt
        self.crossing = crossing
    }

    /// The file name MESH reports: as sent, or `<ID>.dat`.
    public var effectiveFileName: String { fileName ?? "\(id.rawValue).dat" }
}

extension MessageRecord {
    /// The `Mex-To` a client sees: the recipient, except on a REPORT, where MESH names the intended
    /// receiver of the undelivered message (kept as the report's system route address).
    public var mexTo: String {
        if type == .report, let route, route.addressedBy == .system { return route.address }
        return recipient.rawValue
    }
}

extension MessageRecord {
    /// The facts escalation rules look at.
    public var escalationFacts: EscalationFacts {
        EscalationFacts(
            deliveredAt: deliveredAt ?? createdAt, downloaded: downloadedAt != nil, acknowledged: acknowledgedAt != nil,
            responsibility: responsibility?.state ?? .pending, hasOutcome: responsibility?.outcomeCode != nil,
            closed: status == .uploading || responsibility?.state.closedBySender == true)
    }
}
