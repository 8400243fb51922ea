/// Every kind of object that can carry additional attributes: the six catalogs and the
/// documents other services own. The key of `crm.attribute-sets.v1` and the first part of the
/// key of `crm.attribute-values.v1`.
public enum ObjectKind: String, CaseIterable, Sendable, Codable {
    case counterparty, contact, employee, project, deal, product
    case event
    case customerOrder = "customer-order"
    case supplierOrder = "supplier-order"
}
