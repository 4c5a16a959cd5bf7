import GRDB

/// SQLite checks `status IN ('a', 'b', 'c')`, a list of more than two constants, by building a
/// temporary B-tree of the list each time a statement that checks it runs: every insert into
/// `messages` (and every update of its status) opened and closed one, about 1 % of the broker's CPU
/// in a profile of saturated sends. The same check written as comparisons (`status = 'a' OR ...`)
/// costs a few instructions, and the stored table text can say so (`StoredTableText`).
enum ConstraintLists {
    /// Rewrites the stored CREATE TABLE of every table with such a list.
    static func rewrite(_ db: Database) throws { try StoredTableText.edit(db, comparisons(in:)) }

    /// `column IN ('a', 'b', 'c')` becomes `(column = 'a' OR column = 'b' OR column = 'c')`; lists of
    /// one or two constants (which SQLite already compares one by one) and everything else stay.
    static func comparisons(in sql: String) -> String {
        sql.replacing(/(?<column>[a-z_]+) IN \((?<values>'[^']*'(?:, '[^']*')*)\)/) { match in
            let values = match.output.values.split(separator: ", ")
            guard values.count > 2 else { return String(match.output.0) }
            return "(" + values.map { "\(match.output.column) = \($0)" }.joined(separator: " OR ") + ")"
        }
    }
}
