import HandoverCore
import HandoverStore
import Hummingbird

extension MeshEndpoints {
    /// `GET /messageexchange/endpointlookup/{ODS}/{WF}`: receivers of the workflow at that organisation.
    /// Lookups take a token of any mailbox, so the directory is not public; none in sandbox mode, as
    /// NHS's sandbox (`MeshAuthentication.Scope.anyMailbox`).
    func endpointLookup(_ request: Request, _ context: Context) throws -> Response {
        let version = try request.meshVersion()
        guard let ods = context.parameters.get("ods"), let workflow = context.parameters.get("workflow") else { throw MeshError.notFound }
        let index = context.mesh?.directory ?? broker.directory.snapshot
        let code = ODSCode(ods)
        let matches = index.receivingMailboxes(of: WorkflowID(workflow)).filter { $0.organisation == code }
        return lookupResponse(matches, version: version, v1: true)
    }

    /// `GET /messageexchange/workflowsearch/{WF}`: every receiver of the workflow (v2 shape only).
    func workflowSearch(_ request: Request, _ context: Context) throws -> Response {
        guard let workflow = context.parameters.get("workflow") else { throw MeshError.notFound }
        return lookupResponse(
            (context.mesh?.directory ?? broker.directory.snapshot).receivingMailboxes(of: WorkflowID(workflow)), version: .v2, v1: false)
    }

    private func lookupResponse(_ matches: [Mailbox], version: MeshAPIVersion, v1: Bool) -> Response {
        if version == .v1 && v1 {
            let results: [JSONValue] = matches.map {
                .object([("address", .string($0.id.rawValue)), ("description", .string($0.name)), ("endpoint_type", "MESH")])
            }
            return .json(.object([("query_id", .string(randomHex(bytes: 16))), ("results", .array(results))]))
        }
        let results: [JSONValue] = matches.map { .object([("mailbox_id", .string($0.id.rawValue)), ("mailbox_name", .string($0.name))]) }
        return .json(.object([("results", .array(results))]))
    }
}
