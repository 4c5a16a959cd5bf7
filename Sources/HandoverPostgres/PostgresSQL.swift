import HandoverCore
import HandoverStore
import Logging
import NIOCore
import PostgresNIO

/// A bound argument. Statements here are written with `$1, $2, …` and a plain argument list, like the
/// SQLite backend's, instead of string interpolation, so dynamic clauses (filters, searches) stay simple.
enum SQLArgument: Sendable {
    case null, text(String), integer(Int64), real(Double), bool(Bool), bytes(ByteBuffer), integers([Int64])
}

protocol SQLArgumentConvertible: Sendable { var sqlArgument: SQLArgument { get } }
extension String: SQLArgumentConvertible { var sqlArgument: SQLArgument { .text(self) } }
extension Int: SQLArgumentConvertible { var sqlArgument: SQLArgument { .integer(Int64(self)) } }
extension Int64: SQLArgumentConvertible { var sqlArgument: SQLArgument { .integer(self) } }
extension Double: SQLArgumentConvertible { var sqlArgument: SQLArgument { .real(self) } }
extension Bool: SQLArgumentConvertible { var sqlArgument: SQLArgument { .bool(self) } }
extension ByteBuffer: SQLArgumentConvertible { var sqlArgument: SQLArgument { .bytes(self) } }
extension Timestamp: SQLArgumentConvertible { var sqlArgument: SQLArgument { .integer(microsecondsSinceEpoch) } }
extension SQLArgument: SQLArgumentConvertible { var sqlArgument: SQLArgument { self } }
extension Optional: SQLArgumentConvertible where Wrapped: SQLArgumentConvertible {
    var sqlArgument: SQLArgument { self?.sqlArgument ?? .null }
}

/// Where a statement's arguments are put one at a time: a plain list, or a batch's columns
/// (`BatchColumns`), which so take each value without boxing it first.
protocol ArgumentSink: RowValueSink {
    mutating func put(_ value: some SQLArgumentConvertible)
    /// `count` values this row does not have: left out of a list (its statement has no place for
    /// them), NULL in a batch's columns.
    mutating func absent(count: Int)
}

extension ArgumentSink {
    mutating func add(_ value: String?) { put(value) }
    mutating func add(_ value: Int64?) { put(value) }
    mutating func add(_ value: Bool?) { put(value) }
    mutating func add(_ value: Double?) { put(value) }
}

/// Arguments for a statement with a placeholder per value.
struct ArgumentList: ArgumentSink {
    private(set) var values: [any SQLArgumentConvertible] = []

    init(capacity: Int = 0) { values.reserveCapacity(capacity) }

    mutating func put(_ value: some SQLArgumentConvertible) { values.append(value) }
    mutating func absent(count: Int) {}
}

extension PostgresQuery {
    init(_ sql: String, _ arguments: [any SQLArgumentConvertible]) { self.init(unsafeSQL: sql, binds: PostgresBindings(arguments)) }
}

extension PostgresBindings {
    init(_ arguments: [any SQLArgumentConvertible]) {
        self.init(capacity: arguments.count)
        for argument in arguments {
            switch argument.sqlArgument {
            case .null: appendNull()
            case .text(let v): append(v)
            case .integer(let v): append(v)
            case .real(let v): append(v)
            case .bool(let v): append(v)
            case .bytes(let v): append(v)
            case .integers(let v): append(v)
            }
        }
    }
}

/// A fetched row read by column name.
struct SQLRow {
    let cells: PostgresRandomAccessRow

    func callAsFunction<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try cells[column].decode(T.self)
    }

    func timestamp(_ column: String) throws -> Timestamp? {
        try (cells[column].decode(Int64?.self)).map { Timestamp(microsecondsSinceEpoch: $0) }
    }

    /// A NOT NULL time column: a NULL there is a damaged row, reported as an error rather than a trap.
    func requiredTimestamp(_ column: String) throws -> Timestamp {
        guard let value = try timestamp(column) else { throw UnexpectedRow(detail: "\(column) is NULL") }
        return value
    }
}

/// A row that the schema should have made impossible (a NULL in a NOT NULL column, no row from an aggregate).
struct UnexpectedRow: Error, CustomStringConvertible {
    let detail: String
    var description: String { "unexpected row: \(detail)" }
}

extension Optional where Wrapped == SQLRow {
    /// The row a query always returns (an aggregate), or an error instead of a trap.
    func orThrow() throws -> SQLRow {
        guard let row = self else { throw UnexpectedRow(detail: "the query returned no row") }
        return row
    }
}

/// One open transaction. Timeline events and audit entries are collected and written in one
/// statement at commit; audit entries are chained later by the store's sealer (`sealAudit`), so no
/// transaction waits on the chain's lock.
final class SQLTransaction: @unchecked Sendable {
    let connection: PostgresConnection
    let logger: Logger
    var pendingAudit: [(record: AuditRecord, at: Timestamp)] = []
    /// Timeline events, written with the audit entries in one statement at commit (nothing reads
    /// them inside the transaction).
    var pendingEvents: [(message: String, at: Timestamp, kind: String, detail: String)] = []
    /// Notification channels to signal when this transaction commits.
    var notify: Set<String> = []

    init(connection: PostgresConnection, logger: Logger) { (self.connection, self.logger) = (connection, logger) }

    @discardableResult
    func rows(_ sql: String, _ arguments: [any SQLArgumentConvertible] = []) async throws -> [SQLRow] {
        var out: [SQLRow] = []
        for try await row in try await connection.query(PostgresQuery(sql, arguments), logger: logger) {
            out.append(SQLRow(cells: row.makeRandomAccess()))
        }
        return out
    }

    func row(_ sql: String, _ arguments: [any SQLArgumentConvertible] = []) async throws -> SQLRow? {
        try await rows(sql, arguments).first
    }

    /// Runs a statement; with `RETURNING 1`, the result is the number of rows it changed.
    @discardableResult
    func execute(_ sql: String, _ arguments: [any SQLArgumentConvertible] = []) async throws -> Int {
        try await rows(sql, arguments).count
    }

    func audit(_ record: AuditRecord, now: Timestamp) { pendingAudit.append((record, now)) }
}
