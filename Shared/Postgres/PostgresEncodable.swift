import Foundation
// Ids as SQL parameters and as text everywhere else are one format: `UUID.lowercasedText`.
@_exported import TextFormat

/// A Swift value that can be sent as a query parameter. Parameters travel in PostgreSQL's text
/// format with an unspecified type, so the server infers the type from where `$n` is used
/// (a column, a cast); this keeps one code path for every type and lets `uuid`, `numeric`,
/// `timestamptz`, `jsonb` and arrays all bind without type tables on our side.
public protocol PostgresEncodable: Sendable {
    var postgresText: String { get }
}

extension String: PostgresEncodable { public var postgresText: String { self } }
extension Substring: PostgresEncodable { public var postgresText: String { String(self) } }
extension Int: PostgresEncodable { public var postgresText: String { String(self) } }
extension Int64: PostgresEncodable { public var postgresText: String { String(self) } }
extension Int32: PostgresEncodable { public var postgresText: String { String(self) } }
extension Bool: PostgresEncodable { public var postgresText: String { self ? "true" : "false" } }
extension UUID: PostgresEncodable { public var postgresText: String { lowercasedText } }
extension Decimal: PostgresEncodable { public var postgresText: String { description } }

extension Double: PostgresEncodable {
    public var postgresText: String {
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        return "\(self)"
    }
}

extension Date: PostgresEncodable {
    /// `timestamptz` literal in UTC with microseconds, e.g. `2026-12-01 07:15:02.123456+00`.
    public var postgresText: String { PostgresTimestamp.format(self) }
}

extension Data: PostgresEncodable {
    /// `bytea` hex format.
    public var postgresText: String {
        "\\x" + lowercaseHex
    }
}

extension Array: PostgresEncodable where Element: PostgresEncodable {
    /// An array literal; every element is quoted so commas, braces and spaces are safe.
    public var postgresText: String { PostgresArrayLiteral.encode(map { $0.postgresText }) }
}

/// A `json`/`jsonb` value: the JSON text itself. Build it from any `Encodable`.
public struct PostgresJSON: PostgresEncodable, PostgresDecodable, Hashable {
    public var text: String

    public init(text: String) { self.text = text }

    public init<T: Encodable>(encoding value: T, encoder: JSONEncoder = JSONEncoder()) throws {
        text = String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public init(postgresText: String) throws { text = postgresText }

    public var postgresText: String { text }

    public func decode<T: Decodable>(_ type: T.Type, decoder: JSONDecoder = JSONDecoder()) throws -> T {
        try decoder.decode(type, from: Data(text.utf8))
    }
}
