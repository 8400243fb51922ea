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

/// What another document an order (or an event) was created "based on".
struct Basis: Codable, Sendable, Equatable {
    /// `event`, `customer-order` or `supplier-order`.
    var kind: String
    var id: UUID

    static let kinds = ["event", OrderKind.customerOrder.rawValue, OrderKind.supplierOrder.rawValue]

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(id.uuidString.lowercased(), forKey: .id)
    }
}

/// One line of an order. Decimals stay the text PostgreSQL's `numeric` prints: never a Double.
struct OrderLine: Codable, Sendable, Equatable {
    var productId: UUID?
    var description: String
    var quantity: String
    var price: String
    var discountPercent: String
    var amount: String

    private enum CodingKeys: String, CodingKey { case productId, description, quantity, price, discountPercent, amount }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(productId?.uuidString.lowercased(), forKey: .productId)
        try container.encode(description, forKey: .description)
        try container.encode(quantity, forKey: .quantity)
        try container.encode(price, forKey: .price)
        try container.encode(discountPercent, forKey: .discountPercent)
        try container.encode(amount, forKey: .amount)
    }

    static let columns = "product_id, description, quantity::text AS quantity, price::text AS price, "
        + "discount_percent::text AS discount_percent, amount::text AS amount"

    init(row: PostgresRow) throws {
        productId = try row.decodeIfPresent("product_id")
        description = try row.decode("description")
        quantity = try row.decode("quantity")
        price = try row.decode("price")
        discountPercent = try row.decode("discount_percent")
        amount = try row.decode("amount")
    }
}

/// A customer or supplier order as API.md shows it and as `crm.documents.v1` carries it.
struct Order: Codable, Sendable, ResponseEncodable {
    var id: UUID
    var kind: String
    var number: String
    var state: String
    var counterpartyId: UUID
    var contactId: UUID?
    var dealId: UUID?
    var projectId: UUID?
    var responsibleId: UUID?
    /// `YYYY-MM-DD`.
    var date: String
    var currency: String
    var comment: String?
    var basis: Basis?
    var lines: [OrderLine]
    var total: String
    var authorId: String?
    var createdAt: Date
    var updatedAt: Date
    var confirmedAt: Date?
    var completedAt: Date?
    var cancelledAt: Date?
    var deleted: Bool
    var version: Int

    private enum CodingKeys: String, CodingKey {
        case id, kind, number, state, counterpartyId, contactId, dealId, projectId, responsibleId, date, currency
        case comment, basis, lines, total, authorId, createdAt, updatedAt, confirmedAt, completedAt, cancelledAt
        case deleted, version
    }

    // Every member always present, null when unset.
    func encode(to encoder: any Encoder) throws {
        func text(_ id: UUID?) -> String? { id?.uuidString.lowercased() }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(text(id), forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(number, forKey: .number)
        try container.encode(state, forKey: .state)
        try container.encode(text(counterpartyId), forKey: .counterpartyId)
        try container.encode(text(contactId), forKey: .contactId)
        try container.encode(text(dealId), forKey: .dealId)
        try container.encode(text(projectId), forKey: .projectId)
        try container.encode(text(responsibleId), forKey: .responsibleId)
        try container.encode(date, forKey: .date)
        try container.encode(currency, forKey: .currency)
        try container.encode(comment, forKey: .comment)
        try container.encode(basis, forKey: .basis)
        try container.encode(lines, forKey: .lines)
        try container.encode(total, forKey: .total)
        try container.encode(authorId, forKey: .authorId)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(confirmedAt, forKey: .confirmedAt)
        try container.encode(completedAt, forKey: .completedAt)
        try container.encode(cancelledAt, forKey: .cancelledAt)
        try container.encode(deleted, forKey: .deleted)
        try container.encode(version, forKey: .version)
    }

    static let columns = """
        id, kind, number, state, counterparty_id, contact_id, deal_id, project_id, responsible_id, date::text AS date,
        currency, comment, basis_kind, basis_id, total::text AS total, author_id, created_at, updated_at, confirmed_at,
        completed_at, cancelled_at, deleted, version
        """

    /// From a row of `columns`; the lines come separately.
    init(row: PostgresRow, lines: [OrderLine]) throws {
        id = try row.decode("id")
        kind = try row.decode("kind")
        number = try row.decode("number")
        state = try row.decode("state")
        counterpartyId = try row.decode("counterparty_id")
        contactId = try row.decodeIfPresent("contact_id")
        dealId = try row.decodeIfPresent("deal_id")
        projectId = try row.decodeIfPresent("project_id")
        responsibleId = try row.decodeIfPresent("responsible_id")
        date = try row.decode("date")
        currency = try row.decode("currency")
        comment = try row.decodeIfPresent("comment")
        if let kind = try row.decodeIfPresent("basis_kind", as: String.self), let basisID = try row.decodeIfPresent("basis_id", as: UUID.self) {
            basis = Basis(kind: kind, id: basisID)
        }
        self.lines = lines
        total = try row.decode("total")
        authorId = try row.decodeIfPresent("author_id")
        createdAt = try row.decode("created_at")
        updatedAt = try row.decode("updated_at")
        confirmedAt = try row.decodeIfPresent("confirmed_at")
        completedAt = try row.decodeIfPresent("completed_at")
        cancelledAt = try row.decodeIfPresent("cancelled_at")
        deleted = try row.decode("deleted")
        version = try row.decode("version")
    }
}
