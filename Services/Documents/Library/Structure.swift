import Contracts
import Foundation
import Hummingbird
import Postgres
import ServiceKit

/// One document of the structure (API.md): an event or an order, with what is based on it.
struct StructureNode: Encodable, Sendable {
    var kind: String
    var id: UUID
    var number: String
    var date: Date
    var state: String
    var title: String
    var counterpartyId: UUID?
    var dealId: UUID?
    /// Not in API.md's Node: deleted documents stay in the tree (their children still refer to
    /// them) and are marked, as a mature CRM's structure view marks them.
    var deleted: Bool
    var children: [StructureNode]

    private enum CodingKeys: String, CodingKey {
        case kind, id, number, date, state, title, counterpartyId, dealId, deleted, children
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(id.lowercasedText, forKey: .id)
        try container.encode(number, forKey: .number)
        try container.encode(date, forKey: .date)
        try container.encode(state, forKey: .state)
        try container.encode(title, forKey: .title)
        try container.encode(counterpartyId?.lowercasedText, forKey: .counterpartyId)
        try container.encode(dealId?.lowercasedText, forKey: .dealId)
        try container.encode(deleted, forKey: .deleted)
        try container.encode(children, forKey: .children)
    }
}

/// `{"roots": [Node], "truncated": false}`. `truncated` (not in API.md) is true when a bound
/// of `StructureQuery` cut the answer short.
struct StructureResponse: ResponseEncodable, Sendable {
    var roots: [StructureNode]
    var truncated: Bool
}

/// `GET /v1/structure?document=kind:id | counterpartyId= | dealId=`: the whole trees of
/// documents linked by `basis`, found with one recursive query (`document_structure`): up from
/// the starting documents to their topmost basis, then down to everything based on those roots.
///
/// Bounds: a tree is followed at most `maximumDepth` links up and down, and an answer holds at
/// most `maximumNodes` documents (and starts from at most that many documents of a counterparty
/// or deal). Past a bound the answer is what fits, breadth first (a node's parent is always
/// in it), with `"truncated": true`.
struct StructureQuery: Sendable {
    static let maximumDepth = 50
    static let maximumNodes = 1000

    enum Start: Sendable {
        case document(kind: String, id: UUID)
        case counterparty(UUID)
        case deal(UUID)
    }

    let start: Start

    init(start: Start) {
        self.start = start
    }

    init(request: Request) throws {
        let parameters = request.uri.queryParameters
        let document = parameters.get("document")
        let counterparty = parameters.get("counterpartyId")
        let deal = parameters.get("dealId")
        let given = [document, counterparty, deal].compactMap { $0 }
        guard given.count == 1 else {
            throw Problem.unprocessable(
                errors: [FieldError(field: "document", message: "give exactly one of document, counterpartyId and dealId")])
        }
        if let document {
            let parts = document.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, Basis.kinds.contains(parts[0]), let id = UUID(uuidString: parts[1]) else {
                throw Problem.unprocessable(errors: [FieldError(
                    field: "document", message: "must be event:<id>, customer-order:<id> or supplier-order:<id>")])
            }
            start = .document(kind: parts[0], id: id)
        } else if let counterparty {
            guard let id = UUID(uuidString: counterparty) else {
                throw Problem.unprocessable(errors: [FieldError(field: "counterpartyId", message: "must be a UUID")])
            }
            start = .counterparty(id)
        } else {
            guard let deal, let id = UUID(uuidString: deal) else {
                throw Problem.unprocessable(errors: [FieldError(field: "dealId", message: "must be a UUID")])
            }
            start = .deal(id)
        }
    }

    func run(in transaction: PostgresTransaction) async throws -> StructureResponse {
        let depth = Self.maximumDepth
        let limit = Self.maximumNodes
        // One recursive query, in the function `document_structure` (migration 0002) so that it
        // is planned once per session rather than per request.
        let (mode, kind, id): (String, String?, UUID) = switch start {
        case .document(let kind, let id): ("document", kind, id)
        case .counterparty(let id): ("counterparty", nil, id)
        case .deal(let id): ("deal", nil, id)
        }
        let query: PostgresQuery = """
            SELECT kind, id, number, at, state, title, counterparty_id, deal_id, basis_kind, basis_id, deleted, depth, cut_above
            FROM document_structure(\(mode), \(kind)::text, \(id), \(depth), \(limit))
            """
        let rows = try await transaction.query(query)
        if rows.isEmpty, case .document(let kind, let id) = start {
            throw Problem.notFound("No \(kind) with id \(id.lowercasedText) is known.")
        }
        let cutAbove = try rows.first?.decodeIfPresent("cut_above", as: Bool.self) ?? false
        var truncated = rows.count > limit || cutAbove

        struct Flat {
            var node: StructureNode
            var parent: String?
            var depth: Int
        }
        func key(_ kind: String, _ id: UUID) -> String { kind + ":" + id.lowercasedText }
        var flat: [String: Flat] = [:]
        var order: [String] = []
        for row in rows.prefix(limit) {
            let rowDepth = try row.decode("depth", as: Int.self)
            if rowDepth > depth {
                truncated = true
                continue
            }
            let node = StructureNode(
                kind: try row.decode("kind"), id: try row.decode("id"), number: try row.decode("number"),
                date: try row.decode("at"), state: try row.decode("state"), title: try row.decode("title"),
                counterpartyId: try row.decodeIfPresent("counterparty_id"), dealId: try row.decodeIfPresent("deal_id"),
                deleted: try row.decode("deleted"), children: [])
            let nodeKey = key(node.kind, node.id)
            guard flat[nodeKey] == nil else { continue }
            var parent: String?
            if rowDepth > 0, let basisKind = try row.decodeIfPresent("basis_kind", as: String.self),
               let basisID = try row.decodeIfPresent("basis_id", as: UUID.self) {
                parent = key(basisKind, basisID)
            }
            flat[nodeKey] = Flat(node: node, parent: parent, depth: rowDepth)
            order.append(nodeKey)
        }
        var childrenOf: [String: [String]] = [:]
        var rootKeys: [String] = []
        for nodeKey in order {
            if let parent = flat[nodeKey]?.parent, flat[parent] != nil {
                childrenOf[parent, default: []].append(nodeKey)
            } else {
                rootKeys.append(nodeKey)
            }
        }
        func sorted(_ nodes: [StructureNode]) -> [StructureNode] {
            // Numbers compare by length first: CO-1000000 comes after CO-999999.
            nodes.sorted {
                ($0.date, $0.number.count, $0.number, $0.id.uuidString) < ($1.date, $1.number.count, $1.number, $1.id.uuidString)
            }
        }
        func build(_ nodeKey: String, _ level: Int) -> StructureNode {
            var node = flat[nodeKey]!.node
            // The depth bound keeps this recursion shallow even for a hand-made cycle.
            if level < depth {
                node.children = sorted((childrenOf[nodeKey] ?? []).map { build($0, level + 1) })
            }
            return node
        }
        return StructureResponse(roots: sorted(rootKeys.map { build($0, 0) }), truncated: truncated)
    }
}

extension DocumentsService {
    /// Runs the query of `GET /v1/structure?document=kind:id` (for `crm-bench`) and returns how
    /// many documents the answer holds and whether it was truncated.
    public static func structure(
        document kind: String, id: UUID, in pool: PostgresPool
    ) async throws -> (nodes: Int, truncated: Bool) {
        let response = try await pool.withTransaction { try await StructureQuery(start: .document(kind: kind, id: id)).run(in: $0) }
        func count(_ node: StructureNode) -> Int { 1 + node.children.reduce(0) { $0 + count($1) } }
        return (response.roots.reduce(0) { $0 + count($1) }, response.truncated)
    }
}
