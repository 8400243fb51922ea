import Contracts

/// One catalog: its URL path, topic, fields (as API.md lists them) and extra list filters.
struct Catalog: Sendable {
    let kind: ObjectKind
    let path: String
    let topic: String
    let fields: [Field]
    let filters: [ListFilter]

    /// The payload type of the catalog's topic.
    var snapshotType: any CatalogSnapshotProtocol.Type {
        switch kind {
        case .counterparty: CounterpartySnapshot.self
        case .contact: ContactSnapshot.self
        case .employee: EmployeeSnapshot.self
        case .project: ProjectSnapshot.self
        case .deal: DealSnapshot.self
        default: ProductSnapshot.self
        }
    }

    static let all: [Catalog] = [
        Catalog(
            kind: .counterparty, path: "counterparties", topic: Topic.counterparties,
            fields: [
                Field("name", .text(maxLength: 300), required: true),
                Field("kind", .choice(["company", "person"]), defaultValue: .string("company")),
                Field("taxId", .text(maxLength: 50)),
                Field("phones", .phones, defaultValue: .array([])),
                Field("emails", .emails, defaultValue: .array([])),
                Field("address", .text(maxLength: 1000)),
                Field("comment", .text(maxLength: 10_000)),
            ],
            filters: [.phone]),
        Catalog(
            kind: .contact, path: "contacts", topic: Topic.contacts,
            fields: [
                Field("counterpartyId", .counterparty, required: true),
                Field("name", .text(maxLength: 300), required: true),
                Field("role", .text(maxLength: 200)),
                Field("phones", .phones, defaultValue: .array([])),
                Field("emails", .emails, defaultValue: .array([])),
            ],
            filters: [.counterpartyId, .phone]),
        Catalog(
            kind: .employee, path: "employees", topic: Topic.employees,
            fields: [
                Field("name", .text(maxLength: 300), required: true),
                Field("email", .email),
                Field("phoneExtension", .text(maxLength: 20)),
                Field("timeZone", .timeZone, defaultValue: .string("UTC")),
                Field("active", .boolean, defaultValue: .bool(true)),
            ],
            filters: [.field("phoneExtension")]),
        Catalog(
            kind: .project, path: "projects", topic: Topic.projects,
            fields: [
                Field("name", .text(maxLength: 300), required: true),
                Field("description", .text(maxLength: 10_000)),
                Field("startsOn", .date),
                Field("endsOn", .date),
                Field("state", .choice(["active", "closed"]), defaultValue: .string("active")),
            ],
            filters: [.field("state")]),
        Catalog(
            kind: .deal, path: "deals", topic: Topic.deals,
            fields: [
                Field("name", .text(maxLength: 300), required: true),
                Field("counterpartyId", .counterparty, required: true),
                Field("stage", .text(maxLength: 100)),
                Field("amount", .decimal),
                Field("currency", .currency),
            ],
            filters: [.counterpartyId]),
        Catalog(
            kind: .product, path: "products", topic: Topic.products,
            fields: [
                Field("name", .text(maxLength: 300), required: true),
                Field("sku", .text(maxLength: 100)),
                Field("unit", .text(maxLength: 50)),
                Field("price", .decimal),
                Field("currency", .currency),
            ],
            filters: [.field("sku")]),
    ]
}

/// A list filter beyond `q` and `attr.<key>`.
enum ListFilter: Sendable {
    /// `phone=` in any format, matched as E.164 against `phones`.
    case phone
    /// `counterpartyId=`.
    case counterpartyId
    /// Exact match of a text field of the same name, e.g. `sku=`.
    case field(String)
}
