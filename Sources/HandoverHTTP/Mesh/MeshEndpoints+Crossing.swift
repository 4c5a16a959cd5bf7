import Foundation
import HandoverCore
import HandoverStore
import Hummingbird

extension MeshEndpoints {
    /// `GET /messageexchange/{MB}/inbox/{ID}/crossing` (recipient) and `/outbox/{ID}/crossing`
    /// (sender): the whole crossing record, subject included (a restricted one only for the
    /// recipient); 404 to anyone else.
    func crossing(_ request: Request, _ context: Context, asSender: Bool) async throws -> Response {
        let caller = try context.meshCaller()
        let mailbox = caller.mailbox
        let id = try context.pathMessageID()
        guard let message = try await broker.store.message(id), message.type == .data, (asSender ? message.sender : message.recipient) == mailbox
        else {
            throw MeshError.messageDoesNotExist
        }
        return .json(message.crossingJSON(for: asSender ? .bothEnds : .recipient))
    }

    /// The declaration in `Mex-Handover-Crossing`, read before the body so a malformed header writes
    /// nothing. A safeguarding concern refused here also tells the sender's duty contact.
    func declaredCrossing(
        _ request: Request, sender: MailboxID, decision: RouteDecision, index: DirectoryIndex,
        context: Context
    ) async throws -> CrossingDeclaration? {
        guard let text = request.header(CrossingDeclaration.headerName) else { return nil }
        switch CrossingDeclaration.parse(header: text) {
        case .success(let declaration): return declaration
        case .failure(let problem): throw await refuse(problem, sender: sender, decision: decision, index: index, context: context)
        }
    }

    /// Builds the message's crossing record from the declaration, the payload and the workflow, or
    /// throws the refusal (nothing has been committed; staged segments are swept as abandoned).
    func governedCrossing(
        declared: CrossingDeclaration?, headers: SendHeaders, sender: MailboxID, decision: RouteDecision,
        index: DirectoryIndex, staged: StagedChunk, inflated: [UInt8]?, now: Timestamp,
        context: Context
    ) async throws -> CrossingRecord {
        let workflow = decision.workflow
        var fhir: FHIRReading?
        // A chunked payload is only whole once its last chunk arrives: it is passed through unread
        // (its sender declares the record in the header), as is an encrypted one.
        if headers.contentEncrypted != true, headers.chunkRange.total == 1,
            let (bytes, format) = try await fhirPayload(staged, headers: headers, inflated: inflated)
        {
            switch FHIRMessageReader.read(bytes, format: format) {
            case .success(let reading): fhir = reading
            case .failure(let problem): throw await refuse(problem, sender: sender, decision: decision, index: index, context: context)
            }
        }
        let rules = CrossingRules.Context.forSend(workflow: workflow, sender: sender, index: index)
        var record: CrossingRecord
        switch CrossingRules.record(declared: declared, payload: fhir, context: rules) {
        case .success(let built): record = built
        case .failure(let problem): throw await refuse(problem, sender: sender, decision: decision, index: index, context: context)
        }
        var facts = fhir?.facts
        if let id = facts?.messageID, try await broker.store.carriesFHIRMessage(id: id) {
            facts?.duplicate = true
            record.flags.append(
                CrossingFlag(
                    flow: "provenance", field: "fhir.message_id",
                    reason: "duplicate: another message carried this MessageHeader.id (ITK 20007)", shown: true))
        }
        record.deriveAtSend(
            sender: sender, recipient: decision.recipient, workflow: workflow, index: index,
            payloadSHA256: headers.chunkRange.total == 1 ? staged.sha256 : nil,
            certificateMatchesSender: broker.configuration.bindClientCertificates ? true : nil, fhir: facts, now: now)
        let workflowName = workflow?.id.rawValue ?? "unregistered"
        for flag in record.flags { broker.metrics.crossingFlagged(workflow: workflowName, flow: flag.flow, shown: flag.shown) }
        // A `recorded` gap is only counted; the record keeps the gaps both sides are shown.
        record.flags.removeAll { !$0.shown }
        return record
    }

    /// The payload's bytes and format when it is to be read as FHIR: the first chunk, inflated when
    /// sent gzipped, read only if its type or first bytes say FHIR.
    private func fhirPayload(_ staged: StagedChunk, headers: SendHeaders, inflated: [UInt8]?) async throws -> ([UInt8], FHIRFormat)? {
        if headers.contentEncoding == .gzip {
            guard let inflated, let format = FHIRMessageReader.format(contentType: headers.contentType, prefix: inflated) else { return nil }
            return (inflated, format)
        }
        if let inline = staged.inlineSegment {
            guard let format = FHIRMessageReader.format(contentType: headers.contentType, prefix: inline.readableBytesView) else { return nil }
            return (Array(inline.readableBytesView), format)
        }
        guard staged.segmentCount > 0, let first = try await broker.store.segment(uploadID: staged.uploadID, index: 0),
            let format = FHIRMessageReader.format(contentType: headers.contentType, prefix: first.readableBytesView)
        else { return nil }
        // Too large to read: refused as FHIR that cannot be read safely (reading stops at the limit).
        var bytes = Array(first.readableBytesView)
        var index = 1
        while index < staged.segmentCount && bytes.count <= FHIRMessageReader.maximumBytes {
            guard let next = try await broker.store.segment(uploadID: staged.uploadID, index: index) else { break }
            bytes.append(contentsOf: next.readableBytesView)
            index += 1
        }
        return (bytes, format)
    }

    /// Counts and logs a refusal (field and code only: never a value), tells the sender's duty
    /// contact when a safeguarding concern was refused, and returns the error to throw (a replay's,
    /// found when the token is spent before the notice is written).
    private func refuse(
        _ problem: CrossingProblem, sender: MailboxID, decision: RouteDecision, index: DirectoryIndex,
        context: Context
    ) async -> any Error {
        let workflow = decision.workflow?.id.rawValue ?? "unregistered"
        broker.metrics.crossingRefused(workflow: workflow, code: problem.code.rawValue, flow: problem.flow)
        context.logger.notice(
            "send refused by crossing policy",
            metadata: [
                "handover.mailbox": "\(sender)", "handover.workflow": "\(workflow)", "handover.code": "\(problem.code.rawValue)",
                "handover.field": "\(problem.field.prefix(80))",
            ])
        if decision.workflow?.safeguarding == true {
            do { try await broker.spend(context.mesh?.pendingSpend, logger: context.logger) } catch { return error }
            await alertSenderDuty(problem, sender: sender, workflow: workflow, index: index, context: context)
        }
        return MeshError(problem.code, event: "SEND", message: problem.description)
    }

    /// A refused safeguarding concern must not vanish: its sending organisation's duty mailbox (else
    /// its safeguarding lead, else the sending mailbox) gets a `HANDOVER_ALERT` notice naming the
    /// workflow, the field and the reason, never a submitted value.
    private func alertSenderDuty(
        _ problem: CrossingProblem, sender: MailboxID, workflow: String, index: DirectoryIndex,
        context: Context
    ) async {
        let now = broker.clock()
        guard broker.refusalNotices.withLock({ $0.admit(sender.rawValue + " " + workflow, now: now) }) == nil else {
            context.logger.notice(
                "refused safeguarding referral not told again yet",
                metadata: [
                    "handover.mailbox": "\(sender)", "handover.workflow": "\(workflow)",
                ])
            return
        }
        let organisation = index.mailboxes[sender].flatMap { index.organisations[$0.organisation] }
        let recipient = organisation?.duty.mailbox ?? organisation?.safeguardingLead ?? sender
        let body = JSONValue.compact([
            ("event", "safeguarding_crossing_refused"), ("workflow_id", .string(workflow)), ("sender", .string(sender.rawValue)),
            ("code", .string(problem.code.rawValue)), ("field", .string(problem.field)), ("reason", .string(problem.reason)),
            ("refused_at", .string(now.isoUTC)),
            (
                "action",
                "the referral was not delivered: correct the field and send it again, and phone the receiving team if there is immediate risk"
            ),
        ]).serialized
        let staged = StagedChunk.inline(body, now: now)
        let notice = MessageRecord(
            id: broker.idGenerator.next(now: now), sender: nil, recipient: recipient, workflowID: AlertPlanner.alertWorkflow,
            subject: "Safeguarding referral refused: \(workflow)", contentType: "application/json", totalChunks: 1, status: .uploading,
            createdAt: now, route: RouteTaken(addressedBy: .system, address: recipient.rawValue, directoryVersion: index.version))
        do {
            _ = try await broker.store.createMessage(notice, firstChunk: staged, now: now)
        } catch {
            context.logger.error(
                "could not tell the sender's duty contact of a refused safeguarding referral",
                metadata: ["handover.mailbox": "\(sender)", "handover.error": "\(String(describing: error).prefix(200))"])
        }
    }
}

extension MeshEndpoints {
    /// For `acks: fhir-itk3` workflows: the ITK3 infrastructure response (20013) delivered with a
    /// Transfer of Care message that asked for one, in the same transaction as its delivery.
    func itkInfrastructureAck(workflow: Workflow?, directoryVersion: Int64, now: Timestamp) -> DeliveryCompanion? {
        guard workflow?.acks == .fhirITK3 else { return nil }
        let id = broker.idGenerator.next(now: now)
        let response = ResponsibilityDesk.itkResponse(
            code: ITK3Response.infrastructureSuccess.0, display: ITK3Response.infrastructureSuccess.1, now: now)
        return { delivered in
            guard delivered.crossing?.derived?.fhir?.infAckRequested == true else { return nil }
            var answer = response
            answer.sourceEndpoint = delivered.recipient.rawValue
            return ITK3Response.message(answering: delivered, answer, id: id, directoryVersion: directoryVersion)
        }
    }
}
