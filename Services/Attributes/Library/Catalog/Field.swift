import Contracts
import Foundation
import ServiceKit

/// A catalog field: its JSON name, type, whether it is required and its default on creation.
struct Field: Sendable {
    enum Kind: Sendable {
        case text(maxLength: Int)
        case choice([String])
        /// A counterparty id that must exist and not be deleted.
        case counterparty
        case phones
        case emails
        case email
        /// Money or a quantity: a decimal string (`"1250.00"`), never a JSON number (API.md).
        case decimal
        /// An ISO 4217 code.
        case currency
        /// `YYYY-MM-DD`.
        case date
        /// An IANA time zone.
        case timeZone
        case boolean
    }

    let name: String
    let kind: Kind
    let required: Bool
    let defaultValue: JSONValue?

    init(_ name: String, _ kind: Kind, required: Bool = false, defaultValue: JSONValue? = nil) {
        self.name = name
        self.kind = kind
        self.required = required
        self.defaultValue = defaultValue
    }
}

/// Checks and normalises field values; collects every problem instead of stopping at the first.
struct FieldValidator: Sendable {
    let defaultCountryCode: String

    /// The normalised value, or nil after recording why it is not acceptable.
    func normalize(_ value: JSONValue, for field: Field, errors: inout [FieldError]) -> JSONValue? {
        func fail(_ message: String) -> JSONValue? {
            errors.append(FieldError(field: field.name, message: message))
            return nil
        }
        switch field.kind {
        case .text(let maxLength):
            guard let text = value.stringValue?.trimmingCharacters(in: .whitespacesAndNewlines) else { return fail("must be a string") }
            if field.required && text.isEmpty { return fail("must not be empty") }
            guard text.count <= maxLength else { return fail("must be at most \(maxLength) characters") }
            return .string(text)
        case .choice(let options):
            guard let text = value.stringValue, options.contains(text) else {
                return fail("must be one of \(options.joined(separator: ", "))")
            }
            return .string(text)
        case .counterparty:
            guard let text = value.stringValue, let id = UUID(uuidString: text) else { return fail("must be a UUID") }
            return .string(id.lowercasedText)
        case .phones:
            guard let items = value.arrayValue else { return fail("must be an array of phone numbers") }
            guard items.count <= SizeBudget.phones else { return fail("must have at most \(SizeBudget.phones) items") }
            var phones: [JSONValue] = []
            for (index, item) in items.enumerated() {
                guard let text = item.stringValue, let phone = PhoneNumber.normalize(text, defaultCountryCode: defaultCountryCode) else {
                    errors.append(FieldError(field: "\(field.name)[\(index)]", message: "is not a phone number"))
                    continue
                }
                if !phones.contains(.string(phone)) { phones.append(.string(phone)) }
            }
            return .array(phones)
        case .emails:
            guard let items = value.arrayValue else { return fail("must be an array of e-mail addresses") }
            guard items.count <= SizeBudget.emails else { return fail("must have at most \(SizeBudget.emails) items") }
            var emails: [JSONValue] = []
            for (index, item) in items.enumerated() {
                guard let text = item.stringValue?.trimmingCharacters(in: .whitespaces), Self.isEmail(text) else {
                    errors.append(FieldError(field: "\(field.name)[\(index)]", message: "is not an e-mail address"))
                    continue
                }
                emails.append(.string(text))
            }
            return .array(emails)
        case .email:
            guard let text = value.stringValue?.trimmingCharacters(in: .whitespaces), Self.isEmail(text) else {
                return fail("is not an e-mail address")
            }
            return .string(text)
        case .decimal:
            guard value.stringValue != nil, let text = DecimalText.normalize(value) else {
                return fail("must be a decimal string such as \"1250.00\"")
            }
            return .string(text)
        case .currency:
            guard let text = value.stringValue?.uppercased(), text.count == 3, text.allSatisfy({ $0.isASCII && $0.isLetter }) else {
                return fail("must be an ISO 4217 currency code such as RUB")
            }
            return .string(text)
        case .date:
            guard let text = value.stringValue, CalendarDate.isValid(text) else { return fail("must be a date YYYY-MM-DD") }
            return .string(text)
        case .timeZone:
            guard let text = value.stringValue, TimeZone(identifier: text) != nil else { return fail("must be an IANA time zone such as Europe/Moscow") }
            return .string(text)
        case .boolean:
            guard case .bool = value else { return fail("must be true or false") }
            return value
        }
    }

    static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !parts[1].hasPrefix(".")
            && !parts[1].hasSuffix(".") && !text.contains(" ") && text.count <= 254
    }
}

/// Decimal strings as the API writes money and quantities.
enum DecimalText {
    /// `"1250.00"`, `1250`, `"-3.5"` → canonical text; nil for anything else.
    static func normalize(_ value: JSONValue) -> String? {
        let text: String
        switch value {
        case .string(let string): text = string.trimmingCharacters(in: .whitespaces)
        case .number(let number) where number.isFinite: text = JSONValue.number(number).plainText
        default: return nil
        }
        guard !text.isEmpty, text.range(of: #"^-?[0-9]+(\.[0-9]+)?$"#, options: .regularExpression) != nil else { return nil }
        return text
    }
}

extension DecimalText {
    /// One spelling per number (`"1250.00"` and `1250` both become `"1250"`), so stored values
    /// and filters compare as numbers do.
    static func canonical(_ value: JSONValue) -> String? {
        guard let text = normalize(value), let decimal = Decimal(string: text, locale: Locale(identifier: "en_US_POSIX")) else {
            return nil
        }
        return decimal.description
    }
}

/// Calendar dates `YYYY-MM-DD`.
enum CalendarDate {
    static func isValid(_ text: String) -> Bool {
        guard text.range(of: #"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"#, options: .regularExpression) != nil else { return false }
        let parts = text.split(separator: "-").compactMap { Int($0) }
        var components = DateComponents()
        components.year = parts[0]
        components.month = parts[1]
        components.day = parts[2]
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return components.isValidDate(in: calendar)
    }
}

extension JSONValue {
    /// A number as JSON writes it (`3`, `2.5`).
    var plainText: String {
        guard case .number(let number) = self else { return "" }
        if number.rounded() == number, abs(number) < 9.0e15 { return String(Int64(number)) }
        return String(number)
    }
}
