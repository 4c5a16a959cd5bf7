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

    /// Text with its UTF-8 length, copied by SQLite from the string's own storage. GRDB's binding
    /// passes the `String` where C wants a `char *`, and Swift makes that pointer by copying the text
    /// into a new NUL-terminated array on every call: 11 % of the `malloc` calls a send made, in a
    /// count of them by caller.
    mutating func add(_ value: String?) {
        count += 1
        guard var value else { return record(sqlite3_bind_null(statement, count)) }
        let code = value.withUTF8 { text in
            // An empty buffer need not have an address, and a NULL pointer would bind NULL, not "".
            guard let start = text.baseAddress else { return "".withCString { sqlite3_bind_text(statement, count, $0, 0, transient) } }
            return sqlite3_bind_text(statement, count, start, CInt(text.count), transient)
        }
        record(code)
    }
    mutating func add(_ value: Int64?) { bind(value) }
    mutating func add(_ value: Bool?) { bind(value) }
    mutating func add(_ value: Double?) { bind(value) }

    /// The bytes as a blob (copied by SQLite, so no `Data` is made first), or NULL.
    mutating func add(bytes: ByteBuffer?) {
        count += 1
        let code =
            bytes?.withUnsafeReadableBytes { sqlite3_bind_blob(statement, count, $0.baseAddress, CInt($0.count), transient) }
            ?? sqlite3_bind_null(statement, count)
        record(code)
    }

    /// The next parameter: the value (GRDB's binding, as `StatementArguments` would use), or NULL.
    private mutating func bind(_ value: (some StatementBinding)?) {
        count += 1
        let code = value?.bind(to: statement, at: count) ?? sqlite3_bind_null(statement, count)
        record(code)
    }

    /// Keeps the first failure (`run` reports it).
    private mutating func record(_ code: CInt) {
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

extension Database {
    /// The first column of a read-only statement's first row, read in place (`Statement.decodeFirst`);
    /// nil when there is no row or the value is NULL. For the single values every send's write reads
    /// (the inbox's last position, the audit chain's head), where GRDB's `fetchOne` was about 3 % of
    /// the writer's CPU each in a profile of saturated sends.
    func firstValue<Value: DatabaseValueConvertible & StatementColumnConvertible>(sql: String) throws -> Value? {
        try cachedStatement(sql: sql).decodeFirst(arguments: StatementArguments()) { $0[0] as Value? } ?? nil
    }
}

/// A row's columns read by position, typed: GRDB's `Row`, or the statement's current row itself.
protocol ColumnValues {
    func value<Value: DatabaseValueConvertible & StatementColumnConvertible>(at index: Int) -> Value
}

extension ColumnValues {
    subscript<Value: DatabaseValueConvertible & StatementColumnConvertible>(_ index: Int) -> Value { value(at: index) }
}

extension Row: ColumnValues {
    func value<Value: DatabaseValueConvertible & StatementColumnConvertible>(at index: Int) -> Value { self[index] }
}

/// The columns of the row a statement has just stepped to, read straight from SQLite
/// (`sqlite3_column_*`, through GRDB's own conversions). GRDB's statement-backed `Row` reads them the
/// same way but first builds a lowercased name-to-index dictionary of every column: for a message's
/// forty columns that was 3 % of the broker's CPU in a profile of full cycles. Valid only until the
/// statement steps again or is reset.
struct StatementColumns: ColumnValues {
    fileprivate let statement: SQLiteStatement

    /// The column's value. GRDB's conversions accept any stored value except NULL, and every column
    /// these reads take as non-optional is `NOT NULL` in the schema, so no stored row reaches the trap;
    /// GRDB's `Row` traps the same way.
    func value<Value: DatabaseValueConvertible & StatementColumnConvertible>(at index: Int) -> Value {
        guard let value = Value.fromStatement(statement, atUncheckedIndex: CInt(index)) else {
            preconditionFailure("column \(index) does not hold a \(Value.self)")
        }
        return value
    }
}

extension Statement {
    /// The first row of a read-only statement, decoded in place (`StatementColumns`) instead of being
    /// copied into a `Row` first: `Row.fetchOne` copies every column into a `DatabaseValue` and each
    /// typed read then converts it back through GRDB's generic path (runtime metadata lookups
    /// included), about 3 % of the broker's CPU in a profile of full cycles. The statement is reset
    /// before this returns, so a lone statement's read transaction ends here, as with `fetchOne`.
    /// Read-only because it steps the statement itself, outside GRDB's bookkeeping of what a
    /// statement changes (writes go through GRDB).
    func decodeFirst<T>(arguments: StatementArguments, _ decode: (StatementColumns) throws -> T) throws -> T? {
        var first: T?
        try decodeRows(arguments: arguments) { columns in
            first = try decode(columns)
            return false
        }
        return first
    }

    /// The first row a write returns (`UPDATE … RETURNING`), decoded in place as `decodeFirst` decodes,
    /// but stepped by GRDB's own cursor, so GRDB sees the statement run exactly as through `Row.fetchOne`
    /// (its bookkeeping of what a statement changes stays in charge). The cursor reads the first column
    /// as text, which any stored value converts to without an error; the row is then decoded from the
    /// statement before the cursor resets it. `Row.fetchOne` and the copied row's decoding were 4.5 % of
    /// the broker's CPU in a profile of full cycles (each download marks its message this way).
    func decodeFirstReturned<T>(arguments: StatementArguments, _ decode: (StatementColumns) throws -> T) throws -> T? {
        let cursor = try Optional<String>.fetchCursor(self, arguments: arguments)
        return try withExtendedLifetime(cursor) {
            guard try cursor.next() != nil else { return nil }
            return try decode(StatementColumns(statement: sqliteStatement))
        }
    }

    /// Every row, each decoded as `decodeFirst` decodes the first.
    func decodeAll<T>(arguments: StatementArguments, _ decode: (StatementColumns) throws -> T) throws -> [T] {
        var rows: [T] = []
        try decodeRows(arguments: arguments) { columns in
            rows.append(try decode(columns))
            return true
        }
        return rows
    }

    /// Steps through the rows while `body` returns true, then resets the statement.
    private func decodeRows(arguments: StatementArguments, _ body: (StatementColumns) throws -> Bool) throws {
        // The callers pass fixed SQL, never a request's: this guards the code, not its input, and it
        // fails the one call rather than the broker.
        guard isReadonly else { throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "decoding in place is for read-only statements", sql: sql) }
        try setArguments(arguments)
        defer { sqlite3_reset(sqliteStatement) }
        while true {
            switch sqlite3_step(sqliteStatement) {
            case SQLITE_ROW: if try !body(StatementColumns(statement: sqliteStatement)) { return }
            case SQLITE_DONE: return
            case let code:
                let message = String(cString: sqlite3_errmsg(sqlite3_db_handle(sqliteStatement)))
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
            }
        }
    }
}
