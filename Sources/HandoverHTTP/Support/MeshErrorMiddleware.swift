import HandoverCore
import HandoverStore
import Hummingbird
import NIOCore
import Logging

/// Turns errors into MESH-shaped responses (admin errors into problem+json). A `MeshError` becomes its v1 or v2 body; Hummingbird's own
/// errors (404 for an unknown endpoint, 413) keep their status with a MESH body; anything else is a
/// bare 500 whose details go only to the log, never to the client, and never include payloads.
public struct MeshErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: BrokerMetrics?

    public init(metrics: BrokerMetrics? = nil) { self.metrics = metrics }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as MeshError {
            metrics?.meshError(status: error.status)
            return error.response(version: (try? request.meshVersion()) ?? .v1)
        } catch let error as StoreUnavailable {
            // The database is unreachable, did not answer in time, or its disk is full: the client is
            // told nothing was accepted and retries (MESH clients retry on 5xx); a write that still
            // lands later is a duplicate, not a loss.
            context.logger.error("store unavailable", metadata: ["handover.cause": "\(error.cause.rawValue)", "handover.error": "\(error.reason.prefix(300))"])
            metrics?.meshError(status: 503)
            let words = switch error.cause {
            case .unavailable: "the database is unavailable; retry later"
            case .full: "the store's disk is full; nothing was accepted; retry later"
            case .failing: "the database is failing; retry later"
            }
            if request.uri.path.hasPrefix("/admin") {
                var problem = AdminProblem(status: .serviceUnavailable, type: error.cause.rawValue, title: "Service Unavailable", detail: words).response
                problem.headers[.retryAfter] = error.cause == .full ? "60" : "5"
                return problem
            }
            var response = MeshError(status: 503, event: "", code: error.cause.rawValue, message: "Service Unavailable: " + words)
                .response(version: (try? request.meshVersion()) ?? .v1)
            response.headers[.retryAfter] = error.cause == .full ? "60" : "5"
            return response
        } catch let error as AdminProblem {
            return error.response
        } catch is NIOTooManyBytesError {
            // A JSON or YAML body past its limit (`collect(upTo:)`).
            if request.uri.path.hasPrefix("/admin") {
                return AdminProblem(status: .contentTooLarge, type: "too-large", title: "Content Too Large", detail: "the body is larger than this call accepts").response
            }
            return MeshError.payloadTooLarge.response(version: (try? request.meshVersion()) ?? .v1)
        } catch let error as HTTPError where request.uri.path.hasPrefix("/admin") {
            return AdminProblem(status: error.status, type: "http", title: error.status.reasonPhrase, detail: error.body ?? error.status.reasonPhrase).response
        } catch let error as HTTPError {
            let mesh = MeshError(status: Int(error.status.code), event: "", code: "", message: error.status.reasonPhrase)
            return mesh.response(version: (try? request.meshVersion()) ?? .v1)
        } catch {
            context.logger.error("unhandled error", metadata: ["handover.error_type": "\(type(of: error))", "handover.error": "\(String(describing: error).prefix(300))"])
            return Response.json(.object([("message", "An internal error occurred.\n\nPlease contact support.")]), status: .internalServerError)
        }
    }
}
