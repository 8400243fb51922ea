import Contracts
import Foundation
import Hummingbird
import Messaging
import Postgres
import ServiceKit

/// Orders: stored, changed through the state machine, published on `crm.documents.v1` in the
/// same transaction (DESIGN rule 1).
///
/// Every write follows DESIGN rule 8: lock the order (`SELECT … FOR UPDATE`), then check
/// `If-Match` (412), the caller's right to change this order (403) and its state (409), then
/// write and enqueue. A write locks one order; a create locks its basis `FOR SHARE` (so the basis
/// cannot be deleted under it) and nothing else, so two writes never wait on each other in a cycle.
struct OrderStore: Sendable {
    let outbox: Outbox
    let defaultCurrency: String

    enum Transition: String, CaseIterable, Sendable {
        case confirm, complete, cancel

        /// draft → confirmed → completed; draft/confirmed → cancelled.
        func allowed(from state: String) -> Bool {
            switch self {
            case .confirm: state == OrderState.draft.rawValue
            case .complete: state == OrderState.confirmed.rawValue
            case .cancel: state == OrderState.draft.rawValue || state == OrderState.confirmed.rawValue
            }
        }

        var target: OrderState {
            switch self {
            case .confirm: .confirmed
            case .complete: .completed
            case .cancel: .cancelled
            }
        }

        var typeSuffix: String { target.rawValue }
    }

    // MARK: - Create

    /// Builds the order from the body and its basis, checks it as a whole (one 422 naming every
    /// bad field) and stores it.
    func create(
        _ kind: OrderKind, body: [String: JSONValue], authorId: String, in transaction: PostgresTransaction
    ) async throws -> Order {
        var errors: [FieldError] = []
        let draft = OrderDraft(body, errors: &errors)
        var order = ResolvedOrder(currency: defaultCurrency)
        if let basis = draft.basis {
            if try await !applyBasis(basis, to: &order, draft: draft, in: transaction) {
                errors.append(FieldError(field: "basis", message: "refers to no existing \(basis.kind) (or to a deleted one)"))
            }
            order.basis = basis
        }
        let basisCounterparty = order.counterpartyId
        order.apply(draft)
        // The basis' contact is a person of the basis' counterparty: it is not carried over to an
        // order for another counterparty (e.g. a supplier order based on a customer order).
        if order.basis != nil, !draft.provided.contains("contactId"), order.counterpartyId != basisCounterparty {
            order.contactId = nil
        }
        try await order.resolveAndValidate(
            checkReferences: ["counterpartyId", "contactId", "dealId", "projectId", "responsibleId"], checkLines: true,
            errors: &errors, in: transaction)
        guard errors.isEmpty, let counterpartyId = order.counterpartyId else { throw Problem.unprocessable(errors: errors) }

        let id = UUID()
        let sequence = try await transaction.query("SELECT nextval(\(kind.sequence)) AS n")[0].decode("n", as: Int64.self)
        let number = OrderKind.number(prefix: kind.numberPrefix, sequence)
        try await transaction.execute("""
            INSERT INTO orders (id, kind, seq, number, state, counterparty_id, contact_id, deal_id, project_id, responsible_id,
                date, currency, comment, basis_kind, basis_id, total, author_id, created_at, updated_at, version)
            VALUES (\(id), \(kind.rawValue), \(sequence), \(number), 'draft', \(counterpartyId), \(order.contactId),
                \(order.dealId), \(order.projectId), \(order.responsibleId),
                coalesce(\(order.date)::date, (now() AT TIME ZONE 'UTC')::date), \(order.currency), \(order.comment),
                \(order.basis?.kind), \(order.basis?.id), 0, \(authorId), now(), now(), 1)
            """)
        try await storeLines(order.lines, of: id, replacing: false, in: transaction)
        let stored = try await get(id, kind: kind, in: transaction)
        try await publish(stored, type: "created", in: transaction)
        return stored
    }

    /// Takes the omitted header members (and, from an order, the lines and currency) from the
    /// basis. False when the basis does not exist or is deleted.
    private func applyBasis(
        _ basis: Basis, to order: inout ResolvedOrder, draft: OrderDraft, in transaction: PostgresTransaction
    ) async throws -> Bool {
        let rows: [PostgresRow]
        if basis.kind == "event" {
            rows = try await transaction.query("""
                SELECT counterparty_id, contact_id, deal_id, project_id, responsible_id, NULL::text AS currency
                FROM events WHERE id = \(basis.id) AND NOT deleted FOR SHARE
                """)
        } else {
            rows = try await transaction.query("""
                SELECT counterparty_id, contact_id, deal_id, project_id, responsible_id, currency
                FROM orders WHERE id = \(basis.id) AND kind = \(basis.kind) AND NOT deleted FOR SHARE
                """)
        }
        guard let row = rows.first else { return false }
        order.counterpartyId = try row.decodeIfPresent("counterparty_id")
        order.contactId = try row.decodeIfPresent("contact_id")
        order.dealId = try row.decodeIfPresent("deal_id")
        order.projectId = try row.decodeIfPresent("project_id")
        order.responsibleId = try row.decodeIfPresent("responsible_id")
        if basis.kind != "event" {
            if let currency = try row.decodeIfPresent("currency", as: String.self) { order.currency = currency }
            if draft.lines == nil {
                order.lines = try await lines(of: basis.id, in: transaction).map {
                    LineDraft(productId: $0.productId, description: $0.description, quantity: $0.quantity, price: $0.price,
                              discountPercent: $0.discountPercent)
                }
            }
        }
        return true
    }

    /// Inserts the lines with their amounts, computed exactly in `numeric` and rounded half-even
    /// once, then sets the order's total to the sum of the rounded amounts.
    private func storeLines(
        _ lines: [LineDraft], of id: UUID, replacing: Bool = true, in transaction: PostgresTransaction
    ) async throws {
        if replacing { try await transaction.execute("DELETE FROM order_lines WHERE order_id = \(id)") }
        guard !lines.isEmpty else { return }
        var query: PostgresQuery = """
            INSERT INTO order_lines (order_id, position, product_id, description, quantity, price, discount_percent, amount)
            SELECT \(id), v.position, v.product_id, v.description, v.quantity, v.price, v.discount,
                round_half_even(v.quantity * v.price * (100 - v.discount) * 0.01, 2)
            FROM (VALUES
            """
        for (position, line) in lines.enumerated() {
            if position > 0 { query.append(", ") }
            query.append("""
                (\(position)::integer, \(line.productId)::uuid, \(line.description ?? "")::text, \(line.quantity ?? "0")::numeric,
                 \(line.price ?? "0")::numeric, \(line.discountPercent ?? "0")::numeric)
                """)
        }
        query.append(") AS v (position, product_id, description, quantity, price, discount)")
        try await transaction.execute(query)
        let totals = try await transaction.query("""
            UPDATE orders SET total = round((SELECT coalesce(sum(amount), 0) FROM order_lines WHERE order_id = \(id)), 2)
            WHERE id = \(id) RETURNING total >= \(OrderLimits.totalBound)::numeric AS too_large
            """)
        // Amounts are never negative, so a bounded total bounds every amount too. The whole
        // transaction rolls back: nothing is stored.
        if try totals.first?.decode("too_large", as: Bool.self) == true {
            throw Problem.unprocessable(errors: [FieldError(
                field: "total", message: "must be below 10^20 (at most 20 digits before the decimal point)")])
        }
    }

    // MARK: - Read

    func get(_ id: UUID, kind: OrderKind, in transaction: PostgresTransaction) async throws -> Order {
        guard let order = try await find(id, kind: kind, in: transaction) else {
            throw Problem.notFound("No \(kind.noun) with id \(id.lowercasedText).")
        }
        return order
    }

    func find(_ id: UUID, kind: OrderKind, in transaction: PostgresTransaction, lock: Bool = false) async throws -> Order? {
        let rows = try await transaction.query("""
            SELECT \(unescaped: Order.columns) FROM orders WHERE id = \(id) AND kind = \(kind.rawValue)
            \(unescaped: lock ? "FOR UPDATE" : "")
            """)
        guard let row = rows.first else { return nil }
        return try Order(row: row, lines: try await lines(of: id, in: transaction))
    }

    func lines(of id: UUID, in transaction: PostgresTransaction) async throws -> [OrderLine] {
        try await transaction.query("""
            SELECT \(unescaped: OrderLine.columns) FROM order_lines WHERE order_id = \(id) ORDER BY position
            """).map(OrderLine.init(row:))
    }

    // MARK: - Change

    /// PATCH: only in draft; `lines` replaces the whole list; the basis never changes.
    func update(
        _ id: UUID, kind: OrderKind, body: [String: JSONValue], ifMatch: IfMatch?, by principal: Principal,
        in transaction: PostgresTransaction
    ) async throws -> Order {
        let current = try await modifiable(id, kind: kind, ifMatch: ifMatch, by: principal, in: transaction)
        guard current.state == OrderState.draft.rawValue else {
            throw Problem.conflict("Only a draft can be edited; this \(kind.noun) is \(current.state).")
        }
        var errors: [FieldError] = []
        let draft = OrderDraft(body, errors: &errors)
        if draft.provided.contains("basis"), draft.basis != current.basis, !errors.contains(where: { $0.field == "basis" }) {
            errors.append(FieldError(field: "basis", message: "never changes after creation"))
        }
        if body["state"].map({ $0.stringValue != current.state }) == true {
            errors.append(FieldError(field: "state", message: "changes through /confirm, /complete and /cancel"))
        }
        var order = ResolvedOrder(current)
        order.apply(draft)
        for member in ["currency", "date"] where draft.provided.contains(member) && body[member]?.isNull == true {
            errors.append(FieldError(field: member, message: "cannot be cleared"))
        }
        try await order.resolveAndValidate(
            checkReferences: draft.provided, checkLines: draft.lines != nil || draft.provided.contains("lines"),
            errors: &errors, in: transaction)
        guard errors.isEmpty, let counterpartyId = order.counterpartyId else { throw Problem.unprocessable(errors: errors) }
        try await transaction.execute("""
            UPDATE orders SET counterparty_id = \(counterpartyId), contact_id = \(order.contactId), deal_id = \(order.dealId),
                project_id = \(order.projectId), responsible_id = \(order.responsibleId),
                date = coalesce(\(order.date)::date, date), currency = \(order.currency), comment = \(order.comment),
                version = version + 1, updated_at = now()
            WHERE id = \(id)
            """)
        if draft.lines != nil { try await storeLines(order.lines, of: id, in: transaction) }
        let stored = try await get(id, kind: kind, in: transaction)
        try await publish(stored, type: "updated", in: transaction)
        return stored
    }

    func transition(
        _ id: UUID, kind: OrderKind, _ transition: Transition, ifMatch: IfMatch?, by principal: Principal,
        in transaction: PostgresTransaction
    ) async throws -> Order {
        let current = try await modifiable(id, kind: kind, ifMatch: ifMatch, by: principal, in: transaction)
        guard transition.allowed(from: current.state) else {
            throw Problem.conflict("Cannot \(transition.rawValue) a \(kind.noun) that is \(current.state).")
        }
        let stamp = "\(transition.target.rawValue)_at"
        try await transaction.execute("""
            UPDATE orders SET state = \(transition.target.rawValue), \(identifier: stamp) = now(), version = version + 1,
                updated_at = now()
            WHERE id = \(id)
            """)
        let stored = try await get(id, kind: kind, in: transaction)
        try await publish(stored, type: transition.typeSuffix, in: transaction)
        return stored
    }

    /// Marks the order deleted; it stays readable by id (and in the structure) and leaves the
    /// lists. Deleting a deleted order changes nothing.
    func delete(
        _ id: UUID, kind: OrderKind, ifMatch: IfMatch?, by principal: Principal, in transaction: PostgresTransaction
    ) async throws -> Order {
        let current = try await modifiable(id, kind: kind, ifMatch: ifMatch, by: principal, in: transaction, allowDeleted: true)
        if current.deleted { return current }
        try await transaction.execute("UPDATE orders SET deleted = true, version = version + 1, updated_at = now() WHERE id = \(id)")
        let stored = try await get(id, kind: kind, in: transaction)
        try await publish(stored, type: "deleted", in: transaction)
        return stored
    }

    /// Managers (and integrations) change only orders they author or are responsible for; admins any.
    static func mayModify(_ order: Order, _ principal: Principal) -> Bool {
        if principal.isAdmin { return true }
        guard principal.has(.manager) || principal.has(.integration) else { return false }
        return order.authorId == principal.subject
            || order.responsibleId?.lowercasedText == principal.subject.lowercased()
    }

    /// Lock, then check (`LockedWrite`): the order locked (`FOR UPDATE`), then If-Match (412,
    /// with the current ETag), then the caller (403), then that it is not deleted (409).
    private func modifiable(
        _ id: UUID, kind: OrderKind, ifMatch: IfMatch?, by principal: Principal, in transaction: PostgresTransaction,
        allowDeleted: Bool = false
    ) async throws -> Order {
        var lockedVersion: Int?
        do {
            return try await LockedWrite.lock(
                kind.noun, id: id, ifMatch: ifMatch, version: { (order: Order) in
                    lockedVersion = order.version
                    return order.version
                },
                load: { try await find(id, kind: kind, in: transaction, lock: true) },
                authorize: { order in
                    guard Self.mayModify(order, principal) else {
                        throw Problem.forbidden("Only the author, the responsible employee or an admin may change this \(kind.noun).")
                    }
                    if order.deleted && !allowDeleted {
                        throw Problem.conflict("This \(kind.noun) is deleted.")
                    }
                })
        } catch var problem as Problem where problem.status == .preconditionFailed {
            // The current tag lets the client decide whether to re-read before retrying.
            if let lockedVersion { problem.headers[.eTag] = ETag.value(forVersion: lockedVersion) }
            throw problem
        }
    }

    func publish(_ order: Order, type: String, in transaction: PostgresTransaction) async throws {
        let key = order.id.lowercasedText
        let envelope = CloudEvent(
            source: DocumentsService.name, type: "crm.\(order.kind).\(type)", subject: key, version: Int64(order.version), data: order)
        try await outbox.enqueue(envelope, topic: Topic.documents, key: key, in: transaction)
    }
}
