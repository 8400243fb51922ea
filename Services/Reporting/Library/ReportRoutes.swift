import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Postgres
import ServiceKit

/// The HTTP API of crm-reporting (API.md, section crm-reporting). Every report is built by one
/// query over the maintained aggregate rows (the report functions of the migrations), never over
/// the facts; `Accept: text/csv` turns any report into CSV. Viewers, managers and admins read;
/// the consistency check is for admins; integrations get 403.
struct ReportRoutes: Sendable {
    static let readers: Set<Role> = [.admin, .manager, .viewer]
    static let segmentTypes: Set<String> = ["boolean", "enum", "reference"]

    let pool: PostgresPool

    func register(on router: Router<CRMRequestContext>) {
        let reports = router.group("v1/reports")

        reports.get("projects") { request, context in
            try context.require(anyOf: Self.readers)
            let page = try PageRequest(request: request)
            struct Position: Codable { var name: String; var id: UUID }
            let after = try page.decodeCursor(as: Position.self)
            let rows = try await pool.query("""
                SELECT f.id, f.name, project_summary(f.id) AS doc FROM project_facts f
                WHERE NOT f.deleted AND (\(after == nil) OR (f.name, f.id) > (\(after?.name ?? ""), \(after?.id ?? UUID())))
                ORDER BY f.name, f.id LIMIT \(page.limit + 1)
                """)
            let items = try rows.prefix(page.limit).map { try Self.json($0.decode("doc", as: String.self)) }
            var next: String?
            if rows.count > page.limit, let last = rows.prefix(page.limit).last {
                next = try Cursor.encode(Position(name: try last.decode("name"), id: try last.decode("id")))
            }
            let document = JSONValue.object(["items": .array(items), "nextCursor": next.map(JSONValue.string) ?? .null])
            if Self.wantsCSV(request) { return Self.csv(CSV.projects(items), next: next, request: request) }
            return try Self.jsonResponse(document)
        }

        reports.get("projects/:projectId") { request, context in
            try context.require(anyOf: Self.readers)
            guard let id = UUID(uuidString: try context.parameters.require("projectId")) else { throw Problem.notFound() }
            let rows = try await pool.query("SELECT project_report(\(id)) AS doc")
            guard let text = rows.first?["doc"], case .object(var report) = try Self.json(text), report["deleted"] != .bool(true) else {
                throw Problem.notFound("No project \(id) is known to crm-reporting.")
            }
            report["deleted"] = nil
            if Self.wantsCSV(request) { return Self.csv(CSV.project(report)) }
            return try Self.jsonResponse(.object(report))
        }

        reports.get("segments/:kind/:attributeKey") { request, context in
            try context.require(anyOf: Self.readers)
            let attribute = try await segmentAttribute(context)
            let rows = try await pool.query("SELECT segment_report(\(attribute)) AS doc")
            let report = try Self.json(rows.first?["doc"] ?? "{}")
            if Self.wantsCSV(request) { return Self.csv(CSV.segments(report.objectValue?["segments"]?.arrayValue ?? [])) }
            return try Self.jsonResponse(report)
        }

        reports.get("segments/:kind/:attributeKey/:value/members") { request, context in
            try context.require(anyOf: Self.readers)
            let attribute = try await segmentAttribute(context)
            let valueText = try context.parameters.require("value")
            let value = valueText == "null" ? "" : valueText
            let page = try PageRequest(request: request)
            struct Position: Codable { var id: UUID }
            let after = try page.decodeCursor(as: Position.self)
            let rows = try await pool.query("""
                SELECT m.counterparty_id AS id, member_item(m.counterparty_id) AS doc FROM segment_members m
                WHERE m.attr_key = \(attribute) AND m.value = \(value)
                    AND (\(after == nil) OR m.counterparty_id > \(after?.id ?? UUID()))
                ORDER BY m.counterparty_id LIMIT \(page.limit + 1)
                """)
            let items = try rows.prefix(page.limit).map { try Self.json($0.decode("doc", as: String.self)) }
            var next: String?
            if rows.count > page.limit, let last = rows.prefix(page.limit).last {
                next = try Cursor.encode(Position(id: try last.decode("id")))
            }
            if Self.wantsCSV(request) { return Self.csv(CSV.members(items), next: next, request: request) }
            return try Self.jsonResponse(.object([
                "kind": .string("counterparty"), "attribute": .string(attribute),
                "value": value.isEmpty ? .null : .string(value),
                "items": .array(items), "nextCursor": next.map(JSONValue.string) ?? .null,
            ]))
        }

        reports.get("consistency") { request, context in
            try context.require(anyOf: [.admin])
            let rows = try await pool.withTransaction { transaction in
                // One snapshot of facts and aggregates, so a batch committing meanwhile is seen whole or not at all.
                try await transaction.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                return try await transaction.query("""
                    SELECT aggregate, key, coalesce(expected::text, 'null') AS expected, coalesce(actual::text, 'null') AS actual
                    FROM consistency()
                    """)
            }
            let items = try rows.map { row -> JSONValue in
                .object([
                    "aggregate": .string(try row.decode("aggregate")), "key": .string(try row.decode("key")),
                    "expected": try Self.json(try row.decode("expected")), "actual": try Self.json(try row.decode("actual")),
                ])
            }
            if Self.wantsCSV(request) { return Self.csv(CSV.differences(items)) }
            return try Self.jsonResponse(.object(["items": .array(items)]))
        }
    }

    /// The attribute of a segment route: kind `counterparty` only (404 otherwise), an active
    /// attribute (404) of type boolean, enum or reference (422).
    private func segmentAttribute(_ context: CRMRequestContext) async throws -> String {
        let kind = try context.parameters.require("kind")
        let attribute = try context.parameters.require("attributeKey")
        guard kind == "counterparty" else {
            throw Problem.notFound("Segments exist for kind counterparty only.")
        }
        let rows = try await pool.query("SELECT attribute_definition('counterparty', \(attribute)) ->> 'type' AS type")
        guard let type = rows.first?["type"] else {
            throw Problem.notFound("No counterparty attribute '\(attribute)' is defined.")
        }
        guard Self.segmentTypes.contains(type) else {
            throw Problem.unprocessable(
                errors: [FieldError(field: "attributeKey", message: "is of type \(type); segments need boolean, enum or reference")],
                detail: "Attribute '\(attribute)' cannot segment counterparties.")
        }
        return attribute
    }

    static func json(_ text: String) throws -> JSONValue {
        try CRMJSON.makeDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    static func jsonResponse(_ value: JSONValue) throws -> Response {
        let data = try CRMJSON.makeEncoder().encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func wantsCSV(_ request: Request) -> Bool {
        request.headers[values: .accept].contains { $0.lowercased().contains("text/csv") }
    }

    /// A CSV body. A paged list has no room for `nextCursor` in CSV, so the next page is a
    /// `Link: <…>; rel="next"` header (RFC 8288) on the same path and query.
    static func csv(_ text: String, next: String? = nil, request: Request? = nil) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        if let next, let request {
            // Parameters arrive decoded: each is encoded again (RFC 3986 unreserved characters
            // only), so a space, `>` or `&` in a value cannot break the header or the query.
            func encoded(_ text: some StringProtocol) -> String {
                String(text).addingPercentEncoding(withAllowedCharacters: linkQueryAllowed) ?? ""
            }
            var query = request.uri.queryParameters.filter { $0.key != "cursor" }.map { "\(encoded($0.key))=\(encoded($0.value))" }
            query.append("cursor=\(encoded(next))")
            headers[HTTPField.Name("Link")!] = "<\(request.uri.path)?\(query.joined(separator: "&"))>; rel=\"next\""
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// RFC 3986 unreserved characters: everything else in a Link header's query is percent-encoded.
private let linkQueryAllowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
