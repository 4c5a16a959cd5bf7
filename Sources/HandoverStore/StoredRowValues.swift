import HandoverCore

/// Receives a stored row's values one at a time, in column order and typed, so each store binds them
/// its own way (SQLite straight into the statement, PostgreSQL into a list or a batch's columns)
/// without boxing every value first, and the order is written once, beside the column names.
public protocol RowValueSink {
    mutating func add(_ value: String?)
    mutating func add(_ value: Int64?)
    mutating func add(_ value: Bool?)
    mutating func add(_ value: Double?)
}

extension RowValueSink {
    public mutating func add(_ value: Int) { add(Int64(value)) }
    /// Times are stored as microseconds since the epoch.
    public mutating func add(_ value: Timestamp?) { add(value?.microsecondsSinceEpoch) }
}

/// A crossing record's stored text, made before a write is queued: serializing the record inside
/// SQLite's single writer was about 4 % of that writer's CPU in a profile of saturated sends, work
/// every other send then queued behind.
public struct CrossingText: Sendable {
    let record: CrossingRecord?
    let text: String?

    public init(_ record: CrossingRecord?) {
        self.record = record
        text = record.flatMap(MessageRecord.crossingText)
    }

    /// The text of `other`: the one made beforehand when it is the same record (the comparison did not
    /// show in the writer's profile, where serializing was 4 %), otherwise made now.
    func text(for other: CrossingRecord?) -> String? { other == record ? text : other.flatMap(MessageRecord.crossingText) }
}

extension MessageRecord {
    /// `received_chunks, file_size, status, status_code, status_event, status_description,
    /// status_success, status_at`: in this order in the stored row and in SQLite's update of it.
    public func addProgressAndStatus(to row: inout some RowValueSink) {
        row.add(receivedChunks)
        row.add(fileSize)
        row.add(status.rawValue)
        row.add(statusEvent?.code)
        row.add(statusEvent?.event)
        row.add(statusEvent?.description)
        row.add(statusEvent?.success)
        row.add(statusEvent?.at)
    }

    /// The row's values in `storedColumns` order; without `inbox_seq` where the statement computes it.
    /// `crossingText`: the crossing's text made beforehand (checked against the record's own).
    public func addStoredValues(
        to row: inout some RowValueSink, inboxSequence withInboxSequence: Bool = true, crossingText: CrossingText? = nil
    ) {
        row.add(id.rawValue)
        row.add(type.rawValue)
        row.add(sender?.rawValue)
        row.add(recipient.rawValue)
        row.add(workflowID)
        row.add(subject)
        row.add(localID)
        row.add(partnerID)
        row.add(fileName)
        row.add(checksum)
        row.add(contentType)
        row.add(contentEncoding.rawValue)
        row.add(contentCompressed)
        row.add(contentEncrypted)
        row.add(totalChunks)
        addProgressAndStatus(to: &row)
        row.add(linkedMessageID?.rawValue)
        row.add(createdAt)
        row.add(deliveredAt)
        row.add(acknowledgedAt)
        row.add(expiresAt)
        row.add(expirySeconds)
        if withInboxSequence { row.add(inboxSequence) }
        row.add(route?.addressedBy.rawValue)
        row.add(route?.address)
        row.add(route?.service)
        row.add(route?.directoryVersion)
        row.add(escalationPolicy)
        row.add(responsibilityRequired)
        row.add(responsibilityJSON)
        row.add(downloadedAt)
        row.add(crossingText.map { $0.text(for: crossing) } ?? crossingJSON)
        row.add(fhirMessageID)
        row.add(crossingClosedAt)
    }
}

extension ScorecardRow {
    /// The facts row's values in `ScorecardSQL.columns` order, the flags as 0 or 1 (INTEGER columns
    /// in both databases).
    public func addStoredValues(to row: inout some RowValueSink) {
        func flag(_ b: Bool) -> Int64 { b ? 1 : 0 }
        row.add(messageID.rawValue)
        row.add(senderOrganisation)
        row.add(receiverOrganisation)
        row.add(workflowID)
        row.add(createdAt)
        row.add(identity)
        row.add(flag(consent))
        row.add(flag(provenance))
        row.add(flag(clinicalIntent))
        row.add(flag(forInformation))
        row.add(flag(serviceRouting))
        row.add(flag(outcome))
        row.add(acceptBy)
        row.add(acceptedAt)
        row.add(secondsToAcceptance)
        row.add(secondsToOutcome)
    }
}
