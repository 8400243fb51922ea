import Foundation

/// The JSON conventions of the whole API, in one place so every service encodes alike.
public enum CRMJSON {
    /// Dates as RFC 3339 UTC with milliseconds; keys sorted, because otherwise their order
    /// changes from one process to the next on Linux; `/` left unescaped so URLs stay readable.
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.string(from: date))
        }
        return encoder
    }

    /// Accepts RFC 3339 with any offset, with or without a fraction of a second.
    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = RFC3339.date(from: text) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: RFC3339.requirement
                )
            }
            return date
        }
        return decoder
    }
}

/// Dates of the hot payloads (events, calls, calendar entries, envelopes) as RFC 3339 text
/// directly: the same text as CRMJSON's date strategies, without the nested encoder or decoder
/// those create for every date (a tenth of encoding an event).
extension KeyedEncodingContainer {
    /// RFC 3339 UTC with milliseconds; null when absent (every member is always present).
    public mutating func encodeTimestamp(_ date: Date?, forKey key: Key) throws {
        try encode(date.map(RFC3339.string(from:)), forKey: key)
    }
}

extension KeyedDecodingContainer {
    public func decodeTimestamp(forKey key: Key) throws -> Date {
        try Self.timestamp(try decode(String.self, forKey: key), key, self)
    }

    public func decodeTimestampIfPresent(forKey key: Key) throws -> Date? {
        try decodeIfPresent(String.self, forKey: key).map { try Self.timestamp($0, key, self) }
    }

    private static func timestamp(_ text: String, _ key: Key, _ container: Self) throws -> Date {
        guard let date = RFC3339.date(from: text) else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: RFC3339.requirement)
        }
        return date
    }
}
