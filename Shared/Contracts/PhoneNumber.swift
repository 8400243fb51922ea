import Foundation

/// Phone numbers in E.164 (`+74951234567`), the one form we store, match and publish.
public enum PhoneNumber {
    /// Normalises a number written in any common way: `+7 (495) 123-45-67`, `8 495 123 45 67`,
    /// `00 7 495…`, or a national number, which gets `defaultCountryCode`. Returns nil when the
    /// result cannot be a valid E.164 number (8 to 15 digits).
    public static func normalize(_ text: String, defaultCountryCode: String) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let allowed = Set("0123456789+()-. /")
        guard !trimmed.isEmpty, trimmed.allSatisfy({ allowed.contains($0) }) else { return nil }
        var digits = trimmed.filter(\.isNumber)
        let country = defaultCountryCode.filter(\.isNumber)
        if trimmed.hasPrefix("+") {
            // Already international.
        } else if digits.hasPrefix("00") {
            digits.removeFirst(2)
        } else if country == "7", digits.count == 11, digits.hasPrefix("8") || digits.hasPrefix("7") {
            // Russian trunk prefix 8 (or 7 written without +) before a 10-digit national number.
            digits = "7" + digits.dropFirst()
        } else if digits.count > 10, digits.hasPrefix(country) {
            // Written with the country code but without +.
        } else {
            // A national number: drop a trunk 0 and add the default country code.
            if digits.hasPrefix("0") { digits.removeFirst() }
            digits = country + digits
        }
        guard (8...15).contains(digits.count), !digits.hasPrefix("0") else { return nil }
        return "+" + digits
    }

    /// The last ten digits, the fallback key when numbers come with differing prefixes.
    public static func lastTenDigits(_ e164: String) -> String {
        String(e164.filter(\.isNumber).suffix(10))
    }
}
