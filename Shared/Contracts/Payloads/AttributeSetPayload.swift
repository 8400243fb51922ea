import Foundation

/// The type of an additional attribute; it never changes once the attribute exists.
public enum AttributeType: String, Codable, CaseIterable, Sendable {
    case boolean, string, text, integer, decimal, date, datetime
    case `enum`
    case reference
}

/// One additional attribute of a kind's set, as `GET /v1/attribute-sets/{kind}` shows it.
public struct AttributeDefinition: Codable, Sendable, Equatable {
    public var id: UUID
    public var key: String
    public var name: String
    public var type: AttributeType
    public var options: [String]
    public var referenceKind: ObjectKind?
    public var required: Bool
    /// 1-based, dense within the set.
    public var position: Int
    public var description: String?

    public init(
        id: UUID, key: String, name: String, type: AttributeType, options: [String], referenceKind: ObjectKind?,
        required: Bool, position: Int, description: String?
    ) {
        self.id = id
        self.key = key
        self.name = name
        self.type = type
        self.options = options
        self.referenceKind = referenceKind
        self.required = required
        self.position = position
        self.description = description
    }

    private enum CodingKeys: String, CodingKey {
        case id, key, name, type, options, referenceKind, required, position, description
    }

    // Absent optionals are written as explicit nulls: every member of the contract is always there.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.lowercasedText, forKey: .id)
        try container.encode(key, forKey: .key)
        try container.encode(name, forKey: .name)
        try container.encode(type, forKey: .type)
        try container.encode(options, forKey: .options)
        try container.encode(referenceKind, forKey: .referenceKind)
        try container.encode(required, forKey: .required)
        try container.encode(position, forKey: .position)
        try container.encode(description, forKey: .description)
    }
}

/// `data` of `crm.attribute-set.changed` on `crm.attribute-sets.v1` (key = the kind): a kind's
/// whole ordered set of active attributes; also the HTTP body of `GET /v1/attribute-sets/{kind}`.
public struct AttributeSet: Codable, Sendable, Equatable {
    public static let eventType = "crm.attribute-set.changed"

    public var kind: ObjectKind
    public var version: Int
    public var attributes: [AttributeDefinition]

    public init(kind: ObjectKind, version: Int, attributes: [AttributeDefinition]) {
        self.kind = kind
        self.version = version
        self.attributes = attributes
    }
}

/// `data` of `crm.attribute-values.changed` on `crm.attribute-values.v1` (key =
/// `<kind>:<objectId>`): all shown values of one object, by attribute key; also the HTTP body of
/// `GET /v1/attribute-values/{kind}/{objectId}`. A value's JSON type follows its attribute's type
/// (booleans, integers as numbers; decimals, dates, times, references, enum options as strings).
public struct AttributeValues: Codable, Sendable, Equatable {
    public static let eventType = "crm.attribute-values.changed"

    public var kind: ObjectKind
    public var objectId: UUID
    public var version: Int
    public var values: [String: JSONValue]

    public init(kind: ObjectKind, objectId: UUID, version: Int, values: [String: JSONValue]) {
        self.kind = kind
        self.objectId = objectId
        self.version = version
        self.values = values
    }

    /// `<kind>:<objectId>`, the Kafka key.
    public var key: String { "\(kind.rawValue):\(objectId.lowercasedText)" }

    private enum CodingKeys: String, CodingKey { case kind, objectId, version, values }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(objectId.lowercasedText, forKey: .objectId)
        try container.encode(version, forKey: .version)
        try container.encode(values, forKey: .values)
    }
}
