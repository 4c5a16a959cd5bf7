import Foundation
import HTTPTypes
import HandoverCore
import HandoverStore
import Hummingbird

extension AdminEndpoints {
    /// The window asked for: `since` and `until` (ISO 8601), by default the last 30 days.
    func scorecardWindow(_ request: Request) throws -> (since: Timestamp, until: Timestamp) {
        let q = request.uri.queryParameters
        let now = clock()
        let until =
            try q.get("until").map { text in
                guard let t = Timestamp.parseDateTime(text) else { throw AdminProblem.badRequest("until must be an ISO 8601 date or date and time") }
                return t
            } ?? now.adding(seconds: 1)
        let since =
            try q.get("since").map { text in
                guard let t = Timestamp.parseDateTime(text) else { throw AdminProblem.badRequest("since must be an ISO 8601 date or date and time") }
                return t
            } ?? until.adding(seconds: -30 * 86_400)
        guard since < until else { throw AdminProblem.badRequest("since must be before until") }
        return (since, until)
    }

    func scores(_ request: Request) async throws -> [(tally: BoundaryTally, score: BoundaryScore)] {
        let (since, until) = try scorecardWindow(request)
        return try await store.boundaryTallies(since: since, until: until, now: clock()).map { ($0, BoundaryScorecard.score($0)) }
    }

    /// `GET /admin/boundaries`: every boundary (sending organisation, receiving organisation,
    /// workflow) with its crossings, each flow's share and level, the risk score and median times.
    func boundaries(_ request: Request, _ context: Context) async throws -> Response {
        let (since, until) = try scorecardWindow(request)
        let items: [JSONValue] = try await scores(request).map { tally, score in
            .compact([
                ("from", .string(tally.from)), ("to", .string(tally.to)), ("workflow_id", .string(tally.workflowID)),
                ("crossings", .int(Int64(score.crossings))), ("risk", score.risk.map { .int(Int64($0)) }),
                ("median_seconds_to_acceptance", score.medianSecondsToAcceptance.map(JSONValue.int)),
                ("median_seconds_to_outcome", score.medianSecondsToOutcome.map(JSONValue.int)),
                (
                    "flows",
                    .array(
                        score.flows.map { f in
                            .compact([
                                ("flow", .string(f.flow.rawValue)), ("counted", .int(Int64(f.counted))),
                                ("share", f.share.map { .string(Self.decimal($0)) }),
                                ("level", f.level.map { .int(Int64($0)) } ?? .string("insufficient data")),
                                ("capped_from", f.uncappedLevel != f.level ? f.uncappedLevel.map { .int(Int64($0)) } : nil),
                                (
                                    "crossings",
                                    .string(
                                        "/admin/boundaries/\(tally.from)/\(tally.to)/\(tally.workflowID)"
                                            + "/crossings?flow=\(f.flow.rawValue)&failing=true"
                                    )
                                ),
                            ])
                        })
                ),
            ])
        }
        return .json(.object([("since", .string(since.isoUTC)), ("until", .string(until.isoUTC)), ("boundaries", .array(items))]))
    }

    /// `GET /admin/boundaries.csv`: the same, one row per boundary.
    func boundariesCSV(_ request: Request, _ context: Context) async throws -> Response {
        var lines = [
            "from,to,workflow_id,crossings,risk,median_seconds_to_acceptance,median_seconds_to_outcome,"
                + Flow.allCases.map { "\($0.rawValue)_share,\($0.rawValue)_level" }.joined(separator: ",")
        ]
        for (tally, score) in try await scores(request) {
            var cells = [
                tally.from, tally.to, tally.workflowID, String(score.crossings), score.risk.map(String.init) ?? "",
                score.medianSecondsToAcceptance.map(String.init) ?? "", score.medianSecondsToOutcome.map(String.init) ?? "",
            ]
            for flow in score.flows {
                cells.append(flow.share.map(Self.decimal) ?? "")
                cells.append(flow.level.map(String.init) ?? "insufficient data")
            }
            lines.append(cells.map(csvCell).joined(separator: ","))
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"boundaries.csv\""
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: lines.joined(separator: "\r\n") + "\r\n")))
    }

    /// `GET /admin/boundaries/{from}/{to}/{workflow}/crossings?flow=identity&failing=true`: the
    /// crossings behind a level, newest first (message ids and their state, never their subject).
    func boundaryCrossings(_ request: Request, _ context: Context) async throws -> Response {
        guard let from = context.parameters.get("from"), let to = context.parameters.get("to"), let workflow = context.parameters.get("workflow")
        else {
            throw AdminProblem.notFound("that boundary")
        }
        let q = request.uri.queryParameters
        var flow: Flow?
        if let raw = q.get("flow") {
            guard let parsed = Flow(rawValue: raw) else {
                throw AdminProblem.badRequest("flow is one of " + Flow.allCases.map(\.rawValue).joined(separator: ", "))
            }
            flow = parsed
        }
        if q.get("failing") == "true" && flow == nil { throw AdminProblem.badRequest("failing=true needs flow") }
        let (since, until) = try scorecardWindow(request)
        let ids = try await store.boundaryCrossings(
            from: from, to: to, workflowID: workflow, failing: q.get("failing") == "true" ? flow : nil,
            since: since, until: until, now: clock(), limit: try listLimit(request, default: 200, maximum: 1000))
        var items: [JSONValue] = []
        for id in ids {
            guard let m = try await store.message(id) else { continue }
            items.append(
                .compact([
                    ("message_id", .string(m.id.rawValue)), ("workflow_id", .string(m.workflowID)), ("status", .string(m.status.rawValue)),
                    ("created_at", .string(m.createdAt.isoUTC)), ("recipient", .string(m.recipient.rawValue)),
                    ("responsibility", .string((m.responsibility?.state ?? .pending).rawValue)),
                    ("flags", .array((m.crossing?.flags ?? []).map { .object([("flow", .string($0.flow)), ("field", .string($0.field))]) })),
                ]))
        }
        return .json(.object([("crossings", .array(items))]))
    }

    static func decimal(_ value: Double) -> String { String(format: "%.3f", value) }
}
