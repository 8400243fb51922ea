import Foundation
import TextFormat

/// Formats and parses `timestamptz` text without a formatter object on the hot path.
enum PostgresTimestamp {
    static func format(_ date: Date) -> String {
        let totalMicros = (date.timeIntervalSince1970 * 1_000_000).rounded()
        var seconds = time_t((totalMicros / 1_000_000).rounded(.down))
        let micros = Int(totalMicros - Double(seconds) * 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let year = Int(parts.tm_year) + 1900
        guard (1...9999).contains(year) else {
            return String(
                format: "%04d-%02d-%02d %02d:%02d:%02d.%06d+00",
                year, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), micros)
        }
        // Digit by digit: `String(format:)` cost more than the rest of a multi-row insert
        // (every event row carries four timestamps).
        return ASCIIWriter.string(capacity: 29) { text in
            text.digits(year, width: 4); text.character("-"); text.digits(Int(parts.tm_mon + 1), width: 2)
            text.character("-"); text.digits(Int(parts.tm_mday), width: 2); text.character(" ")
            text.digits(Int(parts.tm_hour), width: 2); text.character(":"); text.digits(Int(parts.tm_min), width: 2)
            text.character(":"); text.digits(Int(parts.tm_sec), width: 2); text.character("."); text.digits(micros, width: 6)
            text.character("+"); text.digits(0, width: 2)
        }
    }

    /// Parses `YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM[:SS]]]` (PostgreSQL ISO output), also with `T`.
    static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0

        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for _ in 0..<digits {
                let byte = bytes[index]
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
                index += 1
            }
            return value
        }
        func expect(_ allowed: Set<UInt8>) -> Bool {
            guard index < bytes.count, allowed.contains(bytes[index]) else { return false }
            index += 1
            return true
        }

        guard let year = number(4), expect([45]), let month = number(2), expect([45]), let day = number(2),
              expect([32, 84]), let hour = number(2), expect([58]), let minute = number(2), expect([58]),
              let second = number(2)
        else { return nil }

        var fraction = 0.0
        if index < bytes.count, bytes[index] == 46 {
            index += 1
            var scale = 0.1
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                fraction += Double(bytes[index] - 48) * scale
                scale /= 10
                index += 1
            }
        }

        var offsetSeconds = 0
        if index < bytes.count {
            if bytes[index] == 90 { // Z
                index += 1
            } else {
                let sign = bytes[index] == 45 ? -1 : 1
                guard expect([43, 45]), let offsetHours = number(2) else { return nil }
                var offsetMinutes = 0
                var offsetRest = 0
                if index < bytes.count, bytes[index] == 58 {
                    index += 1
                    guard let minutes = number(2) else { return nil }
                    offsetMinutes = minutes
                    if index < bytes.count, bytes[index] == 58 {
                        index += 1
                        guard let rest = number(2) else { return nil }
                        offsetRest = rest
                    }
                }
                offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60 + offsetRest)
            }
        }
        guard index == bytes.count else { return nil }

        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        let epoch = timegm(&parts)
        return Date(timeIntervalSince1970: Double(epoch - offsetSeconds) + fraction)
    }
}
