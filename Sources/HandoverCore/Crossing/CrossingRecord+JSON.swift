/// The record's JSON, written by hand with keys in sorted order: the same text `Codable` would
/// produce with `.sortedKeys`, at a fraction of the cost (it is written on every send and read on
/// every download). `CrossingRecordJSONTests` checks the two agree.
extension CrossingRecord {
    public var jsonValue: JSONValue {
        .compact([
            ("consent", consent?.jsonValue), ("derived", derived?.jsonValue), ("flags", .array(flags.map(\.jsonValue))),
            ("intent", intent?.jsonValue), ("lawful_basis", lawfulBasis?.jsonValue), ("provenance", provenance?.jsonValue),
            ("sources", .object(sources.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value.rawValue)) })),
            ("subjects", subjects.isEmpty ? nil : .array(subjects.map(\.jsonValue))),
        ])
    }
}

private func text(_ s: String?) -> JSONValue? { s.map(JSONValue.string) }
private func flag(_ b: Bool?) -> JSONValue? { b.map(JSONValue.bool) }

extension CrossingSubject {
    var jsonValue: JSONValue {
        .compact([
            ("local_ids", localIDs.map { .array($0.map { .object([("system", .string($0.system)), ("value", .string($0.value))]) }) }),
            ("nhs_number", text(nhsNumber)), ("nhs_number_absent_reason", text(nhsNumberAbsentReason)),
            ("nhs_number_hash", text(nhsNumberHash)), ("nhs_number_status", text(nhsNumberStatus)), ("restricted", flag(restricted)),
        ])
    }
}

extension LawfulBasis {
    var jsonValue: JSONValue {
        .compact([
            ("article10", flag(article10)), ("article6", text(article6)), ("article9", text(article9)),
            ("confidentiality", text(confidentiality)), ("dpa18_sch1", text(schedule1)),
        ])
    }
}

extension Consent {
    var jsonValue: JSONValue {
        .compact([
            ("decided_by", text(decidedBy)), ("objection", flag(objection)), ("person_aware", flag(personAware)),
            ("reason", text(reason)), ("restrictions", restrictions.map { .array($0.map(JSONValue.string)) }), ("state", text(state)),
        ])
    }
}

extension Provenance {
    var jsonValue: JSONValue {
        .compact([
            ("author", author.map { .compact([("name", text($0.name)), ("professional_id", text($0.professionalID)), ("role", text($0.role))]) }),
            ("created_at", text(createdAt)), ("system", text(system)),
        ])
    }
}

extension ClinicalIntent {
    var jsonValue: JSONValue {
        .compact([
            ("action", text(action)), ("immediate_risk", flag(immediateRisk)), ("priority", text(priority)), ("purpose", text(purpose)),
            ("question", text(question)), ("respond_by", text(respondBy)),
        ])
    }
}

extension CrossingFlag {
    var jsonValue: JSONValue {
        .object([("field", .string(field)), ("flow", .string(flow)), ("reason", .string(reason)), ("shown", .bool(shown))])
    }
}

extension CrossingDerived {
    var jsonValue: JSONValue {
        .compact([
            ("accept_by", text(acceptBy)), ("certificate_matches_sender", flag(certificateMatchesSender)), ("fhir", fhir?.jsonValue),
            (
                "off_system",
                offSystem.map { o in
                    .compact([
                        ("anonymous", flag(o.anonymous)), ("channel", .string(o.channel)),
                        ("occurred_at", .string(o.occurredAt)), ("recorded_by", .string(o.recordedBy)),
                        ("workflow_id", .string(o.workflowID)),
                    ])
                }
            ),
            ("payload_sha256", text(payloadSHA256)),
            ("received_at", text(receivedAt)), ("receiver_organisation", text(receiverOrganisation)),
            (
                "route",
                route.map { r in
                    .compact([
                        ("address", .string(r.address)), ("addressed_by", .string(r.addressedBy.rawValue)),
                        ("directory_version", .int(r.directoryVersion)), ("service", text(r.service)),
                    ])
                }
            ),
            ("sender_authority", text(senderAuthority)), ("sender_domain", text(senderDomain)), ("sender_mailbox", text(senderMailbox)),
            ("sender_organisation", text(senderOrganisation)), ("sender_public_authority", flag(senderPublicAuthority)),
        ])
    }
}

extension FHIRMessageFacts {
    var jsonValue: JSONValue {
        .compact([
            ("bus_ack_requested", flag(busAckRequested)), ("duplicate", flag(duplicate)), ("event_code", text(eventCode)),
            ("event_system", text(eventSystem)), ("format", .string(format.rawValue)), ("inf_ack_requested", flag(infAckRequested)),
            ("message_id", text(messageID)), ("priority", text(priority)), ("recipient_type", text(recipientType)),
            ("sender_reference", text(senderReference)), ("version", .string(version)),
        ])
    }
}
