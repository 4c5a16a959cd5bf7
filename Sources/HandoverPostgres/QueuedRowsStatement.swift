import HandoverCore
import HandoverStore
import PostgresNIO

/// A transaction's timeline events and audit entries (`PostgresStore.flushQueued`): each field one
/// array, so one text, prepared once per connection, serves any number of either (an empty array
/// inserts nothing).
struct QueuedRowsStatement: PostgresPreparedStatement {
    typealias Row = PostgresRow
    static let name = preparedStatementName(for: sql)
    static let sql = """
        WITH e AS (INSERT INTO message_events (message_id, at, kind, detail)
                   SELECT * FROM unnest($1::text[], $2::int8[], $3::text[], $4::text[]))
        INSERT INTO audit_pending (at, actor, action, subject, detail)
            SELECT * FROM unnest($5::int8[], $6::text[], $7::text[], $8::text[], $9::text[])
        """
    let events: [(message: String, at: Timestamp, kind: String, detail: String)]
    let audit: [(record: AuditRecord, at: Timestamp)]

    func makeBindings() throws -> PostgresBindings {
        func column(_ name: String, _ element: NullableArray.Element, _ values: [SQLArgument]) -> NullableArray {
            NullableArray(column: name, element: element, values: values)
        }
        let columns = [
            column("event message", .text, events.map { .text($0.message) }),
            column("event at", .int8, events.map { .integer($0.at.microsecondsSinceEpoch) }),
            column("event kind", .text, events.map { .text($0.kind) }), column("event detail", .text, events.map { .text($0.detail) }),
            column("audit at", .int8, audit.map { .integer($0.at.microsecondsSinceEpoch) }),
            column("audit actor", .text, audit.map { .text($0.record.actor) }),
            column("audit action", .text, audit.map { .text($0.record.action) }),
            column("audit subject", .text, audit.map { .text($0.record.subject) }),
            column("audit detail", .text, audit.map { .text($0.record.detail) }),
        ]
        var bindings = PostgresBindings(capacity: columns.count)
        for column in columns { try bindings.append(column) }
        return bindings
    }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}
