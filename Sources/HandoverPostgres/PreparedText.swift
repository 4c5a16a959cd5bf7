import HandoverCore
import PostgresNIO
import Synchronization

/// A hot statement's text, run as a named prepared statement: parsed, analysed and described once
/// per connection instead of on every call (profiled under full send–list–download–acknowledge
/// cycles, PostgreSQL's parser and planner and postgres-nio's per-statement exchange were a large
/// share of each cycle's cost). Declared as a type because postgres-nio names prepared statements by
/// type. Parameter types are those of the first call's arguments (a NULL's type is inferred from the
/// text), so a hot statement's parameters must keep one kind from call to call. postgres-nio keeps a
/// failed preparation's error for the connection's life, and PostgreSQL refuses to prepare inside a
/// transaction that has already failed: here no statement runs after an error in a transaction (the
/// error ends it with a rollback), and `BEGIN`, the first statement on a leased connection, is not
/// prepared.
protocol PreparedText {
    static var sql: String { get }
}

/// Runs `Text.sql`; rows come back as `SQLRow`s, as from `SQLTransaction.rows`.
struct Prepared<Text: PreparedText>: PostgresPreparedStatement {
    typealias Row = PostgresRow
    static var name: String { preparedName(Text.self) }
    static var sql: String { Text.sql }
    let arguments: [any SQLArgumentConvertible]

    func makeBindings() throws -> PostgresBindings { PostgresBindings(arguments) }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

/// A prepared statement's name, from a digest of its text: a changed text is a new name, so a pooled
/// server connection never runs another broker version's statement under the same name (and
/// PostgreSQL's 63-byte limit on names is never reached).
func preparedStatementName(for sql: String) -> String { "handover_" + sha256Hex(Array(sql.utf8)).prefix(24) }

private let preparedNames = Mutex<[ObjectIdentifier: String]>([:])

private func preparedName(_ text: any PreparedText.Type) -> String {
    if let name = preparedNames.withLock({ $0[ObjectIdentifier(text)] }) { return name }
    let name = preparedStatementName(for: text.sql)
    preparedNames.withLock { $0[ObjectIdentifier(text)] = name }
    return name
}

extension SQLTransaction {
    @discardableResult
    func rows<Text: PreparedText>(_ text: Text.Type, _ arguments: [any SQLArgumentConvertible] = []) async throws -> [SQLRow] {
        var out: [SQLRow] = []
        for try await row in try await connection.execute(Prepared<Text>(arguments: arguments), logger: logger) {
            out.append(SQLRow(cells: row.makeRandomAccess()))
        }
        return out
    }

    func row<Text: PreparedText>(_ text: Text.Type, _ arguments: [any SQLArgumentConvertible] = []) async throws -> SQLRow? {
        try await rows(text, arguments).first
    }

    /// Runs a statement; with `RETURNING 1`, the result is the number of rows it changed.
    @discardableResult
    func execute<Text: PreparedText>(_ text: Text.Type, _ arguments: [any SQLArgumentConvertible] = []) async throws -> Int {
        try await rows(text, arguments).count
    }
}
