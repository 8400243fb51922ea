import Contracts
import Foundation
import Hummingbird
import Postgres
import ServiceKit

/// `GET /v1/events`: the interaction history, newest first by start (or creation) time, with
/// every filter of API.md and a cursor over (sort time, id).
struct EventQuery: Sendable {
    struct Position: Codable, Sendable {
        /// The sort time as PostgreSQL prints it, so the cursor compares exactly.
        var sortAt: String
        var id: UUID

        init(sortAt: String, id: UUID) {
            self.sortAt = sortAt
            self.id = id
        }

        /// A tampered cursor must be a 400, not a database error: only a timestamp in
        /// PostgreSQL's own output format is accepted.
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            sortAt = try container.decode(String.self, forKey: .sortAt)
            id = try container.decode(UUID.self, forKey: .id)
            guard sortAt.wholeMatch(of: /\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}(:?\d{2})?|Z)?/) != nil else {
                throw DecodingError.dataCorruptedError(forKey: .sortAt, in: container, debugDescription: "not a timestamp")
            }
        }
    }

    let page: PageRequest
    let parameters: [String: String]

    init(request: Request) throws {
        page = try PageRequest(request: request)
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { parameters[String(key)] = String(value) }
        self.parameters = parameters
    }

    func run(in transaction: PostgresTransaction) async throws -> Page<Event> {
        var errors: [FieldError] = []
        var query: PostgresQuery = "SELECT \(unescaped: Event.columns), sort_at::text AS sort_key FROM events WHERE true"
        switch parameters["includeDeleted"] {
        case nil, "false": query.append(" AND NOT deleted")
        case "true": break
        default: errors.append(FieldError(field: "includeDeleted", message: "must be true or false"))
        }
        for (parameter, column) in [
            ("counterpartyId", "counterparty_id"), ("contactId", "contact_id"), ("dealId", "deal_id"),
            ("projectId", "project_id"), ("responsibleId", "responsible_id"),
        ] {
            guard let text = parameters[parameter] else { continue }
            if let id = UUID(uuidString: text) {
                query.append(" AND \(unescaped: column) = \(id)")
            } else {
                errors.append(FieldError(field: parameter, message: "must be a UUID"))
            }
        }
        for (parameter, options) in [
            ("state", EventState.allCases.map(\.rawValue)), ("channel", Channel.allCases.map(\.rawValue)),
            ("direction", Direction.allCases.map(\.rawValue)),
        ] {
            guard let text = parameters[parameter] else { continue }
            if options.contains(text) {
                query.append(" AND \(unescaped: parameter) = \(text)")
            } else {
                errors.append(FieldError(field: parameter, message: "must be one of \(options.joined(separator: ", "))"))
            }
        }
        for (parameter, comparison) in [("from", ">="), ("to", "<")] {
            guard let text = parameters[parameter] else { continue }
            if let date = RFC3339.date(from: text) {
                query.append(" AND sort_at \(unescaped: comparison) \(date)")
            } else {
                errors.append(FieldError(field: parameter, message: "must be an RFC 3339 date-time with offset"))
            }
        }
        if let text = parameters["q"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            let pattern = "%" + text.lowercased().replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
            query.append(" AND lower(subject || ' ' || coalesce(content, '')) LIKE \(pattern)")
        }
        if let text = parameters["unmatched"] {
            switch text {
            case "true": query.append(" AND unmatched")
            case "false": query.append(" AND NOT unmatched")
            default: errors.append(FieldError(field: "unmatched", message: "must be true or false"))
            }
        }
        if let position = try page.decodeCursor(as: Position.self) {
            query.append(" AND (sort_at, id) < (\(position.sortAt)::timestamptz, \(position.id))")
        }
        guard errors.isEmpty else { throw Problem.unprocessable(errors: errors) }
        query.append(" ORDER BY sort_at DESC, id DESC LIMIT \(page.limit + 1)")

        let rows = try await transaction.query(query)
        let pageRows = Array(rows.prefix(page.limit))
        var next: String?
        if rows.count > page.limit, let last = pageRows.last {
            next = try Cursor.encode(Position(sortAt: try last.decode("sort_key"), id: try last.decode("id")))
        }
        return Page(items: try pageRows.map(Event.init(row:)), nextCursor: next)
    }
}
