import HandoverCore
import HandoverStore
import Hummingbird

/// The duty team's alert board: references, workflow, organisations, ages and deadlines, never names,
/// NHS numbers or subjects. Operators see the alerts about their organisations' crossings.
extension Console {
    func registerAlerts(on group: RouterGroup<ConsoleRequestContext>) {
        group.get("alerts") { request, context in try await alertBoard(request, context) }
        group.get("alerts/board") { request, context in try await alertBoard(request, context, fragment: true) }
        group.get("alerts/:alert") { request, context in try await alertPage(request, context) }
        group.post("alerts/:alert/acknowledge") { request, context in try await acknowledgeAlert(request, context) }
        group.post("alerts/:alert/snooze") { request, context in try await snoozeAlert(request, context) }
        group.post("alerts/:alert/reassign") { request, context in try await reassignAlert(request, context) }
        group.post("alerts/:alert/escalate") { request, context in try await escalateNow(request, context) }
    }

    /// The alerts this operator may act on, with their messages.
    func visibleAlerts(_ access: ConsoleAccess, state: Alert.State?) async throws -> [(Alert, MessageRecord)] {
        var visible: [(Alert, MessageRecord)] = []
        for alert in try await store.alerts(state: state, limit: 500) {
            if let message = try await store.message(alert.messageID), access.mayActOnAlerts(about: message) { visible.append((alert, message)) }
        }
        return visible
    }

    func alertBoard(_ request: Request, _ context: ConsoleRequestContext, fragment: Bool = false) async throws -> Response {
        let (session, access) = try self.access(context, for: .alerts)
        let q = request.uri.queryParameters
        let stateText = q.get("state") ?? "open"
        let state = Alert.State(rawValue: stateText)
        let workflow = q.get("workflow").flatMap { $0.isEmpty ? nil : $0.uppercased() }
        let now = clock()
        let rows: [[String: Any]] = try await visibleAlerts(access, state: stateText == "all" ? nil : state ?? .open)
            .filter { alert, _ in workflow.map { alert.workflowID.uppercased() == $0 } ?? true }
            .map { alert, message in alertRow(alert, message, access: access, now: now) }
        let values: [String: Any] = [
            "alerts": rows, "count": rows.count, "none": rows.isEmpty,
            "states": ["open", "acknowledged", "resolved", "all"].map { ["value": $0, "selected": $0 == stateText] as [String: Any] },
            "workflows": access.directory.directory.workflows.map { w in
                ["value": w.id.rawValue, "selected": w.id.rawValue == workflow] as [String: Any]
            },
            "refreshQuery": "state=\(stateText)&workflow=\(workflow ?? "")",
        ]
        if fragment { return ConsolePages.html(pages.render("alert-table", values)) }
        return pages.page("alerts", title: "Alerts", values, section: .alerts, access: access, session: session)
    }

    func alertRow(_ alert: Alert, _ message: MessageRecord, access: ConsoleAccess, now: Timestamp) -> [String: Any] {
        [
            "id": alert.id, "workflow": alert.workflowID, "stage": alert.stage + 1, "condition": conditionWords(alert.condition),
            "from": organisationName(message.sender, access), "to": organisationName(message.recipient, access),
            "age": ConsoleAge.words(from: alert.raisedAt, to: now), "state": alert.state.rawValue,
            "acknowledgedBy": alert.acknowledgedBy?.name as Any, "assignedTo": alert.assignedTo?.name as Any,
        ]
    }

    func organisationName(_ mailbox: MailboxID?, _ access: ConsoleAccess) -> String {
        guard let mailbox, let code = access.directory.mailboxes[mailbox]?.organisation else { return "unknown" }
        return access.directory.organisations[code]?.name ?? code.rawValue
    }

    func conditionWords(_ condition: EscalationCondition) -> String {
        switch condition {
        case .notDownloaded: "not downloaded"
        case .notAcknowledged: "not acknowledged"
        case .notAccepted: "nobody has accepted responsibility"
        case .noOutcome: "no outcome recorded"
        }
    }

    /// The alert and the one it may be acted on by this operator, or not found (never "forbidden":
    /// another organisation's alert is not theirs to know of).
    func alertFor(_ context: ConsoleRequestContext, _ access: ConsoleAccess) async throws -> (Alert, MessageRecord) {
        guard let id = context.parameters.get("alert"), let alert = try await store.alert(id: id),
            let message = try await store.message(alert.messageID),
            access.mayActOnAlerts(about: message)
        else { throw ConsoleRefusal.notFound }
        return (alert, message)
    }

    func alertPage(
        _ request: Request, _ context: ConsoleRequestContext, error: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws
        -> Response
    {
        let (session, access) = try self.access(context, for: .alerts)
        let (alert, message) = try await alertFor(context, access)
        let now = clock()
        var values = alertRow(alert, message, access: access, now: now)
        values["messageID"] = message.id.rawValue
        values["raisedAt"] = alert.raisedAt.isoUTC
        values["dueAt"] = alert.dueAt.isoUTC
        values["acknowledgedNote"] = alert.acknowledgedNote as Any
        values["acknowledgedAt"] = alert.acknowledgedAt?.isoUTC as Any
        values["resolvedReason"] = alert.resolvedReason as Any
        values["assignedAt"] = alert.assignedAt?.isoUTC as Any
        values["colleagues"] = try await colleagues(for: message, access).map {
            ["email": $0.email, "name": $0.name, "organisations": $0.organisations.joined(separator: ", ")]
        }
        values["open"] = alert.state == .open
        values["unresolved"] = alert.state != .resolved
        values["repeats"] = alert.state == .open && alert.nextNotifyAt != nil
        values["nextNotifyAt"] = alert.nextNotifyAt?.isoUTC as Any
        values["snoozeChoices"] = Self.snoozeChoices.map { ["minutes": $0.minutes, "words": $0.words] as [String: Any] }
        values["safeguarding"] = access.directory.workflows[WorkflowID(alert.workflowID)]?.safeguarding ?? false
        values["error"] = error as Any
        values["escalated"] = request.uri.queryParameters.get("escalated").flatMap { Int($0) } as Any
        values["timeline"] = try await store.events(messageID: message.id).map { ["at": $0.at.isoUTC, "kind": $0.kind] as [String: Any] }
        return pages.page("alert", title: "Alert \(alert.id)", values, section: .alerts, access: access, session: session, status: status)
    }

    /// "I'm on it": stops repeats; does not accept responsibility, and on a safeguarding workflow the
    /// not-accepted deadline stands (the escalation planner reads the message, not the alert).
    func acknowledgeAlert(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, access) = try self.access(context, for: .alerts)
        let form = try await ConsoleForm.read(request, expectedToken: session.csrfToken)
        let (alert, _) = try await alertFor(context, access)
        guard let note = form.text("note"), note.count <= 2000 else {
            return try await alertPage(
                request, context, error: "Write a note (up to 2,000 characters) saying what you are doing.", status: .badRequest)
        }
        let person = Person(name: access.user.name, role: "operator")
        let now = clock()
        let lapsesAt = EscalationRules.acknowledgementLapsesAt(alert, now: now, index: access.directory)
        guard try await store.acknowledgeAlert(id: alert.id, by: person, note: note, lapsesAt: lapsesAt, now: now) != nil else {
            throw ConsoleRefusal.notFound
        }
        try await audit(
            access.user, "alert.acknowledged", subject: "alert \(alert.id)",
            detail: .object([("by", .object([("name", .string(person.name)), ("role", .string("operator"))])), ("note", .string(note))]))
        return .redirect(to: "/console/alerts/\(alert.id)", type: .normal)
    }

    /// How long repeats may be paused: never longer than four hours, so a snoozed alert comes back
    /// the same shift.
    static let snoozeChoices: [(minutes: Int64, words: String)] = [(15, "15 minutes"), (60, "1 hour"), (240, "4 hours")]

    /// Pauses the alert's repeats for a while, with a reason; the alert stays open and its later
    /// stages (a safeguarding workflow's not-accepted deadline among them) keep their times.
    func snoozeAlert(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, access) = try self.access(context, for: .alerts)
        let form = try await ConsoleForm.read(request, expectedToken: session.csrfToken)
        let (alert, _) = try await alertFor(context, access)
        guard let reason = form.text("reason"), reason.count <= 2000,
            let minutes = form["minutes"].flatMap({ Int64($0) }), Self.snoozeChoices.contains(where: { $0.minutes == minutes })
        else {
            return try await alertPage(request, context, error: "Give a reason and choose how long, at most 4 hours.", status: .badRequest)
        }
        let now = clock()
        let until = now.adding(seconds: minutes * 60)
        let person = Person(name: access.user.name, role: "operator")
        guard try await store.snoozeAlert(id: alert.id, until: until, by: person, reason: reason, now: now) != nil else {
            return try await alertPage(request, context, error: "This alert has no repeats to pause.", status: .conflict)
        }
        try await audit(
            access.user, "alert.snoozed", subject: "alert \(alert.id)",
            detail: .object([("until", .string(until.isoUTC)), ("reason", .string(reason))]))
        return .redirect(to: "/console/alerts/\(alert.id)", type: .normal)
    }

    /// Who an alert may be handed to: operators, not disabled, of either end's organisations, the same
    /// people who may act on it.
    func colleagues(for message: MessageRecord, _ access: ConsoleAccess) async throws -> [ConsoleUser] {
        let ends = access.organisations(of: message)
        return try await store.consoleUsers().filter { !$0.disabled && $0.has(.operator) && !ends.isDisjoint(with: $0.organisations) }
            .sorted { $0.name < $1.name }
    }

    /// Hands the alert to a colleague: recorded on the alert, in the message's timeline and the audit.
    /// Its state, repeats and the message's deadlines are untouched.
    func reassignAlert(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, access) = try self.access(context, for: .alerts)
        let form = try await ConsoleForm.read(request, expectedToken: session.csrfToken)
        let (alert, message) = try await alertFor(context, access)
        guard let email = form.text("to"), let colleague = try await colleagues(for: message, access).first(where: { $0.email == email }) else {
            return try await alertPage(request, context, error: "Choose a colleague from the list.", status: .badRequest)
        }
        let by = Person(name: access.user.name, role: "operator")
        guard try await store.reassignAlert(id: alert.id, to: Person(name: colleague.name, role: "operator"), by: by, now: clock()) != nil else {
            return try await alertPage(request, context, error: "This alert is resolved: there is nothing to hand on.", status: .conflict)
        }
        try await audit(access.user, "alert.reassigned", subject: "alert \(alert.id)", detail: .object([("to", .string(colleague.email))]))
        return .redirect(to: "/console/alerts/\(alert.id)", type: .normal)
    }

    /// "Escalate now": the message's next escalation stage is brought forward and fires at once, to
    /// whoever that stage notifies. Earlier stages are not repeated; a message with no stage left says so.
    func escalateNow(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, access) = try self.access(context, for: .alerts)
        _ = try await ConsoleForm.read(request, expectedToken: session.csrfToken)
        let (alert, message) = try await alertFor(context, access)
        let person = Person(name: access.user.name, role: "operator")
        guard let stage = try await store.bringForwardNextStage(messageID: message.id, by: person, now: clock()) else {
            return try await alertPage(request, context, error: "This message has no later escalation stage to bring forward.", status: .conflict)
        }
        wakeEscalation()
        try await audit(
            access.user, "alert.escalated_now", subject: "alert \(alert.id)", detail: .object([("stage", .int(Int64(stage + 1)))]))
        return .redirect(to: "/console/alerts/\(alert.id)?escalated=\(stage + 1)", type: .normal)
    }
}
