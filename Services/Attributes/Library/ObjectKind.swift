import Contracts

/// Every kind of object that can carry additional attributes: the six catalogs and the
/// documents other services own.
public enum ObjectKind: String, CaseIterable, Sendable, Codable {
    case counterparty, contact, employee, project, deal, product
    case event
    case customerOrder = "customer-order"
    case supplierOrder = "supplier-order"

    /// The catalog this kind names, nil for events and orders (known from their topics).
    var catalog: Catalog? { Catalog.all.first { $0.kind == self } }

    /// Kinds a `reference` attribute may point to.
    static var catalogKinds: [ObjectKind] { Catalog.all.map(\.kind) }
}
