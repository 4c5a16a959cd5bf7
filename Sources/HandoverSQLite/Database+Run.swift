import GRDB
import GRDBSQLite
import HandoverStore
import NIOCore

/// Binds a statement's parameters one after another, straight into SQLite, for the wide rows every
/// send writes. Through `StatementArguments` each value was first boxed, converted to a
/// `DatabaseValue` and checked: a profile of saturated sends put building and binding the message
/// row's 42 values at about 5 % of the broker's CPU.
struct ParameterBinder: RowValueSink {
    fileprivate let statement: SQLiteStatement
    fileprivate var count: CInt = 0
    fileprivate var failure: CInt = SQLITE_OK

    fileprivate init(_ statement: SQLiteStatement) { self.statement = statement }

    mutating func add(_ value: String?) { bind(value) }
    mutating func add(_ value: Int64?) { bind(value) }
    mutating func add(_ value: Bool?) { bind(value) }
    mutating func add(_ value: Double?) { bind(value) }

    /// The bytes as a blob (copied by SQLite, so no `Data` is made first), or NULL.
    mutating func add(bytes: ByteBuffer?) {
        count += 1
        let code =
            bytes?.withUnsafeReadableBytes { sqlite3_bind_blob(statement, count, $0.baseAddress, CInt($0.count), transient) }
            ?? sqlite3_bind_null(statement, count)
        if failure == SQLITE_OK { failure = code }
    }

    /// The next parameter: the value (GRDB's binding, as `StatementArguments` would use), or NULL.
    private mutating func bind(_ value: (some StatementBinding)?) {
        count += 1
        let code = value?.bind(to: statement, at: count) ?? sqlite3_bind_null(statement, count)
        if failure == SQLITE_OK { failure = code }
    }
}

/// SQLite's "copy the value now" destructor (`SQLITE_TRANSIENT`, a macro Swift does not import).
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

extension Database {
    /// Runs one statement compiled once per connection (GRDB's statement cache) instead of parsing
    /// its SQL on every call: parsing showed in the send path's profile.
    func run(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }

    /// Runs `sql` with every parameter bound by `bind`, in order; throws when `bind` binds more or
    /// fewer than the statement has.
    func run(sql: String, binding bind: (inout ParameterBinder) -> Void) throws {
        let statement = try cachedStatement(sql: sql)
        // Resets the statement and marks its arguments as set, so `execute()` steps it with the
        // values bound below. (A cached statement is never in a failed state: GRDB drops those.)
        statement.setUncheckedArguments(StatementArguments())
        var binder = ParameterBinder(statement.sqliteStatement)
        bind(&binder)
        let expected = sqlite3_bind_parameter_count(statement.sqliteStatement)
        guard binder.failure == SQLITE_OK, binder.count == expected else {
            throw DatabaseError(
                resultCode: binder.failure == SQLITE_OK ? .SQLITE_MISUSE : ResultCode(rawValue: binder.failure),
                message: "bound \(binder.count) of \(expected) parameters", sql: sql)
        }
        try statement.execute()
    }
}

extension Statement {
    /// The first row, decoded by `decode` while SQLite still holds it. `Row.fetchOne` first copies
    /// every column into a row of `DatabaseValue`s, and each typed read then converts its value back
    /// through GRDB's generic path (runtime metadata lookups included): decoding a message that way was
    /// about 3 % of the broker's CPU in a profile of full cycles. On the statement's own row,
    /// `row[i] as String?` reads the column straight from SQLite. `decode` must not keep the row: it
    /// is valid only until the statement moves on. The cursor resets the statement when it goes, so
    /// a lone statement's read transaction ends here, as with `fetchOne`.
    func decodeFirst<T>(arguments: StatementArguments, _ decode: (Row) throws -> T) throws -> T? {
        let cursor = try Row.fetchCursor(self, arguments: arguments)
        return try withExtendedLifetime(cursor) { try cursor.next().map(decode) }
    }

    /// Every row, each decoded as `decodeFirst` decodes the first.
    func decodeAll<T>(arguments: StatementArguments, _ decode: @escaping (Row) throws -> T) throws -> [T] {
        try Array(Row.fetchCursor(self, arguments: arguments).map(decode))
    }
}
