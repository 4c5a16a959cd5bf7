import HandoverCore
import HandoverStore
import Hummingbird
import Logging
import NIOCore

/// A MESH error renders itself in the caller's API version (v1 or v2, from `Accept`).
extension MeshError: HTTPResponseError {
    public var status: HTTPResponse.Status { HTTPResponse.Status(code: statusCode) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response(version: (try? request.meshVersion()) ?? .v1)
    }
}

/// What each surface makes of the errors that are not its own: the store's, NIO's and the router's.
/// Installed on each route group, outside its authentication, so every error a MESH route throws
/// leaves as a MESH error and every error an admin route throws as problem+json.
struct MeshErrorTranslation<Context: RequestContext>: RouterMiddleware {
    let metrics: BrokerMetrics?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as MeshError {
            metrics?.meshError(status: error.statusCode)
            throw error
        } catch let error as StoreUnavailable {
            metrics?.meshError(status: 503)
            var mesh = MeshError(error.code, event: "", message: "Service Unavailable: " + error.described(loggingTo: context.logger))
            mesh.retryAfterSeconds = error.retryAfterSeconds
            throw mesh
        } catch is NIOTooManyBytesError {
            throw MeshError.payloadTooLarge
        } catch let error as HTTPError {
            throw MeshError(status: Int(error.status.code), event: "", code: "", message: error.status.reasonPhrase)
        }
    }
}

struct AdminErrorTranslation<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as StoreUnavailable {
            var problem = AdminProblem(code: error.code, detail: error.described(loggingTo: context.logger)).response
            problem.headers[.retryAfter] = String(error.retryAfterSeconds)
            return problem
        } catch is NIOTooManyBytesError {
            throw AdminProblem(code: .tooLarge, detail: "the body is larger than this call accepts")
        } catch let error as HTTPError {
            throw AdminProblem(code: .http, detail: error.body ?? error.status.reasonPhrase, status: error.status)
        } catch let error where !(error is any HTTPResponseError) {
            InternalError.log(error, context.logger)
            throw AdminProblem(code: .internal, detail: "an internal error occurred; the broker's log has the details")
        }
    }
}

/// The outermost error middleware: every error that knows its response (`HTTPResponseError`) gives
/// it here, so request metrics see its status. The router's own refusals for a path no route matches
/// take the shape of the surface the path belongs to; anything else is a bare 500 whose details go
/// only to the log, never to the client.
public struct ErrorResponses<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where context.endpointPath == nil {
            if request.uri.path.hasPrefix("/admin") {
                return AdminProblem(code: .http, detail: error.body ?? error.status.reasonPhrase, status: error.status).response
            }
            return MeshError(status: Int(error.status.code), event: "", code: "", message: error.status.reasonPhrase)
                .response(version: (try? request.meshVersion()) ?? .v1)
        } catch let error as any HTTPResponseError {
            return try error.response(from: request, context: context)
        } catch {
            InternalError.log(error, context.logger)
            return Response.json(.object([("message", "An internal error occurred.\n\nPlease contact support.")]), status: .internalServerError)
        }
    }
}

enum InternalError {
    /// The error's type and first 300 characters of its description (errors never carry payloads).
    static func log(_ error: any Error, _ logger: Logger) {
        logger.error(
            "unhandled error", metadata: ["handover.error_type": "\(type(of: error))", "handover.error": "\(String(describing: error).prefix(300))"])
    }
}

extension StoreUnavailable {
    var code: HandoverErrorCode {
        switch cause {
        case .unavailable: .storeUnavailable
        case .full: .storageFull
        case .failing: .storeFailing
        }
    }

    var retryAfterSeconds: Int { cause == .full ? 60 : 5 }

    /// The client is told nothing was accepted and retries (MESH clients retry on 5xx); a write that
    /// still lands later is a duplicate, not a loss. The cause goes to the log.
    func described(loggingTo logger: Logger) -> String {
        logger.error("store unavailable", metadata: ["handover.cause": "\(cause.rawValue)", "handover.error": "\(reason.prefix(300))"])
        return switch cause {
        case .unavailable: "the database is unavailable; retry later"
        case .full: "the store's disk is full; nothing was accepted; retry later"
        case .failing: "the database is failing; retry later"
        }
    }
}
