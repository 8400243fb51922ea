import Foundation

/// One line of an order. Decimals stay the text PostgreSQL's `numeric` prints: never a Double.
public struct OrderLine: Codable, Sendable, Equatable {
    public var productId: UUID?
    public var description: String
    /// Decimal strings; `amount` = quantity × price × (1 − discount/100), two decimals.
    public var quantity: String
    public var price: String
    public var discountPercent: String
    public var amount: String

    public init(productId: UUID?, description: String, quantity: String, price: String, discountPercent: String, amount: String) {
        self.productId = productId
        self.description = description
        self.quantity = quantity
        self.price = price
        self.discountPercent = discountPercent
        self.amount = amount
    }

    private enum CodingKeys: String, CodingKey { case productId, description, quantity, price, discountPercent, amount }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(productId?.lowercasedText, forKey: .productId)
        try container.encode(description, forKey: .description)
        try container.encode(quantity, forKey: .quantity)
        try container.encode(price, forKey: .price)
        try container.encode(discountPercent, forKey: .discountPercent)
        try container.encode(amount, forKey: .amount)
    }
}

/// A customer or supplier order as API.md shows it and as `crm.documents.v1` carries it (key =
/// order id; types `crm.customer-order.created`, `.updated`, `.confirmed`, `.completed`,
/// `.cancelled`, `.deleted`, the same for `crm.supplier-order.*`).
public struct OrderSnapshot: Codable, Sendable {
    public static let eventTypes = ["customer-order", "supplier-order"].flatMap { kind in
        ["created", "updated", "confirmed", "completed", "cancelled", "deleted"].map { "crm.\(kind).\($0)" }
    }

    public var id: UUID
    /// `customer-order` or `supplier-order`.
    public var kind: String
    /// `CO-000001` / `SO-000001`.
    public var number: String
    /// `draft`, `confirmed`, `completed`, `cancelled`.
    public var state: String
    public var counterpartyId: UUID
    public var contactId: UUID?
    public var dealId: UUID?
    public var projectId: UUID?
    public var responsibleId: UUID?
    /// `YYYY-MM-DD`.
    public var date: String
    /// ISO 4217.
    public var currency: String
    public var comment: String?
    public var basis: Basis?
    public var lines: [OrderLine]
    /// The sum of the line amounts, a decimal string with two decimals.
    public var total: String
    public var authorId: String?
    public var createdAt: Date
    public var updatedAt: Date
    public var confirmedAt: Date?
    public var completedAt: Date?
    public var cancelledAt: Date?
    public var deleted: Bool
    public var version: Int

    public init(
        id: UUID, kind: String, number: String, state: String, counterpartyId: UUID, contactId: UUID?, dealId: UUID?,
        projectId: UUID?, responsibleId: UUID?, date: String, currency: String, comment: String?, basis: Basis?,
        lines: [OrderLine], total: String, authorId: String?, createdAt: Date, updatedAt: Date, confirmedAt: Date?,
        completedAt: Date?, cancelledAt: Date?, deleted: Bool, version: Int
    ) {
        self.id = id
        self.kind = kind
        self.number = number
        self.state = state
        self.counterpartyId = counterpartyId
        self.contactId = contactId
        self.dealId = dealId
        self.projectId = projectId
        self.responsibleId = responsibleId
        self.date = date
        self.currency = currency
        self.comment = comment
        self.basis = basis
        self.lines = lines
        self.total = total
        self.authorId = authorId
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.confirmedAt = confirmedAt
        self.completedAt = completedAt
        self.cancelledAt = cancelledAt
        self.deleted = deleted
        self.version = version
    }

    private enum CodingKeys: String, CodingKey {
        case id, kind, number, state, counterpartyId, contactId, dealId, projectId, responsibleId, date, currency
        case comment, basis, lines, total, authorId, createdAt, updatedAt, confirmedAt, completedAt, cancelledAt
        case deleted, version
    }

    // Every member always present, null when unset.
    public func encode(to encoder: any Encoder) throws {
        func text(_ id: UUID?) -> String? { id?.lowercasedText }
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
}
