import Foundation
import HandoverCore
import HandoverStore
import Hummingbird
import Yams

/// The routing directory for everyone to read and admins to edit as YAML: validate (every problem
/// listed by entry and field), review (the changes and which addresses would route differently),
/// apply (with the version the editor started from; a concurrent edit is refused showing both).
/// Webhook addresses and secrets are shown to admins only.
extension Console {
    func registerDirectory(on group: RouterGroup<ConsoleRequestContext>) {
        group.get("directory") { request, context in try await directoryPage(request, context) }
        group.get("directory/edit") { request, context in try await editPage(request, context) }
        group.get("directory/compare") { request, context in try await comparePage(request, context) }
        group.post("directory/edit") { request, context in try await submitEdit(request, context) }
        group.get("directory/history") { _, context in try await historyPage(context) }
        group.get("directory/versions/:version") { _, context in try await versionPage(context) }
        registerDirectoryProposals(on: group)
    }

    func directoryPage(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, access) = try self.access(context, for: .directory)
        let d = access.directory.directory
        let proposals = try await pendingProposals()
        let values: [String: Any] = [
            "version": access.directory.version, "mayEdit": access.mayEditDirectory,
            "applied": request.uri.queryParameters.get("applied") as Any, "proposals": proposals, "hasProposals": !proposals.isEmpty,
            "organisations": d.organisations.map { ["code": $0.code.rawValue, "name": $0.name, "domain": $0.domain.rawValue] as [String: Any] },
            "mailboxes": d.mailboxes.map { m in
                ["id": m.id.rawValue, "name": m.name, "organisation": m.organisation.rawValue, "active": m.active ? "yes" : "no"] as [String: Any]
            },
            "services": d.services.map { s in
                [
                    "id": s.id, "mailbox": s.mailbox.rawValue, "workflows": s.workflows.map(\.rawValue).joined(separator: ", "),
                    "areas": s.areas.joined(separator: ", "),
                ] as [String: Any]
            },
            "areas": d.areas.map { ["code": $0.code, "name": $0.name, "postcodes": $0.postcodeDistricts.joined(separator: " ")] as [String: Any] },
            "workflows": d.workflows.map { w in
                ["id": w.id.rawValue, "safeguarding": w.safeguarding ? "yes" : "no", "escalation": w.escalation ?? "none"] as [String: Any]
            },
            "webhooks": d.webhooks.map { h in
                ["id": h.id, "url": access.maySeeDirectorySecrets ? h.url : "hidden (admins only)"] as [String: Any]
            },
        ]
        return pages.page("directory", title: "Directory", values, section: .directory, access: access, session: session)
    }

    func adminAccess(_ context: ConsoleRequestContext) throws -> (ConsoleSession, ConsoleAccess) {
        let (session, access) = try self.access(context, for: .directory)
        guard access.mayEditDirectory else { throw ConsoleRefusal.notYourPage }
        return (session, access)
    }

    func currentYAML() async throws -> (text: String, version: Int64) {
        guard let current = try await store.currentDirectory() else { return ("", 0) }
        return (try YAMLEncoder().encode(DirectorySecrets.redacted(current.document)), current.version)
    }

    /// The editor with the version in force, or with an earlier version to restore (`?from=N`): a
    /// restore is an edit like any other, validated, reviewed and applied as a new version.
    func editPage(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        _ = try adminAccess(context)
        guard let raw = request.uri.queryParameters.get("from") else { return try await editPage(context, yaml: nil, version: nil) }
        guard let n = Int64(raw), let stored = try await store.directoryVersion(n) else { throw ConsoleRefusal.notFound }
        return try await editPage(
            context, yaml: try YAMLEncoder().encode(DirectorySecrets.redacted(stored.document)), version: nil, extra: ["restoring": n])
    }

    /// What changed between two versions, and which addresses route differently.
    func comparePage(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, access) = try self.access(context, for: .directory)
        let q = request.uri.queryParameters
        guard let a = q.get("from").flatMap({ Int64($0) }), let b = q.get("to").flatMap({ Int64($0) }), let old = try await store.directoryVersion(a),
            let new = try await store.directoryVersion(b)
        else { throw ConsoleRefusal.notFound }
        let changes = DirectoryDiff.changes(from: old.document, to: new.document)
        let impact = RoutingImpact.between(
            DirectoryBuilder.build([(source: "directory", document: old.document)]).0,
            DirectoryBuilder.build([(source: "directory", document: new.document)]).0)
        let values: [String: Any] = [
            "from": a, "to": b, "changes": changes.map { ["text": $0.summary] }, "noChanges": changes.isEmpty, "impact": impactRows(impact),
            "noImpact": impact.changes.isEmpty, "mayEdit": access.mayEditDirectory,
        ]
        return pages.page(
            "directory-compare", title: "Directory versions \(a) and \(b)", values, section: .directory, access: access, session: session)
    }

    func editPage(
        _ context: ConsoleRequestContext, yaml: String?, version: Int64?, extra: [String: Any] = [:], status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let (session, access) = try adminAccess(context)
        let current = try await currentYAML()
        var values = extra
        values["yaml"] = yaml ?? current.text
        values["version"] = version ?? current.version
        return pages.page(
            "directory-edit", title: "Edit the directory", values, section: .directory, access: access, session: session, status: status)
    }

    func submitEdit(_ request: Request, _ context: ConsoleRequestContext) async throws -> Response {
        let (session, access) = try adminAccess(context)
        let form = try await ConsoleForm.read(request, expectedToken: session.csrfToken, maximumBytes: 10 << 20)
        let yaml = form["yaml"] ?? ""
        let started = form["version"].flatMap(Int64.init)
        let action = form["action"] ?? "validate"
        func again(_ extra: [String: Any], _ status: HTTPResponse.Status = .badRequest) async throws -> Response {
            try await editPage(context, yaml: yaml, version: started, extra: extra, status: status)
        }
        let document: DirectoryDocument
        do {
            guard !yaml.contains(DirectorySecrets.placeholder) else {
                return try await again(
                    problems(["A secret is shown as \(DirectorySecrets.placeholder): write it as a ${VARIABLE} reference instead."]))
            }
            try DirectoryText.checkNesting(yaml)
            document = try YAMLDecoder().decode(DirectoryDocument.self, from: yaml)
            let unknown = DirectoryKeyCheck.problems(in: try YAMLDecoder().decode(KeyTree.self, from: yaml), source: "directory")
            guard unknown.isEmpty else { return try await again(problems(unknown.map(\.description))) }
        } catch let problem as DirectoryProblem {
            return try await again(problems([problem.description]))
        } catch {
            return try await again(problems(["This is not a directory document: \(describeDecodingError(error))"]))
        }
        let outcome: DirectoryManager.Outcome
        do {
            outcome = try await propose(document, form, access)
        } catch let conflict as DirectoryVersionConflict {
            let current = try await currentYAML()
            return try await again(
                [
                    "conflict": true, "started": started ?? 0, "currentVersion": conflict.current ?? 0, "currentYAML": current.text,
                ], .conflict)
        }
        switch outcome {
        case .invalid(let list):
            return try await again(problems(list.map(\.description)))
        case .needsConfirmation(let impact):
            return try await again(["review": true, "impact": impactRows(impact), "needsConfirmation": true], .conflict)
        case .dryRun(let changes, let impact, let warnings, let reasons):
            return try await again(reviewValues(changes, impact, warnings, reasons, review: action == "review"), .ok)
        case .needsApproval:
            switch try await proposeForApproval(document, form, access) {
            case .invalid(let list): return try await again(problems(list.map(\.description)))
            case .proposed(let proposal): return .redirect(to: "/console/directory/proposals/\(proposal.id)?proposed=1", type: .normal)
            }
        case .applied(let version, _, _, _):
            return .redirect(to: "/console/directory?applied=\(version)", type: .normal)
        }
    }

    /// The editors' one step: validate or review (a dry run), or apply against the version the
    /// editor started from, confirming the routing impact if the box was ticked.
    func propose(_ document: DirectoryDocument, _ form: ConsoleForm, _ access: ConsoleAccess) async throws -> DirectoryManager.Outcome {
        let apply = form["action"] == "apply"
        return try await manager.propose(
            document, expectedVersion: apply ? form["version"].flatMap(Int64.init) : nil, actor: actor(access.user), dryRun: !apply,
            confirmImpact: form["confirm_impact"] == "yes")
    }

    /// A dry run on the page: the changes, the routing impact and any warnings.
    func reviewValues(
        _ changes: [DirectoryChange], _ impact: RoutingImpact, _ warnings: [DirectoryValidator.Problem], _ approvalReasons: [String], review: Bool
    ) -> [String: Any] {
        [
            "checked": true, "review": review, "changes": changes.map { ["text": $0.summary] }, "noChanges": changes.isEmpty,
            "impact": impactRows(impact), "warnings": warnings.map { ["text": $0.description] },
            "needsApproval": !approvalReasons.isEmpty, "approvalReasons": approvalReasons.map { ["reason": $0] },
        ]
    }

    func problems(_ list: [String]) -> [String: Any] { ["problems": list.map { ["text": $0] }, "hasProblems": true] }

    func impactRows(_ impact: RoutingImpact) -> [[String: Any]] {
        impact.changes.map { c in ["workflow": c.workflow, "address": c.address, "before": c.before, "after": c.after, "effect": c.effect.rawValue] }
    }

    func historyPage(_ context: ConsoleRequestContext) async throws -> Response {
        let (session, access) = try self.access(context, for: .directory)
        let versions = try await store.directoryHistory(limit: 200).map { v in
            [
                "version": v.version, "at": v.createdAt.isoUTC, "actor": v.actor, "changes": v.changes.map { ["text": $0.summary] },
            ] as [String: Any]
        }
        return pages.page(
            "directory-history", title: "Directory history", ["versions": versions], section: .directory, access: access, session: session)
    }

    func versionPage(_ context: ConsoleRequestContext) async throws -> Response {
        let (session, access) = try self.access(context, for: .directory)
        guard let n = context.parameters.get("version").flatMap(Int64.init), let stored = try await store.directoryVersion(n) else {
            throw ConsoleRefusal.notFound
        }
        let document = visibleDocument(stored.document, access)
        let current = access.directory.version
        return pages.page(
            "directory-version", title: "Directory version \(n)",
            [
                "version": n, "yaml": try YAMLEncoder().encode(document), "current": current, "isCurrent": n == current,
                "mayEdit": access.mayEditDirectory, "others": (1...max(1, current)).filter { $0 != n }.reversed().map { ["value": $0] },
            ], section: .directory, access: access, session: session)
    }
}
