/// The inbox `workflow_filter` (reference §4.4): `WF`, `!WF`, `WF*`, `!WF*`, `*WF*`, `!*WF*`.
public struct WorkflowFilter: Hashable, Sendable {
    public enum Match: Hashable, Sendable { case equals, beginsWith, contains }
    public let match: Match
    public let negated: Bool
    /// The text to match, uppercased (workflow ids are compared case-insensitively).
    public let value: String
    /// The filter as the client wrote it, echoed in `links`.
    public let raw: String

    public init?(_ raw: String) {
        guard (2...255).contains(raw.count) else { return nil }
        var text = Substring(raw)
        negated = text.hasPrefix("!")
        if negated { text = text.dropFirst() }
        if text.hasPrefix("*") && text.hasSuffix("*") && text.count >= 2 {
            match = .contains
            text = text.dropFirst().dropLast()
        } else if text.hasSuffix("*") {
            match = .beginsWith
            text = text.dropLast()
        } else {
            match = .equals
        }
        guard !text.isEmpty, !text.contains("*") else { return nil }
        value = text.uppercased()
        self.raw = raw
    }

    public func matches(_ workflow: WorkflowID) -> Bool {
        let id = workflow.rawValue
        let hit: Bool
        switch match {
        case .equals: hit = id == value
        case .beginsWith: hit = id.hasPrefix(value)
        case .contains: hit = id.contains(value)
        }
        return hit != negated
    }
}
