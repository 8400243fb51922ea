import Contracts
import Foundation
import Hummingbird
import Postgres

/// The two kinds of order: they share one shape, one table and one set of routes.
enum OrderKind: String, CaseIterable, Sendable {
    case customerOrder = "customer-order"
    case supplierOrder = "supplier-order"

    /// `CO-000001` / `SO-000001`.
    var numberPrefix: String { self == .customerOrder ? "CO" : "SO" }
    var sequence: String { self == .customerOrder ? "customer_order_numbers" : "supplier_order_numbers" }
    /// The collection path under `/v1`.
    var path: String { self == .customerOrder ? "customer-orders" : "supplier-orders" }
    var noun: String { self == .customerOrder ? "customer order" : "supplier order" }

    static func number(prefix: String, _ sequence: Int64) -> String {
        let digits = String(sequence)
        return prefix + "-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }
}

enum OrderState: String, CaseIterable, Sendable { case draft, confirmed, completed, cancelled }

extension Basis {
    /// The kinds of document a basis may name.
    static let kinds = ["event", OrderKind.customerOrder.rawValue, OrderKind.supplierOrder.rawValue]
}

extension OrderLine {
    static let columns = "product_id, description, quantity::text AS quantity, price::text AS price, "
        + "discount_percent::text AS discount_percent, amount::text AS amount"

    init(row: PostgresRow) throws {
        self.init(
            productId: try row.decodeIfPresent("product_id"), description: try row.decode("description"),
            quantity: try row.decode("quantity"), price: try row.decode("price"),
            discountPercent: try row.decode("discount_percent"), amount: try row.decode("amount"))
    }
}

/// A customer or supplier order as API.md shows it and as `crm.documents.v1` carries it: one
/// type, the topic's payload in Contracts.
typealias Order = OrderSnapshot

extension OrderSnapshot: ResponseEncodable {}

extension Order {
    static let columns = """
        id, kind, number, state, counterparty_id, contact_id, deal_id, project_id, responsible_id, date::text AS date,
        currency, comment, basis_kind, basis_id, total::text AS total, author_id, created_at, updated_at, confirmed_at,
        completed_at, cancelled_at, deleted, version
        """

    /// From a row of `columns`; the lines come separately.
    init(row: PostgresRow, lines: [OrderLine]) throws {
        var basis: Basis?
        if let kind = try row.decodeIfPresent("basis_kind", as: String.self), let basisID = try row.decodeIfPresent("basis_id", as: UUID.self) {
            basis = Basis(kind: kind, id: basisID)
        }
        self.init(
            id: try row.decode("id"), kind: try row.decode("kind"), number: try row.decode("number"),
            state: try row.decode("state"), counterpartyId: try row.decode("counterparty_id"),
            contactId: try row.decodeIfPresent("contact_id"), dealId: try row.decodeIfPresent("deal_id"),
            projectId: try row.decodeIfPresent("project_id"), responsibleId: try row.decodeIfPresent("responsible_id"),
            date: try row.decode("date"), currency: try row.decode("currency"), comment: try row.decodeIfPresent("comment"),
            basis: basis, lines: lines, total: try row.decode("total"), authorId: try row.decodeIfPresent("author_id"),
            createdAt: try row.decode("created_at"), updatedAt: try row.decode("updated_at"),
            confirmedAt: try row.decodeIfPresent("confirmed_at"), completedAt: try row.decodeIfPresent("completed_at"),
            cancelledAt: try row.decodeIfPresent("cancelled_at"), deleted: try row.decode("deleted"),
            version: try row.decode("version"))
    }
}
