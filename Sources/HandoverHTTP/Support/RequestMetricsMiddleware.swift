import Hummingbird

/// Counts and times every answered request by endpoint pattern, method and status (outermost, so it
/// sees the status that error middleware chose).
public struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: BrokerMetrics

    public init(metrics: BrokerMetrics) { self.metrics = metrics }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let elapsed = ContinuousClock.now - start
        metrics.request(
            endpoint: context.endpointPath ?? "unmatched", method: request.method.rawValue, status: Int(response.status.code),
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        return response
    }
}
