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
                    debugDescription: "must be an RFC 3339 date-time with an offset, e.g. 2026-12-01T10:00:00+03:00"
                )
            }
            return date
        }
        return decoder
    }
}
