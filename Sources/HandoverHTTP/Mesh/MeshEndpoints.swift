import HTTPTypes
import HandoverCore
import HandoverStore
import Hummingbird

/// The MESH API v2 surface, registered on a router. Handlers are thin: the group's middleware has
/// authenticated the caller; they parse, call the store or directory, and shape the reply for the
/// caller's API version.
public struct MeshEndpoints<Context: HandoverContext>: Sendable {
    let broker: MeshBroker

    public init(broker: MeshBroker) { self.broker = broker }

    public func register(on router: Router<Context>) {
        // Public: health, readiness, metrics and the API description. Every other route is in a group
        // whose middleware authenticates before the handler runs (the router-policy test checks).
        registerMonitoring(on: router)
        router.get("/openapi.yaml") { _, _ in try OpenAPIDocument.response() }
        for path in ["/_status", "/_ping", "/healthcheck", "/messageexchange/_ping", "/messageexchange/deepping"] {
            router.get(RouterPath(path)) { _, _ in health() }
        }
        let mailbox = router.group("/messageexchange/:mailbox")
            .add(middleware: MeshErrorTranslation(metrics: broker.metrics))
            .add(middleware: MeshAuthentication(broker: broker, scope: .pathMailbox))
        mailbox.post { request, context in try handshake(request, context) }
        mailbox.get { request, context in try handshake(request, context) }
        mailbox.post("update") { _, context in
            _ = try context.meshCaller()
            return Response.empty()
        }
        // A send spends its token in its delivery's commit where it can (`PendingTokenSpend`).
        router.group("/messageexchange/:mailbox/outbox")
            .add(middleware: MeshErrorTranslation(metrics: broker.metrics))
            .add(middleware: MeshAuthentication(broker: broker, scope: .pathMailbox, defersSharedSpend: true))
            .post { request, context in try await send(request, context) }
        mailbox.post("outbox/:messageID/:chunk") { request, context in try await sendChunk(request, context) }
        mailbox.get("inbox") { request, context in try await listInbox(request, context) }
        mailbox.get("inbox/rich") { request, context in try await richListing(request, context, side: .inbox) }
        mailbox.get("outbox/rich") { request, context in try await richListing(request, context, side: .outbox) }
        mailbox.get("count") { request, context in try await count(request, context) }
        mailbox.get("inbox/:messageID") { request, context in try await download(request, context) }
        mailbox.get("inbox/:messageID/:chunk") { request, context in try await download(request, context) }
        mailbox.head("inbox/:messageID") { request, context in try await head(request, context) }
        mailbox.put("inbox/:messageID/status/acknowledged") { request, context in try await acknowledge(request, context) }
        mailbox.get("outbox/tracking") { request, context in try await trackByMessageID(request, context) }
        mailbox.get("outbox/tracking/:localID") { request, context in try await trackByLocalID(request, context) }
        mailbox.get("outbox/:messageID/receipt") { request, context in try await receipt(request, context, asSender: true) }
        mailbox.get("inbox/:messageID/receipt") { request, context in try await receipt(request, context, asSender: false) }
        mailbox.get("outbox/:messageID/crossing") { request, context in try await crossing(request, context, asSender: true) }
        mailbox.get("inbox/:messageID/crossing") { request, context in try await crossing(request, context, asSender: false) }
        mailbox.post("inbox/:messageID/responsibility") { request, context in try await responsibility(request, context) }
        mailbox.post("inbox/:messageID/outcome") { request, context in try await outcome(request, context) }
        mailbox.post("inbox/:messageID/redirect") { request, context in try await redirect(request, context) }
        mailbox.post("outbox/:messageID/withdraw") { request, context in try await withdraw(request, context) }
        mailbox.post("outbox/:messageID/amend") { request, context in try await amend(request, context) }
        let lookups = router.group("/messageexchange")
            .add(middleware: MeshErrorTranslation(metrics: broker.metrics))
            .add(middleware: MeshAuthentication(broker: broker, scope: .anyMailbox))
        lookups.get("endpointlookup/:ods/:workflow") { request, context in try endpointLookup(request, context) }
        lookups.get("workflowsearch/:workflow") { request, context in try workflowSearch(request, context) }
    }

    /// `/health` (liveness: the process answers), `/ready` (readiness: 503 while the database does
    /// not answer) and `/metrics`: on the main listener, and alone on the monitoring listener.
    public func registerMonitoring(on router: Router<Context>) {
        router.get("/health") { _, _ in health() }
        router.get("/ready") { _, _ in try await readiness(store: broker.store) }
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(string: await broker.metrics.render(store: broker.store, now: broker.clock()))))
        }
    }

    func readiness(store: any BrokerStore) async throws -> Response {
        let ready = await StoreProbe.answers(store, within: .seconds(3))
        return .json(.object([("status", .string(ready ? "ready" : "database unavailable"))]), status: ready ? .ok : .serviceUnavailable)
    }

    func health() -> Response {
        .json(
            .object([
                ("env", .string(broker.configuration.environmentName)), ("build_label", "handover"),
                ("status", "running"), ("outcome", "Yes"),
            ]))
    }

    func handshake(_ request: Request, _ context: Context) throws -> Response {
        let caller = try context.meshCaller()
        let (mailbox, version) = (caller.mailbox, caller.version)
        for name in ["mex-clientversion", "mex-osname", "mex-osversion"] where request.header(name) == nil {
            throw MeshError.missingHeader(name)
        }
        return version == .v2 ? .empty() : .json(.object([("mailboxId", .string(mailbox.rawValue))]))
    }

    func count(_ request: Request, _ context: Context) async throws -> Response {
        let caller = try context.meshCaller()
        let (mailbox, version) = (caller.mailbox, caller.version)
        let n = Int64(try await broker.store.countInbox(mailbox: mailbox))
        if version == .v2 { return .json(.object([("count", .int(n))])) }
        return .json(.object([("count", .int(n)), ("internalID", .string(randomHex(bytes: 16))), ("allResultsIncluded", true)]))
    }

    func acknowledge(_ request: Request, _ context: Context) async throws -> Response {
        let caller = try context.meshCaller()
        let (mailbox, version) = (caller.mailbox, caller.version)
        let id = try context.pathMessageID()
        guard try await broker.store.acknowledge(messageID: id, recipient: mailbox, now: broker.clock()) != nil else {
            throw MeshError.messageDoesNotExist
        }
        broker.metrics.acknowledged()
        context.logger.debug("acknowledged", metadata: ["handover.mailbox": "\(mailbox)", "handover.message_id": "\(id)"])
        return version == .v2 ? .empty() : .json(.object([("messageId", .string(id.rawValue))]))
    }
}
