import HandoverCore
import HandoverStore
import Hummingbird

extension MeshEndpoints {
    /// `GET /messageexchange/{MB}/outbox/tracking?messageID=`: the sender's view. A non-sender gets 404,
    /// not 403, as Spine does, so ids in other mailboxes cannot be probed.
    func trackByMessageID(_ request: Request, _ context: Context) async throws -> Response {
        let caller = try context.meshCaller()
        let (mailbox, version) = (caller.mailbox, caller.version)
        guard let raw = request.uri.queryParameters.get("messageID"), !raw.isEmpty else {
            throw MeshError.badRequest("messageID query parameter is required")
        }
        guard let message = try await broker.store.message(MessageID(raw)), message.sender == mailbox else { throw MeshError.notFound }
        let index = caller.directory
        if version == .v2 {
            let events = try await broker.store.events(messageID: message.id)
            let alerts = try await broker.store.alerts(messageID: message.id)
            return .json(TrackingView.v2(message, index: index, events: events, alerts: alerts), contentType: Response.v2JSON)
        }
        return .json(TrackingView.v1(message, index: index))
    }

    /// `GET /messageexchange/{MB}/outbox/tracking/{localID}` (deprecated, v1 shape always): 300 if
    /// several of the mailbox's messages share the local id.
    func trackByLocalID(_ request: Request, _ context: Context) async throws -> Response {
        let caller = try context.meshCaller()
        let mailbox = caller.mailbox
        guard let localID = context.parameters.get("localID") else { throw MeshError.notFound }
        let found = try await broker.store.messages(sender: mailbox, localID: localID)
        guard let message = found.first else { throw MeshError.notFound }
        guard found.count == 1 else { throw MeshError.multipleLocalIDs }
        return .json(TrackingView.v1(message, index: caller.directory))
    }
}

/// Tracking bodies (reference §4.9), plus Handover's `handover` object with the route taken.
enum TrackingView {
    static func v2(_ m: MessageRecord, index: DirectoryIndex, events: [MessageEvent] = [], alerts: [Alert] = []) -> JSONValue {
        let recipient = index.mailboxes[m.recipient]
        let org = recipient.flatMap { index.organisations[$0.organisation] }
        let errorEvent = m.statusEvent.flatMap { $0.success ? nil : $0 }
        return .compact([
            ("message_id", .string(m.id.rawValue)),
            ("local_id", m.localID.map { .string($0) }),
            ("workflow_id", .string(m.workflowID)),
            ("filename", .string(m.effectiveFileName)),
            ("expiry_time", m.expiresAt.map { .string($0.naiveISO) }),
            ("upload_timestamp", .string(m.createdAt.naiveISO)),
            ("recipient", .string(m.recipient.rawValue)),
            ("recipient_name", recipient.map { .string($0.name) }),
            ("recipient_ods_code", recipient.map { .string($0.organisation.rawValue) }),
            ("recipient_org_code", recipient.map { .string($0.organisation.rawValue) }),
            ("recipient_org_name", .string(org?.name ?? "")),
            ("status_success", .bool(errorEvent == nil)),
            ("status", .string(m.status.rawValue)),
            ("status_event", errorEvent.map { .string($0.event) }),
            ("status_timestamp", errorEvent.map { .string($0.at.naiveISO) }),
            ("status_description", errorEvent.map { .string($0.description) }),
            ("status_code", errorEvent.map { .string($0.code) }),
            ("handover", handoverObject(m, events: events, alerts: alerts)),
        ])
    }

    static func responsibilityJSON(_ r: ResponsibilityRecord) -> JSONValue {
        .compact([
            ("state", .string(r.state.rawValue)), ("by", r.decidedBy.map(personJSON)), ("at", r.decidedAt.map { .string($0.isoUTC) }),
            ("note", r.note.map { .string($0) }), ("reason", r.declineReason.map { .string($0) }),
            (
                "outcome",
                r.outcomeCode.map { code in
                    .compact([
                        ("code", .string(code)), ("detail", r.outcomeDetail.map { .string($0) }), ("by", r.outcomeBy.map(personJSON)),
                        ("at", r.outcomeAt.map { .string($0.isoUTC) }),
                    ])
                }
            ),
            ("redirects", r.redirects.map { .array($0.map(\.json)) }),
            (
                "closed",
                r.closedAt.map { at in
                    .compact([
                        ("by", r.closedBy.map(personJSON)), ("at", .string(at.isoUTC)), ("reason", r.closedReason.map { .string($0) }),
                        ("replaced_by", r.replacedBy.map { .string($0) }),
                    ])
                }
            ),
        ])
    }

    /// Handover's additions to tracking (contract §4): route, responsibility, outcome, open alerts, timeline.
    static func handoverObject(_ m: MessageRecord, events: [MessageEvent], alerts: [Alert]) -> JSONValue {
        .compact([
            ("responsibility_required", .bool(m.responsibilityRequired)),
            (
                "responsibility",
                m.responsibilityRequired || m.responsibility != nil ? responsibilityJSON(m.responsibility ?? ResponsibilityRecord()) : nil
            ),
            ("open_alerts", .array(alerts.filter { $0.state != .resolved }.map { $0.json(message: m, forMailbox: true) })),
            (
                "timeline",
                .array(
                    events.map { e in
                        .object([("at", .string(e.at.isoUTC)), ("event", .string(e.kind)), ("detail", .stored(e.detail))])
                    })
            ),
            ("downloaded_at", m.downloadedAt.map { .string($0.isoUTC) }),
            ("route", m.route?.json),
            ("crossing", m.crossing.map { _ in m.crossingJSON(for: .anyone) }),
            ("delivered_at", m.deliveredAt.map { .string($0.isoUTC) }),
            ("acknowledged_at", m.acknowledgedAt.map { .string($0.isoUTC) }),
        ])
    }

    static func v1(_ m: MessageRecord, index: DirectoryIndex) -> JSONValue {
        let recipient = index.mailboxes[m.recipient]
        let sender = m.sender.flatMap { index.mailboxes[$0] }
        let errorEvent = m.statusEvent.flatMap { $0.success ? nil : $0 }
        let event = m.statusEvent ?? .transferred(at: m.deliveredAt ?? m.createdAt)
        func flag(_ b: Bool?) -> JSONValue { .string(b == true ? "Y" : "") }
        return .object([
            ("addressType", "ALL"), ("checksum", .string(m.checksum ?? "")), ("chunkCount", .int(Int64(m.totalChunks))),
            ("compressFlag", flag(m.contentCompressed)), ("contentEncoding", .string(m.contentEncoding.rawValue)),
            ("downloadTimestamp", .string(m.acknowledgedAt?.compactUTC ?? "")), ("dtsId", .string(m.id.rawValue)),
            ("encryptedFlag", flag(m.contentEncrypted)), ("expiryTime", .string(m.expiresAt?.compactUTC ?? "")),
            ("failureDate", .string(errorEvent?.at.compactUTC ?? "")), ("failureDiagnostic", .string(errorEvent?.description ?? "")),
            ("fileName", .string(m.effectiveFileName)), ("fileSize", .int(m.fileSize)), ("isCompressed", flag(m.contentCompressed)),
            ("linkedMsgId", .string(m.linkedMessageID?.rawValue ?? "")), ("localId", .string(m.localID ?? "")),
            ("meshRecipientOdsCode", .string(recipient?.organisation.rawValue ?? "")), ("messageId", .string(m.id.rawValue)),
            ("messageType", .string(m.type.titleCase)), ("partnerId", .string(m.partnerID ?? "")),
            ("recipient", .string(m.recipient.rawValue)), ("recipientName", .string(recipient?.name ?? "")),
            ("recipientOrgCode", .string(recipient?.organisation.rawValue ?? "")),
            ("recipientOrgName", .string(recipient.flatMap { index.organisations[$0.organisation]?.name } ?? "")),
            ("recipientSmtp", ""), ("sender", .string(m.sender?.rawValue ?? "")), ("senderName", .string(sender?.name ?? "")),
            ("senderOdsCode", .string(sender?.organisation.rawValue ?? "")), ("senderOrgCode", .string(sender?.organisation.rawValue ?? "")),
            ("senderOrgName", .string(sender.flatMap { index.organisations[$0.organisation]?.name } ?? "")), ("senderSmtp", ""),
            ("status", .string(errorEvent != nil ? "Error" : m.status.titleCase)), ("statusCode", .string(event.code)),
            ("statusDescription", .string(event.description)), ("statusEvent", .string(event.event)),
            ("statusSuccess", .string(errorEvent == nil ? "SUCCESS" : "ERROR")), ("statusTimestamp", .string(event.at.compactUTC)),
            ("subject", .string(m.subject ?? "")), ("uploadTimestamp", .string(m.createdAt.compactUTC)), ("version", "1.0"),
            ("workflowId", .string(m.workflowID)),
        ])
    }
}
