import Foundation

/// Money, quantities and percentages as the API writes them: decimal strings such as `"1500.00"`,
/// never JSON numbers (a float cannot hold `0.1`). Parsed here only to check them; arithmetic
/// happens in PostgreSQL `numeric`, which is exact at any size.
enum DecimalText {
    /// At most this many digits before the decimal point (a 19-digit quantity fits).
    static let maximumIntegerDigits = 20
    /// At most this many digits after it.
    static let maximumFractionDigits = 10

    /// A checked decimal string: its text (as PostgreSQL will read it) and its sign/size facts.
    struct Value: Sendable, Equatable {
        var text: String
        var isNegative: Bool
        var isZero: Bool
        /// Compared against small bounds such as 100 (discounts); exact for up to 38 digits.
        var decimal: Decimal
    }

    enum Failure: Error, Equatable {
        case notAString, malformed, tooManyIntegerDigits, tooManyFractionDigits
    }

    /// `"2"`, `"1500.00"`, `"-3.5"`, `"0.05"`: an optional minus, digits, optionally a point and digits.
    static func parse(_ text: String) -> Result<Value, Failure> {
        var scalars = Substring(text)
        let negative = scalars.hasPrefix("-")
        if negative { scalars = scalars.dropFirst() }
        let parts = scalars.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let isDigits: (Substring) -> Bool = { !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } }
        guard let integer = parts.first, isDigits(integer), parts.count == 1 || isDigits(parts[1]) else {
            return .failure(.malformed)
        }
        let significant = integer.drop { $0 == "0" }
        guard significant.count <= maximumIntegerDigits else { return .failure(.tooManyIntegerDigits) }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= maximumFractionDigits else { return .failure(.tooManyFractionDigits) }
        let zero = significant.isEmpty && fraction.allSatisfy { $0 == "0" }
        guard let decimal = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else { return .failure(.malformed) }
        return .success(Value(text: text, isNegative: negative && !zero, isZero: zero, decimal: decimal))
    }

    static func message(_ failure: Failure) -> String {
        switch failure {
        case .notAString: "must be a decimal string such as \"1500.00\", not a JSON number"
        case .malformed: "must be a decimal string such as \"1500.00\""
        case .tooManyIntegerDigits: "must have at most \(maximumIntegerDigits) digits before the decimal point"
        case .tooManyFractionDigits: "must have at most \(maximumFractionDigits) digits after the decimal point"
        }
    }
}
