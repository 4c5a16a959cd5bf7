import HandoverCore
import HandoverStore
import Hummingbird

extension MeshEndpoints {
    /// `POST /messageexchange/{MB}/outbox`: the first (or only) chunk. The 202 is sent only after the
    /// message and its chunk are committed; a body that ends early commits nothing.
    func send(_ request: Request, _ context: Context) async throws -> Response {
        let caller = try context.meshCaller()
        let (sender, version) = (caller.mailbox, caller.version)
        let values = request.headerValues()
        let headers = try SendHeaders.parse { values[$0] }.get()
        let index = caller.directory
        let decision: RouteDecision
        switch index.resolve(to: headers.to, workflowID: headers.workflowID, sender: sender, allowUnknownWorkflows: broker.configuration.sandbox) {
        case .success(let routed): decision = routed
        case .failure(let refusal):
            // Every routing refusal is logged with its code and reason (addresses are directory
            // names, never patient data), so an operator can see why a sender's message bounced.
            context.logger.notice(
                "send refused by routing",
                metadata: [
                    "handover.mailbox": "\(sender)", "handover.workflow": "\(headers.workflowID)", "handover.to": "\(headers.to.prefix(100))",
                    "handover.code": "\(refusal.code)", "handover.reason": "\(refusal.explained)", "handover.directory_version": "\(index.version)",
                ])
            throw refusal
        }
        let declared = try await declaredCrossing(request, sender: sender, decision: decision, index: index, context: context)
        let now = broker.clock()
        // Only a single-chunk, unencrypted payload is read for FHIR, so only then are inflated bytes kept.
        let readable = headers.contentEncrypted != true && headers.chunkRange.total == 1
        let gzip = headers.contentEncoding == .gzip ? GzipBodyValidator(retainingFHIR: readable, contentType: headers.contentType) : nil
        // Staging writes a body longer than one segment (or of unknown length) as it arrives: the
        // token is spent before the first write.
        if !(values["content-length"].flatMap { Int($0) }.map { $0 <= ChunkStager.defaultSegmentSize } ?? false) {
            try await broker.spend(caller.pendingSpend, logger: context.logger)
        }
        let staged = try await stage(request.body, now: now, inspector: gzip)
        guard staged.size > 0 else { throw MeshError.dataFileMissing }
        let crossing = try await governedCrossing(
            declared: declared, headers: headers, sender: sender, decision: decision, index: index,
            staged: staged, inflated: gzip?.retained, now: now, context: context)
        let id = broker.idGenerator.next(now: now)
        let record = MessageRecord(
            id: id, sender: sender, recipient: decision.recipient, workflowID: headers.workflowIDAsSent,
            subject: headers.subject, localID: headers.localID, partnerID: headers.partnerID, fileName: headers.fileName,
            checksum: headers.checksum, contentType: headers.contentType, contentEncoding: headers.contentEncoding,
            contentCompressed: headers.contentCompressed, contentEncrypted: headers.contentEncrypted,
            totalChunks: headers.chunkRange.total, status: .uploading, createdAt: now,
            expirySeconds: index.expirySeconds(
                workflow: decision.workflow, deliveredAt: now, defaultSeconds: broker.configuration.defaultExpirySeconds),
            route: decision.route, escalationPolicy: decision.workflow?.escalation,
            responsibilityRequired: decision.workflow?.responsibility == .required, crossing: crossing)
        let stored = try await broker.createMessage(
            record, firstChunk: staged, now: now,
            onDelivery: itkInfrastructureAck(workflow: decision.workflow, directoryVersion: index.version, now: now),
            spending: caller.pendingSpend, logger: context.logger)
        if stored.status == .accepted && stored.escalationPolicy != nil { broker.onDelivered() }
        broker.metrics.messageAccepted(workflow: decision.workflow?.id.rawValue ?? "unregistered")
        context.logger.info(
            "message accepted",
            metadata: [
                "handover.message_id": "\(id)", "handover.mailbox": "\(sender)", "handover.recipient": "\(decision.recipient)",
                "handover.workflow": "\(headers.workflowID)", "handover.chunks": "\(headers.chunkRange.total)",
                "handover.status": "\(stored.status.rawValue)",
            ])
        let key = version == .v2 ? "message_id" : "messageID"
        return .json(.object([(key, .string(id.rawValue))]), status: .accepted)
    }

    /// `POST /messageexchange/{MB}/outbox/{ID}/{n}`: chunks 2..N, in any order; delivered when all are in.
    func sendChunk(_ request: Request, _ context: Context) async throws -> Response {
        let caller = try context.meshCaller()
        let (sender, version) = (caller.mailbox, caller.version)
        let id = try context.pathMessageID()
        guard let number = try context.pathChunkNumber() else { throw MeshError.messageDoesNotExist }
        guard let range = ChunkRange.parse(request.header("mex-chunk-range")), range.number == number else {
            throw MeshError.invalidChunks.with(messageID: id)
        }
        guard let encoding = ContentEncoding(header: request.header("content-encoding")) else {
            throw MeshError.unsupportedEncoding.with(messageID: id)
        }
        // Check before reading the body, so a doomed upload writes nothing.
        guard let current = try await broker.store.message(id) else { throw MeshError.messageDoesNotExist }
        guard current.sender == sender else { throw MeshError.forbidden }
        _ = try MessageLifecycle.addingChunk(
            current, number: number, total: range.total, encoding: encoding,
            size: 0, replacing: nil, now: broker.clock()
        ).get()
        let now = broker.clock()
        let staged = try await stage(request.body, now: now, inspector: encoding == .gzip ? GzipBodyValidator() : nil)
        let index = caller.directory
        let updated = try await broker.store.addChunk(
            messageID: id, sender: sender, number: number, total: range.total,
            encoding: encoding, chunk: staged, now: now,
            onDelivery: itkInfrastructureAck(
                workflow: index.workflows[WorkflowID(current.workflowID)],
                directoryVersion: index.version, now: now))
        if updated.status == .accepted {
            if updated.escalationPolicy != nil { broker.onDelivered() }
            context.logger.info("chunked message delivered", metadata: ["handover.message_id": "\(id)", "handover.mailbox": "\(sender)"])
        }
        if version == .v2 { return .json(.null, status: .accepted) }
        return .json(.object([("messageID", .string(id.rawValue)), ("blockID", .int(Int64(number)))]), status: .accepted)
    }

    private func stage(_ body: RequestBody, now: Timestamp, inspector: GzipBodyValidator?) async throws -> StagedChunk {
        try await ChunkStager(maxBytes: broker.configuration.maxRequestBytes).stage(body, into: broker.store, now: now, inspector: inspector)
    }
}
