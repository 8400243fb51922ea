import Foundation
import TextFormat

/// RFC 3339 timestamps, done by hand with integer arithmetic.
///
/// Foundation's ISO 8601 styles truncate instead of rounding (`.123` comes out as `.122`) and
/// reject the lower-case `t`/`z` that RFC 3339 allows, so the API's one date format is kept here.
public enum RFC3339 {
    /// What a decoder says of a date it cannot read.
    public static let requirement = "must be an RFC 3339 date-time with an offset, e.g. 2026-12-01T10:00:00+03:00"

    /// `2026-12-01T07:15:02.123Z`: always UTC, always milliseconds, so every service prints alike.
    public static func string(from date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let millisecondsPerDay: Int64 = 86_400_000
        let days = floorDivide(milliseconds, millisecondsPerDay)
        let millisecondOfDay = milliseconds - days * millisecondsPerDay
        let (year, month, day) = civilDate(fromDaysSinceEpoch: days)

        let hour = millisecondOfDay / 3_600_000
        let minute = millisecondOfDay / 60_000 % 60
        let second = millisecondOfDay / 1000 % 60
        let millisecond = millisecondOfDay % 1000
        guard (0...9999).contains(year) else {
            return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T"
                + "\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(millisecond, 3))Z"
        }
        // Digit by digit: every published payload formats several dates, and interpolation
        // with padding showed up in the consumers' profiles.
        return ASCIIWriter.string(capacity: 24) { text in
            text.digits(Int(year), width: 4); text.character("-"); text.digits(Int(month), width: 2); text.character("-")
            text.digits(Int(day), width: 2); text.character("T"); text.digits(Int(hour), width: 2); text.character(":")
            text.digits(Int(minute), width: 2); text.character(":"); text.digits(Int(second), width: 2); text.character(".")
            text.digits(Int(millisecond), width: 3); text.character("Z")
        }
    }

    /// Parses `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)`; returns nil for anything else,
    /// including a timestamp without an offset (its instant would be ambiguous).
    public static func date(from text: String) -> Date? {
        var scanner = DigitScanner(Array(text.utf8))
        guard let year = scanner.number(digits: 4), scanner.skip("-"),
            let month = scanner.number(digits: 2), scanner.skip("-"),
            let day = scanner.number(digits: 2), scanner.skip("T") || scanner.skip("t"),
            let hour = scanner.number(digits: 2), scanner.skip(":"),
            let minute = scanner.number(digits: 2), scanner.skip(":"),
            let second = scanner.number(digits: 2)
        else { return nil }

        var fraction = 0.0
        if scanner.skip(".") {
            guard let value = scanner.fraction() else { return nil }
            fraction = value
        }

        let offsetSeconds: Int64
        if scanner.skip("Z") || scanner.skip("z") {
            offsetSeconds = 0
        } else {
            let sign: Int64
            if scanner.skip("+") {
                sign = 1
            } else if scanner.skip("-") {
                sign = -1
            } else {
                return nil
            }
            guard let offsetHour = scanner.number(digits: 2), scanner.skip(":"),
                let offsetMinute = scanner.number(digits: 2),
                offsetHour < 24, offsetMinute < 60
            else { return nil }
            offsetSeconds = sign * (offsetHour * 3600 + offsetMinute * 60)
        }

        guard scanner.isAtEnd,
            (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
            hour < 24, minute < 60, second <= 60  // 60: RFC 3339 allows a leap second
        else { return nil }

        let days = daysSinceEpoch(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian, days counted from 1970-01-01)

    private static func daysSinceEpoch(year: Int64, month: Int64, day: Int64) -> Int64 {
        // Count years from March so the leap day is the last day of the counted year.
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = floorDivide(shiftedYear, 400)
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func civilDate(fromDaysSinceEpoch days: Int64) -> (Int64, Int64, Int64) {
        let shifted = days + 719_468
        let era = floorDivide(shifted, 146_097)
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2:
            let isLeap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
            return isLeap ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return value % divisor < 0 ? quotient - 1 : quotient
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}

/// Reads fixed-width ASCII digits and single characters from a byte array.
private struct DigitScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { index == bytes.count }

    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard index < bytes.count, bytes[index] == UInt8(ascii: character) else { return false }
        index += 1
        return true
    }

    mutating func number(digits count: Int) -> Int64? {
        guard index + count <= bytes.count else { return nil }
        var value: Int64 = 0
        for byte in bytes[index..<index + count] {
            guard let digit = Self.digitValue(byte) else { return nil }
            value = value * 10 + digit
        }
        index += count
        return value
    }

    /// The digits after a decimal point as a fraction of a second; at least one digit.
    mutating func fraction() -> Double? {
        var numerator: Int64 = 0
        var denominator: Int64 = 1
        var digitCount = 0
        while index < bytes.count, let digit = Self.digitValue(bytes[index]) {
            // Beyond nanoseconds a Date cannot tell the difference; ignore the rest.
            if digitCount < 9 {
                numerator = numerator * 10 + digit
                denominator *= 10
            }
            digitCount += 1
            index += 1
        }
        return digitCount == 0 ? nil : Double(numerator) / Double(denominator)
    }

    private static func digitValue(_ byte: UInt8) -> Int64? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int64(byte - UInt8(ascii: "0")) : nil
    }
}
