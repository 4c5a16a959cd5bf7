/// A MESH mailbox id. MESH ids are uppercase; input is uppercased so lookups never depend on case.
public struct MailboxID: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public let rawValue: String
    public init(_ raw: String) { rawValue = raw.uppercased() }
    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public init(from decoder: any Decoder) throws { self.init(try decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// An ODS organisation code (or a local-authority code such as `713`), stored uppercase.
public struct ODSCode: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public let rawValue: String
    public init(_ raw: String) { rawValue = raw.uppercased() }
    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public init(from decoder: any Decoder) throws { self.init(try decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// A MESH workflow id. Case is preserved on the wire but comparisons use the uppercase form,
/// because the directory stores codes uppercase (contract §2).
public struct WorkflowID: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    public let rawValue: String
    public init(_ raw: String) { rawValue = raw.uppercased() }
    public var description: String { rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public init(from decoder: any Decoder) throws { self.init(try decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}

/// A message id. Treated as opaque (clients do), but the sandbox uppercases ids in paths, so we do too.
public struct MessageID: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String
    public init(_ raw: String) { rawValue = raw.uppercased() }
    public var description: String { rawValue }
    public init(from decoder: any Decoder) throws { self.init(try decoder.singleValueContainer().decode(String.self)) }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(rawValue)
    }
}
