import Foundation

extension CrossingRecord {
    /// The record as JSON with sorted keys: the same record always reads and signs the same way.
    public var json: JSONValue { jsonValue }

    /// `Mex-Handover-Crossing` on a download or HEAD: the record without its subject, base64url.
    public var headerValue: String { base64URLEncode(Array(withoutSubject.json.serialized.utf8)) }
}

extension MessageRecord {
    public enum CrossingAudience: Sendable {
        /// The recipient: everything.
        case recipient
        /// The sender and the receipt both ends share: restricted subjects masked.
        case bothEnds
        /// Headers and tracking: no subject at all.
        case anyone
    }

    /// The whole crossing: declared and derived parts, the flags, and what the receiver asserted
    /// when it decided (its own lawful basis), cut to what `audience` may see.
    public func crossingJSON(for audience: CrossingAudience) -> JSONValue {
        var record = crossing ?? CrossingRecord()
        // What the message itself records, shown in the record rather than stored in it twice.
        var derived =
            record.derived
            ?? CrossingDerived(
                senderMailbox: nil, senderOrganisation: nil, senderDomain: nil, senderAuthority: nil,
                senderPublicAuthority: nil, receivedAt: nil, payloadSHA256: nil, route: nil,
                certificateMatchesSender: nil, fhir: nil)
        derived.senderMailbox = derived.senderMailbox ?? sender?.rawValue
        derived.receivedAt = derived.receivedAt ?? createdAt.isoUTC
        derived.route = derived.route ?? route
        record.derived = derived
        var view: JSONValue
        switch audience {
        case .recipient: view = record.json
        case .bothEnds: view = record.withRestrictedSubjectsMasked.json
        case .anyone: view = record.withoutSubject.json
        }
        if case .object(var pairs) = view {
            pairs.append(("message_id", .string(id.rawValue)))
            pairs.append(("workflow_id", .string(workflowID)))
            if let r = responsibility, r.state != .pending {
                pairs.append(
                    (
                        "receiver",
                        .compact([
                            ("decision", .string(r.state.rawValue)), ("by", r.decidedBy.map(personJSON)),
                            ("at", r.decidedAt.map { .string($0.isoUTC) }),
                            ("lawful_basis", r.receiverBasis.map(\.jsonValue)),
                        ])
                    ))
            }
            view = .object(pairs)
        }
        return view
    }
}
