import Foundation

/// `data` of the catalog topics (`crm.counterparties.v1` … `crm.products.v1`, key = the object
/// id): the object's HTTP representation after the change — its catalog's fields, the
/// additional-attributes tab and the common members. One type per topic: `CounterpartySnapshot`,
/// `ContactSnapshot`, `EmployeeSnapshot`, `ProjectSnapshot`, `DealSnapshot`, `ProductSnapshot`.
///
/// crm-attributes always writes every member (null where unset), as `docs/schemas/` states.
/// Readers are more lenient than that: only `id`, `version` and `deleted` must be there, so a
/// partial snapshot (an older or foreign producer, a hand-made test message) is still read.
public struct CatalogSnapshot<Fields: CatalogFields>: CatalogSnapshotProtocol {
    public var id: UUID
    public var version: Int
    public var deleted: Bool
    public var createdAt: Date?
    public var updatedAt: Date?
    /// The card's additional-attributes tab: every active attribute of the kind, by position.
    public var attributes: [AttributeTabEntry]?
    /// The catalog's own fields, written flat beside the common members.
    public var fields: Fields

    public init(
        id: UUID, version: Int, deleted: Bool, createdAt: Date?, updatedAt: Date?, attributes: [AttributeTabEntry]?,
        fields: Fields
    ) {
        self.id = id
        self.version = version
        self.deleted = deleted
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.attributes = attributes
        self.fields = fields
    }

    /// `crm.counterparty.upserted`, `crm.counterparty.deleted`.
    public static func eventType(deleted: Bool) -> String {
        "crm.\(Fields.kind.rawValue).\(deleted ? "deleted" : "upserted")"
    }

    public var eventType: String { Self.eventType(deleted: deleted) }

    private enum CodingKeys: String, CodingKey { case id, version, deleted, createdAt, updatedAt, attributes }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(UUID.self, forKey: .id)
        version = try container.decode(Int.self, forKey: .version)
        deleted = try container.decodeIfPresent(Bool.self, forKey: .deleted) ?? false
        createdAt = try container.decodeIfPresent(Date.self, forKey: .createdAt)
        updatedAt = try container.decodeIfPresent(Date.self, forKey: .updatedAt)
        attributes = try container.decodeIfPresent([AttributeTabEntry].self, forKey: .attributes)
        fields = try Fields(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.lowercasedText, forKey: .id)
        try container.encode(version, forKey: .version)
        try container.encode(deleted, forKey: .deleted)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(attributes ?? [], forKey: .attributes)
        try fields.encode(to: encoder)
    }
}

/// What every catalog snapshot type offers, whatever its fields.
public protocol CatalogSnapshotProtocol: Codable, Sendable {
    var id: UUID { get }
    var version: Int { get }
    var deleted: Bool { get }
    /// `crm.<kind>.upserted` or `crm.<kind>.deleted`.
    var eventType: String { get }
}

/// The own fields of one catalog (API.md, crm-attributes), encoded with explicit nulls.
public protocol CatalogFields: Codable, Sendable {
    static var kind: ObjectKind { get }
}

public typealias CounterpartySnapshot = CatalogSnapshot<CounterpartyFields>
public typealias ContactSnapshot = CatalogSnapshot<ContactFields>
public typealias EmployeeSnapshot = CatalogSnapshot<EmployeeFields>
public typealias ProjectSnapshot = CatalogSnapshot<ProjectFields>
public typealias DealSnapshot = CatalogSnapshot<DealFields>
public typealias ProductSnapshot = CatalogSnapshot<ProductFields>

/// One line of a catalog card's additional-attributes tab (`value` null where unset).
public struct AttributeTabEntry: Codable, Sendable, Equatable {
    public var key: String
    public var name: String
    public var type: AttributeType
    public var position: Int
    public var value: JSONValue

    public init(key: String, name: String, type: AttributeType, position: Int, value: JSONValue) {
        self.key = key
        self.name = name
        self.type = type
        self.position = position
        self.value = value
    }

    private enum CodingKeys: String, CodingKey { case key, name, type, position, value }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        key = try container.decode(String.self, forKey: .key)
        name = try container.decode(String.self, forKey: .name)
        type = try container.decode(AttributeType.self, forKey: .type)
        position = try container.decode(Int.self, forKey: .position)
        value = try container.decodeIfPresent(JSONValue.self, forKey: .value) ?? .null
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encode(name, forKey: .name)
        try container.encode(type, forKey: .type)
        try container.encode(position, forKey: .position)
        try container.encode(value, forKey: .value)
    }
}

public struct CounterpartyFields: CatalogFields, Equatable {
    public static let kind = ObjectKind.counterparty
    public var name: String?
    /// `company` or `person`.
    public var kind: String?
    public var taxId: String?
    /// E.164.
    public var phones: [String]?
    public var emails: [String]?
    public var address: String?
    public var comment: String?

    public init(
        name: String?, kind: String? = "company", taxId: String? = nil, phones: [String]? = [], emails: [String]? = [],
        address: String? = nil, comment: String? = nil
    ) {
        self.name = name
        self.kind = kind
        self.taxId = taxId
        self.phones = phones
        self.emails = emails
        self.address = address
        self.comment = comment
    }

    private enum CodingKeys: String, CodingKey { case name, kind, taxId, phones, emails, address, comment }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(kind, forKey: .kind)
        try container.encode(taxId, forKey: .taxId)
        try container.encode(phones, forKey: .phones)
        try container.encode(emails, forKey: .emails)
        try container.encode(address, forKey: .address)
        try container.encode(comment, forKey: .comment)
    }
}

public struct ContactFields: CatalogFields, Equatable {
    public static let kind = ObjectKind.contact
    public var counterpartyId: UUID?
    public var name: String?
    public var role: String?
    public var phones: [String]?
    public var emails: [String]?

    public init(counterpartyId: UUID?, name: String?, role: String? = nil, phones: [String]? = [], emails: [String]? = []) {
        self.counterpartyId = counterpartyId
        self.name = name
        self.role = role
        self.phones = phones
        self.emails = emails
    }

    private enum CodingKeys: String, CodingKey { case counterpartyId, name, role, phones, emails }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(counterpartyId?.lowercasedText, forKey: .counterpartyId)
        try container.encode(name, forKey: .name)
        try container.encode(role, forKey: .role)
        try container.encode(phones, forKey: .phones)
        try container.encode(emails, forKey: .emails)
    }
}

public struct EmployeeFields: CatalogFields, Equatable {
    public static let kind = ObjectKind.employee
    public var name: String?
    public var email: String?
    public var phoneExtension: String?
    /// IANA zone name.
    public var timeZone: String?
    public var active: Bool?

    public init(name: String?, email: String? = nil, phoneExtension: String? = nil, timeZone: String? = "UTC", active: Bool? = true) {
        self.name = name
        self.email = email
        self.phoneExtension = phoneExtension
        self.timeZone = timeZone
        self.active = active
    }

    private enum CodingKeys: String, CodingKey { case name, email, phoneExtension, timeZone, active }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(email, forKey: .email)
        try container.encode(phoneExtension, forKey: .phoneExtension)
        try container.encode(timeZone, forKey: .timeZone)
        try container.encode(active, forKey: .active)
    }
}

public struct ProjectFields: CatalogFields, Equatable {
    public static let kind = ObjectKind.project
    public var name: String?
    public var description: String?
    /// `YYYY-MM-DD`.
    public var startsOn: String?
    public var endsOn: String?
    /// `active` or `closed`.
    public var state: String?

    public init(name: String?, description: String? = nil, startsOn: String? = nil, endsOn: String? = nil, state: String? = "active") {
        self.name = name
        self.description = description
        self.startsOn = startsOn
        self.endsOn = endsOn
        self.state = state
    }

    private enum CodingKeys: String, CodingKey { case name, description, startsOn, endsOn, state }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(description, forKey: .description)
        try container.encode(startsOn, forKey: .startsOn)
        try container.encode(endsOn, forKey: .endsOn)
        try container.encode(state, forKey: .state)
    }
}

public struct DealFields: CatalogFields, Equatable {
    public static let kind = ObjectKind.deal
    public var name: String?
    public var counterpartyId: UUID?
    public var stage: String?
    /// A decimal string, e.g. `"1250.00"`.
    public var amount: String?
    /// ISO 4217.
    public var currency: String?

    public init(name: String?, counterpartyId: UUID?, stage: String? = nil, amount: String? = nil, currency: String? = nil) {
        self.name = name
        self.counterpartyId = counterpartyId
        self.stage = stage
        self.amount = amount
        self.currency = currency
    }

    private enum CodingKeys: String, CodingKey { case name, counterpartyId, stage, amount, currency }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(counterpartyId?.lowercasedText, forKey: .counterpartyId)
        try container.encode(stage, forKey: .stage)
        try container.encode(amount, forKey: .amount)
        try container.encode(currency, forKey: .currency)
    }
}

public struct ProductFields: CatalogFields, Equatable {
    public static let kind = ObjectKind.product
    public var name: String?
    public var sku: String?
    public var unit: String?
    /// A decimal string, e.g. `"1500.00"`.
    public var price: String?
    /// ISO 4217.
    public var currency: String?

    public init(name: String?, sku: String? = nil, unit: String? = nil, price: String? = nil, currency: String? = nil) {
        self.name = name
        self.sku = sku
        self.unit = unit
        self.price = price
        self.currency = currency
    }

    private enum CodingKeys: String, CodingKey { case name, sku, unit, price, currency }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(sku, forKey: .sku)
        try container.encode(unit, forKey: .unit)
        try container.encode(price, forKey: .price)
        try container.encode(currency, forKey: .currency)
    }
}
