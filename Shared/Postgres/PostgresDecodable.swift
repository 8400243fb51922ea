import Foundation

/// A Swift type that can be read from a column in PostgreSQL's text output format.
/// Connections set `DateStyle=ISO` and `TimeZone=UTC`, so timestamps have one shape.
public protocol PostgresDecodable: Sendable {
    init(postgresText: String) throws
}

struct PostgresDecodingFailure: Error {}

extension String: PostgresDecodable { public init(postgresText: String) { self = postgresText } }

extension Int: PostgresDecodable {
    public init(postgresText: String) throws {
        guard let value = Int(postgresText) else { throw PostgresDecodingFailure() }
        self = value
    }
}

extension Int64: PostgresDecodable {
    public init(postgresText: String) throws {
        guard let value = Int64(postgresText) else { throw PostgresDecodingFailure() }
        self = value
    }
}

extension Int32: PostgresDecodable {
    public init(postgresText: String) throws {
        guard let value = Int32(postgresText) else { throw PostgresDecodingFailure() }
        self = value
    }
}

extension Double: PostgresDecodable {
    public init(postgresText: String) throws {
        switch postgresText {
        case "NaN": self = .nan
        case "Infinity": self = .infinity
        case "-Infinity": self = -.infinity
        default:
            guard let value = Double(postgresText) else { throw PostgresDecodingFailure() }
            self = value
        }
    }
}

extension Bool: PostgresDecodable {
    public init(postgresText: String) throws {
        switch postgresText {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw PostgresDecodingFailure()
        }
    }
}

extension UUID: PostgresDecodable {
    public init(postgresText: String) throws {
        guard let value = UUID(uuidString: postgresText) else { throw PostgresDecodingFailure() }
        self = value
    }
}

extension Decimal: PostgresDecodable {
    public init(postgresText: String) throws {
        guard let value = Decimal(string: postgresText, locale: Locale(identifier: "en_US_POSIX"))
        else { throw PostgresDecodingFailure() }
        self = value
    }
}

extension Date: PostgresDecodable {
    public init(postgresText: String) throws {
        guard let value = PostgresTimestamp.parse(postgresText) else { throw PostgresDecodingFailure() }
        self = value
    }
}

extension Data: PostgresDecodable {
    public init(postgresText: String) throws {
        guard postgresText.hasPrefix("\\x") else { throw PostgresDecodingFailure() }
        let hex = Array(postgresText.utf8.dropFirst(2))
        guard hex.count % 2 == 0 else { throw PostgresDecodingFailure() }
        var bytes = [UInt8]()
        bytes.reserveCapacity(hex.count / 2)
        var index = 0
        while index < hex.count {
            guard let high = hexValue(hex[index]), let low = hexValue(hex[index + 1]) else {
                throw PostgresDecodingFailure()
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        self = Data(bytes)
    }
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    /// One-dimensional arrays; a NULL element cannot be represented and fails decoding.
    public init(postgresText: String) throws {
        guard let elements = PostgresArrayLiteral.parse(postgresText) else { throw PostgresDecodingFailure() }
        self = try elements.map { element in
            guard let element else { throw PostgresDecodingFailure() }
            return try Element(postgresText: element)
        }
    }
}
