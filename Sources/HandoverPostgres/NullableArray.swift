import NIOCore
import PostgresNIO

/// One column of a batch, sent as a one-dimensional PostgreSQL array in the binary format. Unlike
/// postgres-nio's own arrays, its elements may be NULL (an optional field of some messages and not
/// others), which a batch statement reading its rows with `unnest` needs.
struct NullableArray: PostgresThrowingDynamicTypeEncodable {
    enum Element: String, Sendable {
        case text, int8, float8, bool, bytea

        var arrayType: PostgresDataType {
            switch self {
            case .text: .textArray
            case .int8: .int8Array
            case .float8: .float8Array
            case .bool: .boolArray
            case .bytea: .byteaArray
            }
        }

        var elementType: PostgresDataType {
            switch self {
            case .text: .text
            case .int8: .int8
            case .float8: .float8
            case .bool: .bool
            case .bytea: .bytea
            }
        }
    }

    /// A value whose kind is not the column's: a bug in the column layout, reported rather than sent.
    struct MismatchedElement: Error, CustomStringConvertible {
        let column: String
        let expected: Element
        var description: String { "the batch column \(column) holds a value that is not \(expected.rawValue)" }
    }

    let column: String
    let element: Element
    let values: [SQLArgument]

    var psqlType: PostgresDataType { element.arrayType }
    var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) throws {
        // Header: dimensions, whether any element is NULL, the element type, then the one dimension's
        // length and lower bound (PostgreSQL's `array_recv`).
        buffer.writeInteger(Int32(values.isEmpty ? 0 : 1))
        buffer.writeInteger(Int32(values.contains { if case .null = $0 { true } else { false } } ? 1 : 0))
        buffer.writeInteger(element.elementType.rawValue)
        guard !values.isEmpty else { return }
        buffer.writeInteger(Int32(values.count))
        buffer.writeInteger(Int32(1))
        for value in values {
            switch (element, value) {
            case (_, .null):
                buffer.writeInteger(Int32(-1))
            case (.text, .text(let text)):
                buffer.writeInteger(Int32(text.utf8.count))
                buffer.writeString(text)
            case (.int8, .integer(let number)):
                buffer.writeInteger(Int32(8))
                buffer.writeInteger(number)
            case (.float8, .real(let number)):
                buffer.writeInteger(Int32(8))
                buffer.writeInteger(number.bitPattern)
            case (.bool, .bool(let flag)):
                buffer.writeInteger(Int32(1))
                buffer.writeInteger(UInt8(flag ? 1 : 0))
            case (.bytea, .bytes(var bytes)):
                buffer.writeInteger(Int32(bytes.readableBytes))
                buffer.writeBuffer(&bytes)
            default:
                throw MismatchedElement(column: column, expected: element)
            }
        }
    }
}
