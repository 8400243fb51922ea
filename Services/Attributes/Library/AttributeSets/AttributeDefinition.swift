import Contracts
import Foundation
import Hummingbird

enum AttributeType: String, Codable, CaseIterable, Sendable {
    case boolean, string, text, integer, decimal, date, datetime
    case `enum`
    case reference
}

/// One additional attribute of a kind's set, as `GET /v1/attribute-sets/{kind}` shows it.
struct AttributeDefinition: Codable, Sendable, Equatable, ResponseEncodable {
    var id: UUID
    var key: String
    var name: String
    var type: AttributeType
    var options: [String]
    var referenceKind: ObjectKind?
    var required: Bool
    var position: Int
    var description: String?

    private enum CodingKeys: String, CodingKey {
        case id, key, name, type, options, referenceKind, required, position, description
    }

    // Absent optionals are written as explicit nulls: every member of the contract is always there.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.uuidString.lowercased(), forKey: .id)
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

/// A kind's whole ordered set; also the `data` of `crm.attribute-set.changed`.
struct AttributeSet: Codable, Sendable {
    var kind: ObjectKind
    var version: Int
    var attributes: [AttributeDefinition]
}

/// One line of a catalog card's additional-attributes tab.
struct AttributeTabEntry: Codable, Sendable, Equatable {
    var key: String
    var name: String
    var type: AttributeType
    var position: Int
    var value: JSONValue

    private enum CodingKeys: String, CodingKey { case key, name, type, position, value }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encode(name, forKey: .name)
        try container.encode(type, forKey: .type)
        try container.encode(position, forKey: .position)
        try container.encode(value, forKey: .value)
    }
}

/// All shown values of one object; the HTTP body of attribute values and the topic's `data`.
struct AttributeValues: Codable, Sendable {
    var kind: ObjectKind
    var objectId: UUID
    var version: Int
    var values: [String: JSONValue]

    private enum CodingKeys: String, CodingKey { case kind, objectId, version, values }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(objectId.uuidString.lowercased(), forKey: .objectId)
        try container.encode(version, forKey: .version)
        try container.encode(values, forKey: .values)
    }
}
