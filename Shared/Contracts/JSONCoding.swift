import Foundation

/// The one JSON convention of the HTTP API and the topics: camelCase members as declared,
/// times as RFC 3339 (written in UTC with milliseconds, read with any offset, with or without
/// fractional seconds).
public enum JSONCoding {
    public static func makeEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.format(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func makeDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = RFC3339.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "expected an RFC 3339 date-time with offset, got '\(text)'")
            }
            return date
        }
        return decoder
    }
}

/// RFC 3339 date-times, e.g. `2026-12-01T07:15:02.123Z` or `2026-12-01T10:00:00+03:00`.
public enum RFC3339 {
    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let withoutFraction = Date.ISO8601FormatStyle()

    public static func format(_ date: Date) -> String {
        date.formatted(withFraction)
    }

    public static func parse(_ text: String) -> Date? {
        // An offset is mandatory: a bare local time would be ambiguous.
        guard text.count >= 20, text.contains("T") || text.contains("t") else { return nil }
        let normalised = text.uppercased()
        return (try? withFraction.parse(normalised)) ?? (try? withoutFraction.parse(normalised))
    }
}
