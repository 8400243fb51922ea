import Contracts
import Foundation
import Postgres
import ServiceKit

/// The stored form of each attribute type — bool, integer number, canonical decimal string,
/// date string, RFC 3339 string in UTC, option string, lower-case UUID string — used alike for
/// values written through the API and for `attr.<key>=` list filters, so both compare equal.
enum AttributeValueFormat {
    struct Invalid: Error {
        let message: String
    }

    static func normalize(_ value: JSONValue, for definition: AttributeDefinition) -> Result<JSONValue, Invalid> {
        func invalid(_ message: String) -> Result<JSONValue, Invalid> { .failure(Invalid(message: message)) }
        switch definition.type {
        case .boolean:
            guard case .bool = value else { return invalid("must be true or false") }
            return .success(value)
        case .string, .text:
            // A `text` value is bounded in bytes (what the row and the message carry).
            guard let text = value.stringValue,
                definition.type == .string ? text.count <= SizeBudget.stringAttribute : text.utf8.count <= SizeBudget.longTextBytes
            else {
                return invalid(definition.type == .string
                    ? "must be a string of at most \(SizeBudget.stringAttribute) characters"
                    : "must be a string of at most \(SizeBudget.longTextBytes / 1024) KiB")
            }
            return .success(.string(text))
        case .integer:
            guard case .number(let number) = value, number.rounded() == number, abs(number) < 9.0e15 else {
                return invalid("must be an integer")
            }
            return .success(value)
        case .decimal:
            guard let text = DecimalText.canonical(value) else { return invalid("must be a decimal such as \"12.50\"") }
            return .success(.string(text))
        case .date:
            guard let text = value.stringValue, CalendarDate.isValid(text) else { return invalid("must be a date YYYY-MM-DD") }
            return .success(value)
        case .datetime:
            guard let text = value.stringValue, let date = RFC3339.date(from: text) else {
                return invalid("must be an RFC 3339 date-time with offset")
            }
            return .success(.string(RFC3339.string(from: date)))
        case .enum:
            guard let text = value.stringValue, definition.options.contains(text) else {
                return invalid("must be one of \(definition.options.joined(separator: ", "))")
            }
            return .success(value)
        case .reference:
            guard let text = value.stringValue, let id = UUID(uuidString: text) else {
                return invalid("must be the id of a \(definition.referenceKind?.rawValue ?? "catalog object")")
            }
            return .success(.string(id.lowercasedText))
        }
    }

    /// A query-string value in stored form, nil when it is not a value of the type.
    static func fromQuery(_ text: String, for definition: AttributeDefinition) -> JSONValue? {
        let value: JSONValue
        switch definition.type {
        case .boolean:
            guard let flag = Bool(text) else { return nil }
            value = .bool(flag)
        case .integer:
            guard let number = Int64(text) else { return nil }
            value = .number(Double(number))
        default:
            value = .string(text)
        }
        return try? normalize(value, for: definition).get()
    }
}

extension PostgresTransaction {
    /// True when a catalog object of that kind exists and is not deleted.
    func catalogObjectIsLive(_ id: UUID, kind: ObjectKind) async throws -> Bool {
        try await !query("SELECT 1 FROM catalog_objects WHERE id = \(id) AND kind = \(kind.rawValue) AND NOT deleted").isEmpty
    }
}
