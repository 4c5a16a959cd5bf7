extension CrossingFacts {
    /// Judges one stored crossing for the scorecard. `notAcceptedDeadline` is when the workflow's
    /// first not-accepted stage falls due for this message (nil when the workflow has none).
    public init(message m: MessageRecord, notAcceptedDeadline: Timestamp?, now: Timestamp) {
        let record = m.crossing ?? CrossingRecord()
        let responsibility = m.responsibility ?? ResponsibilityRecord()
        let accepted = responsibility.state == .accepted
        let forInformation = record.intent?.action == "for-information"
        let delivered = m.deliveredAt ?? m.createdAt

        let basis = record.lawfulBasis?.article6 != nil && record.sources["lawful_basis"] != .default
        let intent = record.intent
        var acceptedInTime: Bool?
        if forInformation {
            acceptedInTime = nil
        } else if let deadline = notAcceptedDeadline {
            if accepted, let at = responsibility.decidedAt { acceptedInTime = at <= deadline } else { acceptedInTime = now < deadline ? nil : false }
        } else {
            acceptedInTime = accepted
        }
        self.init(
            identity: record.subjects.isEmpty ? 0 : record.subjects.map(Self.identityCredit).min() ?? 0,
            consent: basis && (!accepted || responsibility.receiverBasis?.article6 != nil),
            provenance: record.provenance?.author?.name != nil && record.provenance?.createdAt != nil,
            clinicalIntent: intent?.purpose != nil && ClinicalIntent.actions.contains(intent?.action ?? "")
                && (intent?.respondBy != nil || intent?.priority != nil),
            alertResponsibility: acceptedInTime,
            serviceRouting: m.route != nil && m.status != .error && m.status != .undeliverable,
            outcome: forInformation ? nil : responsibility.outcomeCode != nil,
            secondsToAcceptance: accepted ? responsibility.decidedAt.map { $0.secondsSinceEpoch - delivered.secondsSinceEpoch } : nil,
            secondsToOutcome: responsibility.outcomeAt.map { $0.secondsSinceEpoch - delivered.secondsSinceEpoch })
    }

    /// A valid number verified or present-but-not-traced is whole; any other status, or a stated
    /// reason for no number, is half. (A reduced subject's hash stands for its number.)
    static func identityCredit(_ s: CrossingSubject) -> Double {
        if s.nhsNumber != nil || s.nhsNumberHash != nil { return s.nhsNumberStatus == "01" || s.nhsNumberStatus == "02" ? 1 : 0.5 }
        return s.nhsNumberAbsentReason != nil ? 0.5 : 0
    }
}
