/// Size budgets (DESIGN rule 9): every text field, array and attribute value has a documented
/// maximum, checked when it is written (422 naming the field), so no stored object can produce a
/// message larger than the producer may send. The numbers are the contract; the README lists them.
public enum SizeBudget {
    /// Names, subjects, titles.
    public static let shortText = 300
    /// An event's subject (API.md).
    public static let subject = 250
    /// Long free text: an event's `content`, a comment, a description, a `text` attribute.
    public static let longTextBytes = 64 * 1024
    /// A `string` attribute value.
    public static let stringAttribute = 1000
    /// Phones and e-mails of one counterparty or contact.
    public static let phones = 20
    public static let emails = 20
    /// An attribute definition's description.
    public static let description = 2000
    /// Options of one enum attribute.
    public static let enumOptions = 200
    /// Lines of one order.
    public static let orderLines = 500
    /// All attribute values of one object together, as JSON.
    public static let attributeValuesBytes = 256 * 1024

    /// Records an error when `text` has more than `maxCharacters` characters.
    public static func check(_ text: String?, field: String, maxCharacters: Int, errors: inout [FieldError]) {
        guard let text, text.count > maxCharacters else { return }
        errors.append(FieldError(field: field, message: "must be at most \(maxCharacters) characters"))
    }

    /// Records an error when `text` takes more than `maxBytes` bytes of UTF-8 (long texts are
    /// bounded in bytes: that is what the message and the row carry).
    public static func check(_ text: String?, field: String, maxBytes: Int, errors: inout [FieldError]) {
        guard let text, text.utf8.count > maxBytes else { return }
        errors.append(FieldError(field: field, message: "must be at most \(maxBytes / 1024) KiB of UTF-8 text"))
    }

    /// Records an error when an array has more than `maxItems` items.
    public static func check(count: Int, field: String, maxItems: Int, errors: inout [FieldError]) {
        guard count > maxItems else { return }
        errors.append(FieldError(field: field, message: "must have at most \(maxItems) items"))
    }
}
