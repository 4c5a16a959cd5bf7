import Foundation

extension CrossingRecord {
    /// The record as JSON with sorted keys: the same record always reads and signs the same way.
    public var json: JSONValue {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return .null }
        return .stored(String(decoding: data, as: UTF8.self))
    }

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
        let record = crossing ?? CrossingRecord()
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
                pairs.append(("receiver", .compact([
                    ("decision", .string(r.state.rawValue)), ("by", r.decidedBy.map(personJSON)), ("at", r.decidedAt.map { .string($0.isoUTC) }),
                    ("lawful_basis", r.receiverBasis.map { CrossingRecord(CrossingDeclaration(lawfulBasis: $0)).json["lawful_basis"] ?? .null }),
                ])))
            }
            view = .object(pairs)
        }
        return view
    }
}
