import Contracts
import Foundation
import ServiceKit

/// `POST /v1/attribute-sets/{kind}/attributes`, checked field by field.
struct NewAttribute: Sendable {
    var name: String
    var key: String
    var type: AttributeType
    var options: [String]
    var referenceKind: ObjectKind?
    var required: Bool
    var position: Int?
    var description: String?

    static let members: Set<String> = ["name", "key", "type", "options", "referenceKind", "required", "position", "description", "id"]

    init(_ body: [String: JSONValue]) throws(Problem) {
        var errors = unknownMembers(of: body, allowed: Self.members)
        let name = body["name"]?.stringValue?.trimmingCharacters(in: .whitespaces) ?? ""
        if name.isEmpty { errors.append(FieldError(field: "name", message: "is required")) }

        var key = Self.slug(name)
        if let given = body["key"], !given.isNull {
            if let text = given.stringValue, Self.isValidKey(text) {
                key = text
            } else {
                errors.append(FieldError(field: "key", message: "must start with a letter and hold only a-z, 0-9 and _ (at most 63)"))
            }
        } else if !name.isEmpty && !Self.isValidKey(key) {
            errors.append(FieldError(field: "key", message: "cannot be derived from the name; give one"))
        }

        var type = AttributeType.string
        if let text = body["type"]?.stringValue, let parsed = AttributeType(rawValue: text) {
            type = parsed
        } else {
            errors.append(FieldError(field: "type", message: "must be one of \(AttributeType.allCases.map(\.rawValue).joined(separator: ", "))"))
        }

        let options = Self.options(body["options"], errors: &errors)
        if type == .enum && options.isEmpty { errors.append(FieldError(field: "options", message: "an enum needs at least one option")) }
        if type != .enum && !options.isEmpty { errors.append(FieldError(field: "options", message: "only enum attributes have options")) }

        var referenceKind: ObjectKind?
        if let text = body["referenceKind"]?.stringValue {
            if let kind = ObjectKind(rawValue: text), ObjectKind.catalogKinds.contains(kind) {
                referenceKind = kind
            } else {
                errors.append(FieldError(field: "referenceKind", message: "must be a catalog kind: \(ObjectKind.catalogKinds.map(\.rawValue).joined(separator: ", "))"))
            }
        }
        if type == .reference && referenceKind == nil && body["referenceKind"]?.stringValue == nil {
            errors.append(FieldError(field: "referenceKind", message: "a reference needs referenceKind"))
        }
        if type != .reference && referenceKind != nil {
            errors.append(FieldError(field: "referenceKind", message: "only reference attributes have referenceKind"))
        }

        var required = false
        if let value = body["required"], !value.isNull {
            if case .bool(let flag) = value { required = flag } else { errors.append(FieldError(field: "required", message: "must be true or false")) }
        }
        var position: Int?
        if let value = body["position"], !value.isNull {
            if case .number(let number) = value, let exact = Int(exactly: number) { position = exact } else {
                errors.append(FieldError(field: "position", message: "must be an integer"))
            }
        }
        let description = body["description"]?.stringValue
        SizeBudget.check(name, field: "name", maxCharacters: SizeBudget.shortText, errors: &errors)
        SizeBudget.check(description, field: "description", maxCharacters: SizeBudget.description, errors: &errors)
        guard errors.isEmpty else { throw Problem.unprocessable(errors: errors) }
        self.name = name
        self.key = key
        self.type = type
        self.options = options
        self.referenceKind = referenceKind
        self.required = required
        self.position = position
        self.description = description
    }

    /// `VIP` → `vip`, `Customer region` → `customer_region`.
    static func slug(_ name: String) -> String {
        var slug = ""
        for character in name.lowercased().folding(options: .diacriticInsensitive, locale: nil) {
            if character.isASCII && (character.isLetter || character.isNumber) {
                slug.append(character)
            } else if !slug.isEmpty && slug.last != "_" {
                slug.append("_")
            }
        }
        while slug.hasSuffix("_") { slug.removeLast() }
        return String(slug.prefix(63))
    }

    static func isValidKey(_ key: String) -> Bool {
        key.range(of: "^[a-z][a-z0-9_]{0,62}$", options: .regularExpression) != nil
    }

    static func options(_ value: JSONValue?, errors: inout [FieldError]) -> [String] {
        guard let value, !value.isNull else { return [] }
        guard let items = value.arrayValue, items.allSatisfy({ ($0.stringValue ?? "").isEmpty == false }) else {
            errors.append(FieldError(field: "options", message: "must be an array of non-empty strings"))
            return []
        }
        let options = items.compactMap(\.stringValue)
        if Set(options).count != options.count { errors.append(FieldError(field: "options", message: "must not repeat")) }
        SizeBudget.check(count: options.count, field: "options", maxItems: SizeBudget.enumOptions, errors: &errors)
        for (index, option) in options.enumerated() {
            SizeBudget.check(option, field: "options[\(index)]", maxCharacters: SizeBudget.shortText, errors: &errors)
        }
        return options
    }
}

/// `PATCH /v1/attribute-sets/{kind}/attributes/{id}`: absent members stay as they are.
struct AttributeChange: Sendable {
    var name: String?
    var key: String?
    var type: AttributeType?
    var options: [String]?
    var required: Bool?
    var position: Int?
    /// nil: unchanged; `.some(nil)`: cleared.
    var description: String??

    init(_ body: [String: JSONValue]) throws(Problem) {
        var errors = unknownMembers(of: body, allowed: NewAttribute.members)
        if let value = body["name"] {
            if let text = value.stringValue { name = text } else { errors.append(FieldError(field: "name", message: "must be a string")) }
        }
        if let value = body["key"] { key = value.stringValue ?? "" }
        if let value = body["type"] {
            if let text = value.stringValue, let parsed = AttributeType(rawValue: text) { type = parsed } else {
                errors.append(FieldError(field: "type", message: "cannot change"))
            }
        }
        if body["options"] != nil { options = NewAttribute.options(body["options"], errors: &errors) }
        if let value = body["required"] {
            if case .bool(let flag) = value { required = flag } else { errors.append(FieldError(field: "required", message: "must be true or false")) }
        }
        if let value = body["position"] {
            if case .number(let number) = value, let exact = Int(exactly: number) { position = exact } else {
                errors.append(FieldError(field: "position", message: "must be an integer"))
            }
        }
        if let value = body["description"] {
            if value.isNull { description = .some(nil) } else if let text = value.stringValue { description = .some(text) } else {
                errors.append(FieldError(field: "description", message: "must be a string or null"))
            }
        }
        SizeBudget.check(name, field: "name", maxCharacters: SizeBudget.shortText, errors: &errors)
        SizeBudget.check(description ?? nil, field: "description", maxCharacters: SizeBudget.description, errors: &errors)
        guard errors.isEmpty else { throw Problem.unprocessable(errors: errors) }
    }
}

/// One error per member of `body` that the request does not know (a typo would otherwise be
/// silently ignored).
func unknownMembers(of body: [String: JSONValue], allowed: Set<String>) -> [FieldError] {
    body.keys.sorted().filter { !allowed.contains($0) }.map { FieldError(field: $0, message: "is not a known member") }
}
