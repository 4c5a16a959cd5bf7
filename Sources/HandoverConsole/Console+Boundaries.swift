import HandoverCore
import HandoverStore
import Hummingbird

/// The boundary scorecard over the last 30 days: each boundary's crossings, risk and each flow's
/// level, each level linking to the crossings that lowered it. Operators and viewers see their
/// organisations' boundaries; admins see every boundary (counts only, no identifiers).
extension Console {
    func registerBoundaries(on group: RouterGroup<ConsoleRequestContext>) {
        group.get("boundaries") { _, context in try await boundariesPage(context) }
        group.get("boundaries/:from/:to/:workflow") { request, context in try await boundaryCrossingsPage(request, context) }
    }

    func visibleScores(_ access: ConsoleAccess) async throws -> [(tally: BoundaryTally, score: BoundaryScore)] {
        let now = clock()
        let tallies = try await store.boundaryTallies(since: now.adding(seconds: -30 * 86_400), until: now.adding(seconds: 1), now: now)
        return tallies.filter { t in access.user.has(.admin) || access.user.organisations.contains(t.from) || access.user.organisations.contains(t.to)
        }
        .map { ($0, BoundaryScorecard.score($0)) }
    }

    func boundariesPage(_ context: ConsoleRequestContext) async throws -> Response {
        let (session, access) = try self.access(context, for: .boundaries)
        let rows: [[String: Any]] = try await visibleScores(access).map { tally, score in
            [
                "from": tally.from, "to": tally.to, "workflow": tally.workflowID, "crossings": score.crossings,
                "risk": score.risk.map(String.init) ?? "not enough data",
                "flows": score.flows.map { f in
                    [
                        "flow": f.flow.rawValue.replacingOccurrences(of: "_", with: " "), "level": f.level.map { "level \($0)" } ?? "not enough data",
                        "href": "/console/boundaries/\(tally.from)/\(tally.to)/\(tally.workflowID)?flow=\(f.flow.rawValue)",
                    ] as [String: Any]
                },
            ]
        }
        let values: [String: Any] = [
            "boundaries": rows, "none": rows.isEmpty, "flows": Flow.allCases.map { ["name": $0.rawValue.replacingOccurrences(of: "_", with: " ")] },
        ]
        return pages.page("boundaries", title: "Boundaries", values, section: .boundaries, access: access, session: session)
    }

    func boundaryCrossingsPage(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, access) = try self.access(context, for: .boundaries)
        guard let from = context.parameters.get("from"), let to = context.parameters.get("to"), let workflow = context.parameters.get("workflow"),
            access.user.has(.admin) || access.user.organisations.contains(from) || access.user.organisations.contains(to)
        else { throw ConsoleRefusal.notFound }
        let flow = request.uri.queryParameters.get("flow").flatMap(Flow.init(rawValue:))
        let now = clock()
        let ids = try await store.boundaryCrossings(
            from: from, to: to, workflowID: workflow, failing: flow, since: now.adding(seconds: -30 * 86_400), until: now.adding(seconds: 1),
            now: now,
            limit: 200)
        let mayOpen = access.sections.contains(.messages)
        let values: [String: Any] = [
            "from": from, "to": to, "workflow": workflow, "flow": flow?.rawValue.replacingOccurrences(of: "_", with: " ") ?? "any flow",
            "crossings": ids.map { ["id": $0.rawValue, "mayOpen": mayOpen] as [String: Any] }, "none": ids.isEmpty,
        ]
        return pages.page("boundary-crossings", title: "Crossings \(from) to \(to)", values, section: .boundaries, access: access, session: session)
    }
}
