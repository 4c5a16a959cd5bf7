/// Which parts of a directory edit touch a safeguarding workflow's routing, policy or mailboxes: the
/// changes that need a second admin's approval (`DirectoryManager.propose` refuses them with these
/// reasons; a proposal carries them to its approver). Each reason names the workflow and what
/// changed, never a value.
public enum SafeguardingChangeGate {
    public static func reasons(from old: Directory, to new: Directory) -> [String] {
        let guarded = Set((old.workflows + new.workflows).filter(\.safeguarding).map(\.id))
        guard !guarded.isEmpty else { return [] }
        var out: [String] = []
        let impact = RoutingImpact.between(old, new)
        for id in guarded.sorted(by: { $0.rawValue < $1.rawValue }) {
            let name = id.rawValue
            let before = old.workflows.first { $0.id == id }
            let after = new.workflows.first { $0.id == id }
            if before != after {
                out.append(before == nil ? "workflow \(name) added" : after == nil ? "workflow \(name) removed" : "workflow \(name) changed")
            }
            for policy in Set([before?.escalation, after?.escalation].compactMap { $0 }).sorted()
            where old.escalationPolicies.first(where: { $0.id == policy }) != new.escalationPolicies.first(where: { $0.id == policy }) {
                out.append("escalation policy \(policy) of \(name) changed")
            }
            let services = Set((old.services + new.services).filter { $0.workflows.contains(id) }.map(\.id))
            for service in services.sorted() where old.services.first(where: { $0.id == service }) != new.services.first(where: { $0.id == service })
            {
                out.append("service \(service) carrying \(name) changed")
            }
            // The mailboxes it names; those of the organisations that send it; those of a receiving
            // organisation with no service for it (addressed by organisation, it goes to their
            // mailbox); and those of the services that carry it.
            let workflows = [before, after].compactMap { $0 }
            let carriers = (old.services + new.services).filter { $0.workflows.contains(id) }
            let senders = Set(workflows.flatMap(\.senders))
            let receivers = Set(workflows.flatMap(\.receivers)).subtracting(carriers.map(\.organisation.rawValue))
            let named = Set(
                (senders.union(receivers)).map(MailboxID.init)
                    + (old.mailboxes + new.mailboxes).filter {
                        senders.contains($0.organisation.rawValue) || receivers.contains($0.organisation.rawValue)
                    }.map(\.id)
                    + carriers.map(\.mailbox))
            for mailbox in named.sorted(by: { $0.rawValue < $1.rawValue })
            where old.mailboxes.first(where: { $0.id == mailbox }) != new.mailboxes.first(where: { $0.id == mailbox }) {
                out.append("mailbox \(mailbox.rawValue) used by \(name) changed")
            }
            let moved = impact.changes.filter { $0.workflow == name }.count
            if moved > 0 { out.append("\(moved) address(es) of \(name) would route differently") }
        }
        return out
    }
}
