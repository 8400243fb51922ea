import Foundation
import HTTPTypes
import Kafka
import ServiceKit
import Testing
import TestSupport

// Helpers of the crm-documents tests. Everything goes through `Harness` (HTTP and the embedded
// Kafka cluster). As in the crm-events tests, request bodies are JSON *strings* and responses
// are parsed synchronously into Sendable views, never `[String: Any]` across an `await`.

// MARK: - Building JSON text

/// A JSON string literal for `text`, quotes included.
func q(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default:
            if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
        }
    }
    return out + "\""
}

/// A JSON object from members whose values are already JSON text; later duplicates win.
func jsonText(_ members: [(String, String)]) -> String {
    var order: [String] = []
    var values: [String: String] = [:]
    for (key, value) in members {
        if values[key] == nil { order.append(key) }
        values[key] = value
    }
    return "{" + order.map { "\(q($0)):\(values[$0]!)" }.joined(separator: ",") + "}"
}

func jsonText(_ members: KeyValuePairs<String, String>) -> String { jsonText(members.map { ($0.key, $0.value) }) }

func newId() -> String { UUID().uuidString.lowercased() }

/// One line: quantity, price and discount as JSON text (so a test can send a JSON number).
func lineJSON(
    product: String? = nil, description: String? = nil, quantity: String = q("1"), price: String? = q("10.00"),
    discount: String? = nil
) -> String {
    var members: [(String, String)] = []
    if let product { members.append(("productId", q(product))) }
    if let description { members.append(("description", q(description))) }
    members.append(("quantity", quantity))
    if let price { members.append(("price", price)) }
    if let discount { members.append(("discountPercent", discount)) }
    return jsonText(members)
}

/// An order body for the world's counterparty with `lines` (default: one line) and `fields`
/// (raw JSON values) which override or add members.
func orderJSON(_ world: World, lines: [String]? = nil, _ fields: KeyValuePairs<String, String> = [:]) -> String {
    var members: [(String, String)] = [
        ("counterpartyId", q(world.counterparty)), ("date", q("2026-12-01")),
        ("lines", "[" + (lines ?? [lineJSON(description: "Widget", quantity: q("2"), price: q("1500.00"), discount: q("10"))])
            .joined(separator: ",") + "]"),
    ]
    members += fields.map { ($0.key, $0.value) }
    return jsonText(members)
}

func basisJSON(_ kind: String, _ id: String) -> String { #"{"kind":\#(q(kind)),"id":\#(q(id))}"# }

// MARK: - Parsed responses

private func parseObject(_ text: String?) -> [String: Any]? {
    guard let text else { return nil }
    return (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
}

/// Whether a parsed JSON value is a boolean (NSNumber on Linux, so checked by type name).
private func isJSONBool(_ value: Any?) -> Bool {
    guard let value, !(value is NSNull) else { return false }
    let name = String(describing: type(of: value))
    return name == "Bool" || name.contains("Boolean")
}

private func integer(_ value: Any?) -> Int? {
    if isJSONBool(value) { return nil }
    if let int = value as? Int { return int }
    if let double = value as? Double, double == double.rounded() { return Int(double) }
    return nil
}

/// A JSON member that must be a *string* (decimals are never JSON numbers): nil otherwise.
private func string(_ value: Any?) -> String? { value as? String }

struct LineView: Sendable, Equatable {
    let productId: String?
    let description: String?
    let quantity: String?
    let price: String?
    let discountPercent: String?
    let amount: String?

    init(object: [String: Any]) {
        productId = string(object["productId"])
        description = string(object["description"])
        quantity = string(object["quantity"])
        price = string(object["price"])
        discountPercent = string(object["discountPercent"])
        amount = string(object["amount"])
    }
}

/// The members every order representation carries.
let orderMembers = [
    "id", "kind", "number", "state", "counterpartyId", "contactId", "dealId", "projectId", "responsibleId", "date",
    "currency", "comment", "basis", "lines", "total", "authorId", "createdAt", "updatedAt", "deleted", "version",
]

/// One order as the API returns it.
struct OrderView: Sendable, CustomStringConvertible {
    let text: String
    let members: Set<String>
    let id: String
    let kind: String?
    let number: String?
    let state: String?
    let counterpartyId: String?
    let contactId: String?
    let dealId: String?
    let projectId: String?
    let responsibleId: String?
    let date: String?
    let currency: String?
    let comment: String?
    let basisKind: String?
    let basisId: String?
    let lines: [LineView]
    let total: String?
    let authorId: String?
    let deleted: Bool?
    let version: Int?

    init?(object: [String: Any], text: String) {
        guard let id = object["id"] as? String else { return nil }
        self.text = text
        members = Set(object.keys)
        self.id = id
        kind = string(object["kind"])
        number = string(object["number"])
        state = string(object["state"])
        counterpartyId = string(object["counterpartyId"])
        contactId = string(object["contactId"])
        dealId = string(object["dealId"])
        projectId = string(object["projectId"])
        responsibleId = string(object["responsibleId"])
        date = string(object["date"])
        currency = string(object["currency"])
        comment = string(object["comment"])
        let basis = object["basis"] as? [String: Any]
        basisKind = string(basis?["kind"])
        basisId = string(basis?["id"])
        lines = (object["lines"] as? [[String: Any]] ?? []).map(LineView.init(object:))
        total = string(object["total"])
        authorId = string(object["authorId"])
        deleted = isJSONBool(object["deleted"]) ? (object["deleted"] as? Bool) : nil
        version = integer(object["version"])
    }

    init?(_ text: String) {
        guard let object = parseObject(text) else { return nil }
        self.init(object: object, text: text)
    }

    var description: String { text }
    var amounts: [String] { lines.compactMap(\.amount) }
}

struct OrderPage: Sendable {
    let items: [OrderView]
    let nextCursor: String?
    let hasNextCursorMember: Bool

    init(_ text: String) {
        let object = parseObject(text) ?? [:]
        items = (object["items"] as? [[String: Any]] ?? []).compactMap { item in
            let data = (try? JSONSerialization.data(withJSONObject: item)) ?? Data()
            return OrderView(object: item, text: String(decoding: data, as: UTF8.self))
        }
        nextCursor = object["nextCursor"] as? String
        hasNextCursorMember = object.keys.contains("nextCursor")
    }

    var numbers: [String] { items.compactMap(\.number) }
    var ids: [String] { items.map(\.id) }
}

/// One node of `GET /v1/structure`, flattened: (depth, kind, id, number, parent id).
struct StructureView: Sendable {
    struct Node: Sendable, Equatable {
        let kind: String
        let id: String
        let number: String
        let date: String
        let state: String
        let title: String
        let counterpartyId: String?
        let dealId: String?
        let parent: String?
        let depth: Int
        let childIds: [String]
        let members: Set<String>
    }

    let roots: [String]
    let nodes: [Node]
    let truncated: Bool?

    init(_ text: String) {
        let object = parseObject(text) ?? [:]
        var nodes: [Node] = []
        func walk(_ node: [String: Any], parent: String?, depth: Int) {
            let children = node["children"] as? [[String: Any]] ?? []
            let id = string(node["id"]) ?? ""
            nodes.append(Node(
                kind: string(node["kind"]) ?? "", id: id, number: string(node["number"]) ?? "", date: string(node["date"]) ?? "",
                state: string(node["state"]) ?? "", title: string(node["title"]) ?? "",
                counterpartyId: string(node["counterpartyId"]), dealId: string(node["dealId"]), parent: parent, depth: depth,
                childIds: children.compactMap { string($0["id"]) }, members: Set(node.keys)))
            for child in children { walk(child, parent: id, depth: depth + 1) }
        }
        let roots = object["roots"] as? [[String: Any]] ?? []
        for root in roots { walk(root, parent: nil, depth: 0) }
        self.roots = roots.compactMap { string($0["id"]) }
        self.nodes = nodes
        truncated = isJSONBool(object["truncated"]) ? object["truncated"] as? Bool : nil
    }

    func node(_ id: String) -> Node? { nodes.first { $0.id == id } }
    /// `parent>child` pairs, sorted: a tree's shape independent of order.
    var edges: [String] { nodes.compactMap { node in node.parent.map { "\($0)>\(node.id)" } }.sorted() }
}

// MARK: - Requests

/// Expects `status` and an order body.
func requireOrder(
    _ response: HarnessResponse, status: Int = 200, sourceLocation: SourceLocation = #_sourceLocation
) throws -> OrderView {
    expectStatus(response, status, sourceLocation: sourceLocation)
    return try #require(OrderView(response.text), "not an order: \(response.text)", sourceLocation: sourceLocation)
}

func createOrder(
    _ h: Harness, _ kind: String = "customer-orders", _ json: String, role: Role = .admin, subject: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws -> OrderView {
    try requireOrder(
        try await h.request(.post, "/v1/\(kind)", role: role, subject: subject, json: json), status: 201,
        sourceLocation: sourceLocation)
}

func getOrder(
    _ h: Harness, _ kind: String, _ id: String, role: Role = .admin, sourceLocation: SourceLocation = #_sourceLocation
) async throws -> OrderView {
    try requireOrder(try await h.request(.get, "/v1/\(kind)/\(id)", role: role), sourceLocation: sourceLocation)
}

func action(
    _ h: Harness, _ kind: String, _ id: String, _ name: String, role: Role = .admin, subject: String? = nil,
    headers: [String: String] = [:]
) async throws -> HarnessResponse {
    try await h.request(.post, "/v1/\(kind)/\(id)/\(name)", role: role, subject: subject, headers: headers)
}

func listOrders(
    _ h: Harness, _ kind: String, _ query: String, sourceLocation: SourceLocation = #_sourceLocation
) async throws -> OrderPage {
    let response = try await h.request(.get, "/v1/\(kind)?\(query)")
    expectStatus(response, 200, sourceLocation: sourceLocation)
    return OrderPage(response.text)
}

func structure(
    _ h: Harness, _ query: String, sourceLocation: SourceLocation = #_sourceLocation
) async throws -> StructureView {
    let response = try await h.request(.get, "/v1/structure?\(query)", role: .viewer)
    expectStatus(response, 200, sourceLocation: sourceLocation)
    return StructureView(response.text)
}

// MARK: - Topics

/// A message of `crm.documents.v1` read into Sendable values.
struct TopicMessage: Sendable {
    let partition: Int32
    let key: String?
    let ceType: String?
    let ceId: String?
    let specversion: String?
    let id: String?
    let source: String?
    let type: String?
    let subject: String?
    let version: Int?
    let data: OrderView?

    init(_ message: KafkaMessage) {
        partition = message.partition
        key = message.keyString
        ceType = message.header("ce_type")?.stringValue
        ceId = message.header("ce_id")?.stringValue
        let envelope = parseObject(message.valueString) ?? [:]
        specversion = string(envelope["specversion"])
        id = string(envelope["id"])
        source = string(envelope["source"])
        type = string(envelope["type"])
        subject = string(envelope["subject"])
        version = integer(envelope["version"])
        let dataObject = envelope["data"] as? [String: Any]
        data = dataObject.flatMap { object in
            let text = (try? JSONSerialization.data(withJSONObject: object)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            return OrderView(object: object, text: text)
        }
    }
}

func settledTopic(
    _ h: Harness, _ topic: String, total: Int, sourceLocation: SourceLocation = #_sourceLocation
) async throws -> [TopicMessage] {
    try await h.settledMessages(on: topic, total: total, sourceLocation: sourceLocation).map(TopicMessage.init)
}
