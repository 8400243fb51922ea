import Contracts
import Foundation
import Hummingbird
import Postgres
import ServiceKit

/// A catalog list request: `q`, `includeDeleted`, the catalog's own filters and `attr.<key>=`,
/// ordered by name then id, paged by a cursor over that order.
struct CatalogQuery: Sendable {
    struct Position: Codable, Sendable {
        var name: String
        var id: UUID
    }

    let catalog: Catalog
    let page: PageRequest
    let parameters: [(String, String)]
    let defaultCountryCode: String

    init(catalog: Catalog, request: Request, defaultCountryCode: String) throws {
        self.catalog = catalog
        page = try PageRequest(request: request)
        parameters = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
        self.defaultCountryCode = defaultCountryCode
    }

    private func value(_ name: String) -> String? { parameters.first { $0.0 == name }?.1 }

    /// The ids of one page and the cursor of the next.
    func run(sets: AttributeSetStore, in transaction: PostgresTransaction) async throws -> (ids: [UUID], next: String?) {
        var errors: [FieldError] = []
        var query: PostgresQuery = "SELECT id, name FROM catalog_objects WHERE kind = \(catalog.kind.rawValue)"
        switch value("includeDeleted") {
        case nil, "false": query.append(" AND NOT deleted")
        case "true": break
        default: errors.append(FieldError(field: "includeDeleted", message: "must be true or false"))
        }
        if let text = value("q")?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            let pattern = "%" + text.lowercased().replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(of: "_", with: "\\_") + "%"
            query.append(" AND lower(name) LIKE \(pattern)")
        }
        for filter in catalog.filters {
            switch filter {
            case .phone:
                guard let text = value("phone") else { continue }
                if let phone = PhoneNumber.normalize(text, defaultCountryCode: defaultCountryCode) {
                    query.append(" AND phones @> \([phone])")
                } else {
                    errors.append(FieldError(field: "phone", message: "is not a phone number"))
                }
            case .counterpartyId:
                guard let text = value("counterpartyId") else { continue }
                if let id = UUID(uuidString: text) { query.append(" AND counterparty_id = \(id)") } else {
                    errors.append(FieldError(field: "counterpartyId", message: "must be a UUID"))
                }
            case .field(let name):
                guard let text = value(name) else { continue }
                query.append(" AND data @> \(try PostgresJSON(encoding: [name: text]))")
            }
        }
        let attributeFilters = parameters.filter { $0.0.hasPrefix("attr.") }
        if !attributeFilters.isEmpty {
            let definitions = Dictionary(
                uniqueKeysWithValues: try await sets.activeDefinitions(of: catalog.kind, in: transaction).map { ($0.key, $0) })
            var wanted: [String: JSONValue] = [:]
            for (name, text) in attributeFilters {
                let key = String(name.dropFirst("attr.".count))
                guard let definition = definitions[key] else {
                    errors.append(FieldError(field: name, message: "is not an attribute of the \(catalog.kind.rawValue) set"))
                    continue
                }
                switch AttributeValueFormat.fromQuery(text, for: definition) {
                case .some(let typed): wanted[key] = typed
                case .none: errors.append(FieldError(field: name, message: "is not a valid \(definition.type.rawValue) value"))
                }
            }
            if !wanted.isEmpty {
                query.append("""
                     AND EXISTS (SELECT 1 FROM attribute_values v WHERE v.kind = \(catalog.kind.rawValue)
                        AND v.object_id = catalog_objects.id AND v."values" @> \(try PostgresJSON(encoding: wanted)))
                    """)
            }
        }
        if let position = try page.decodeCursor(as: Position.self) {
            query.append(" AND (name, id) > (\(position.name), \(position.id))")
        }
        guard errors.isEmpty else { throw Problem.unprocessable(errors: errors) }
        query.append(" ORDER BY name, id LIMIT \(page.limit + 1)")

        let rows = try await transaction.query(query)
        let pageRows = rows.prefix(page.limit)
        let ids = try pageRows.map { try $0.decode("id", as: UUID.self) }
        var next: String?
        if rows.count > page.limit, let last = pageRows.last {
            next = try Cursor.encode(Position(name: try last.decode("name"), id: try last.decode("id")))
        }
        return (ids, next)
    }
}
