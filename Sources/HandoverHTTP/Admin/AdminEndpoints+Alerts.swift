import Foundation
import HandoverCore
import HandoverStore
import Hummingbird

extension AdminEndpoints {
    /// `GET /admin/alerts?state=open|acknowledged|resolved`
    func listAlerts(_ request: Request, _ context: Context) async throws -> Response {
        var state: Alert.State?
        if let raw = request.uri.queryParameters.get("state") {
            guard let parsed = Alert.State(rawValue: raw) else { throw AdminProblem.badRequest("state is open, acknowledged or resolved") }
            state = parsed
        }
        let alerts = try await store.alerts(state: state, limit: try listLimit(request, default: 200, maximum: 1000))
        var items: [JSONValue] = []
        for alert in alerts { items.append(alert.json(message: try await store.message(alert.messageID))) }
        return .json(.object([("alerts", .array(items))]))
    }

    /// `GET /admin/alerts/{id}`: the alert with its webhook and email deliveries and every attempt.
    func getAlert(_ request: Request, _ context: Context) async throws -> Response {
        guard let id = context.parameters.get("alert"), let alert = try await store.alert(id: id) else { throw AdminProblem.notFound("that alert") }
        let deliveries = try await store.webhookDeliveries(alertID: alert.id)
        guard case .object(var pairs) = alert.json(message: try await store.message(alert.messageID)) else {
            throw AdminProblem.notFound("that alert")
        }
        pairs.append(
            (
                "webhook_deliveries",
                .array(
                    deliveries.map { d in
                        let email = AlertNotification.emailAddress(target: d.webhookID)
                        return .object([
                            ("delivery_id", .string(d.id)), ("channel", .string(email == nil ? "webhook" : "email")),
                            email.map { ("email", .string($0)) } ?? ("webhook", .string(d.webhookID)),
                            ("state", .string(d.state)), ("attempts", .int(Int64(d.attempts))),
                            (
                                "attempt_log",
                                .array(
                                    d.attemptLog.map { a in
                                        .compact([
                                            ("at", .string(a.at.isoUTC)), ("status", a.status.map { .int(Int64($0)) }),
                                            ("error", a.error.map { .string($0) }),
                                        ])
                                    })
                            ),
                        ])
                    })
            ))
        return .json(.object(pairs))
    }

    struct AcknowledgeBody: Decodable {
        var by: Person?
        var note: String?
    }

    /// `POST /admin/alerts/{id}/acknowledge` (operator or admin): stops repeats; the alert still
    /// resolves only when its condition stops holding.
    func acknowledgeAlert(_ request: Request, _ context: Context) async throws -> Response {
        let who = try context.adminCaller()
        guard let id = context.parameters.get("alert") else { throw AdminProblem.notFound("that alert") }
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        let body = (try? JSONDecoder().decode(AcknowledgeBody.self, from: Data(buffer.readableBytesView))) ?? AcknowledgeBody()
        let person = body.by ?? Person(name: who.name)
        guard !person.name.trimmingCharacters(in: .whitespaces).isEmpty else { throw AdminProblem.badRequest("by.name is required") }
        guard let current = try await store.alert(id: id) else { throw AdminProblem.notFound("that alert") }
        let now = clock()
        let lapsesAt = EscalationRules.acknowledgementLapsesAt(current, now: now, index: manager.holder.snapshot)
        guard let alert = try await store.acknowledgeAlert(id: id, by: person, note: body.note, lapsesAt: lapsesAt, now: now) else {
            throw AdminProblem.notFound("that alert")
        }
        try await store.appendAudit(
            AuditRecord(
                actor: actor(who), action: "alert.acknowledged", subject: "alert \(id)",
                detail: JSONValue.compact([("by", personJSON(person)), ("note", body.note.map { .string($0) })]).serialized), now: clock())
        return .json(alert.json(message: try await store.message(alert.messageID)))
    }
}
