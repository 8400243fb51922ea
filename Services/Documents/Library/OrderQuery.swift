import Contracts
import Foundation
import Hummingbird
import Postgres
import ServiceKit

/// `GET /v1/customer-orders` and `/v1/supplier-orders`: newest first (by date, then number),
/// with the filters of API.md and the issue, and a cursor over (date, number sequence).
struct OrderQuery: Sendable {
    struct Position: Codable, Sendable {
        var date: String
        var seq: Int64
    }

    let kind: OrderKind
    let page: PageRequest
    let parameters: [String: String]

    /// `q` longer than this is a 422.
    static let maximumSearchLength = 200

    init(kind: OrderKind, request: Request) throws {
        self.kind = kind
        page = try PageRequest(request: request)
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { parameters[String(key)] = String(value) }
        self.parameters = parameters
    }

    func run(store: OrderStore, in transaction: PostgresTransaction) async throws -> Page<Order> {
        var errors: [FieldError] = []
        var query: PostgresQuery = "SELECT \(unescaped: Order.columns), seq FROM orders WHERE kind = \(kind.rawValue)"
        switch parameters["includeDeleted"] {
        case nil, "false": query.append(" AND NOT deleted")
        case "true": break
        default: errors.append(FieldError(field: "includeDeleted", message: "must be true or false"))
        }
        for (parameter, column) in [("counterpartyId", "counterparty_id"), ("dealId", "deal_id"), ("projectId", "project_id")] {
            guard let text = parameters[parameter] else { continue }
            if let id = UUID(uuidString: text) {
                query.append(" AND \(unescaped: column) = \(id)")
            } else {
                errors.append(FieldError(field: parameter, message: "must be a UUID"))
            }
        }
        if let text = parameters["state"] {
            if OrderState(rawValue: text) != nil {
                query.append(" AND state = \(text)")
            } else {
                errors.append(FieldError(
                    field: "state", message: "must be one of \(OrderState.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
        }
        // Both ends inclusive: `from=2026-12-01&to=2026-12-31` is December.
        for (parameter, comparison) in [("from", ">="), ("to", "<=")] {
            guard let text = parameters[parameter] else { continue }
            if CalendarDate.isValid(text) {
                query.append(" AND date \(unescaped: comparison) \(text)::date")
            } else {
                errors.append(FieldError(field: parameter, message: "must be a date YYYY-MM-DD"))
            }
        }
        if let text = parameters["q"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            let before = errors.count
            SizeBudget.check(text, field: "q", maxCharacters: Self.maximumSearchLength, errors: &errors)
            NULCharacters.check(text, field: "q", errors: &errors)
            if errors.count == before {
                let pattern = "%" + text.lowercased().replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
                query.append(" AND lower(number || ' ' || coalesce(comment, '')) LIKE \(pattern)")
            }
        }
        if let position = try page.decodeCursor(as: Position.self) {
            // A cursor that decodes but was not ours (edited by hand) is a 400 like any other bad cursor.
            guard CalendarDate.isValid(position.date), position.seq > 0 else {
                throw Problem.badRequest(
                    "The cursor is not one this list handed out.",
                    errors: [FieldError(field: "cursor", message: "is not a valid cursor")])
            }
            query.append(" AND (date, seq) < (\(position.date)::date, \(position.seq)::bigint)")
        }
        guard errors.isEmpty else { throw Problem.unprocessable(errors: errors) }
        query.append(" ORDER BY date DESC, seq DESC LIMIT \(page.limit + 1)")

        let rows = try await transaction.query(query)
        let pageRows = Array(rows.prefix(page.limit))
        let ids = try pageRows.map { try $0.decode("id", as: UUID.self) }
        var linesByOrder: [UUID: [OrderLine]] = [:]
        if !ids.isEmpty {
            for row in try await transaction.query("""
                SELECT order_id, \(unescaped: OrderLine.columns) FROM order_lines WHERE order_id = ANY(\(ids)::uuid[])
                ORDER BY order_id, position
                """) {
                linesByOrder[try row.decode("order_id", as: UUID.self), default: []].append(try OrderLine(row: row))
            }
        }
        var next: String?
        if rows.count > page.limit, let last = pageRows.last {
            next = try Cursor.encode(Position(date: try last.decode("date"), seq: try last.decode("seq")))
        }
        let items = try pageRows.map { row in try Order(row: row, lines: linesByOrder[try row.decode("id", as: UUID.self)] ?? []) }
        return Page(items: items, nextCursor: next)
    }
}
