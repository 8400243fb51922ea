import Foundation
import HTTPTypes
import Kafka
import ServiceKit
import Testing
import TestSupport

// Small helpers shared by the crm-attributes tests. Everything talks to the service through
// `Harness` (HTTP and the embedded Kafka cluster); nothing here knows the implementation.

// MARK: - JSON

/// JSON text of a request body built from Swift literals; use `NSNull()` for `null`.
func jsonBody(_ object: [String: Any]) throws -> String {
    let data = try JSONSerialization.data(withJSONObject: object)
    return String(decoding: data, as: UTF8.self)
}

/// A JSON object from text; empty when the text is not a JSON object.
func jsonObject(_ text: String?) -> [String: Any] {
    guard let text, let data = text.data(using: .utf8),
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return [:] }
    return object
}

func newId() -> String { UUID().uuidString.lowercased() }

func str(_ value: Any?) -> String? { value as? String }
func intValue(_ value: Any?) -> Int? { value as? Int }
func boolValue(_ value: Any?) -> Bool? { value as? Bool }
func dict(_ value: Any?) -> [String: Any] { value as? [String: Any] ?? [:] }
func dicts(_ value: Any?) -> [[String: Any]] { value as? [[String: Any]] ?? [] }
func strings(_ value: Any?) -> [String]? { value as? [String] }

/// A number given either as a decimal string (`"1.25"`) or as a JSON number.
func decimalValue(_ value: Any?) -> Double? {
    if let text = value as? String { return Double(text) }
    if let number = value as? Double { return number }
    if let number = value as? Int { return Double(number) }
    return nil
}

/// `null` in a parsed JSON document.
func isNull(_ value: Any?) -> Bool { value is NSNull }
/// A cleared optional field: either `null` or left out.
func isNullOrAbsent(_ value: Any?) -> Bool { value == nil || value is NSNull }

/// An RFC 3339 timestamp with or without fractional seconds.
func rfc3339(_ value: Any?) -> Date? { parseRFC3339(value as? String) }

/// Whether two RFC 3339 timestamps name the same instant (to the millisecond the API prints).
func sameInstant(_ a: Any?, _ b: Any?) -> Bool { TestSupport.sameInstant(a as? String, b as? String) }

func rfc3339Now() -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: Date())
}


// MARK: - Responses





/// `ETag` of a response, e.g. `"3"` with its quotes.
func etag(_ response: HarnessResponse) -> String? { response.headers[.eTag] }

func quotedVersion(_ version: Int) -> String { "\"\(version)\"" }

// MARK: - Catalogs

/// POSTs to `/v1/{catalog}`, requires 201 with an `id`, and returns the created object.
@discardableResult
func createObject(
    _ h: Harness, _ catalog: String, _ body: [String: Any],
    sourceLocation: SourceLocation = #_sourceLocation
) async throws -> [String: Any] {
    let response = try await h.request(.post, "/v1/\(catalog)", json: try jsonBody(body))
    try #require(
        response.status == 201, "POST /v1/\(catalog) answered \(response.status): \(response.text)",
        sourceLocation: sourceLocation)
    _ = try #require(str(response.object["id"]), "no id in \(response.text)", sourceLocation: sourceLocation)
    return response.object
}

private func merged(_ base: [String: Any], _ extra: [String: Any]) -> [String: Any] {
    base.merging(extra) { _, new in new }
}

func createCounterparty(
    _ h: Harness, name: String, _ extra: [String: Any] = [:], sourceLocation: SourceLocation = #_sourceLocation
) async throws -> String {
    let object = try await createObject(h, "counterparties", merged(["name": name], extra), sourceLocation: sourceLocation)
    return try #require(str(object["id"]), sourceLocation: sourceLocation)
}

func createEmployee(
    _ h: Harness, name: String, _ extra: [String: Any] = [:], sourceLocation: SourceLocation = #_sourceLocation
) async throws -> String {
    let object = try await createObject(h, "employees", merged(["name": name], extra), sourceLocation: sourceLocation)
    return try #require(str(object["id"]), sourceLocation: sourceLocation)
}

func createContact(
    _ h: Harness, counterpartyId: String, name: String, _ extra: [String: Any] = [:],
    sourceLocation: SourceLocation = #_sourceLocation
) async throws -> String {
    let object = try await createObject(
        h, "contacts", merged(["name": name, "counterpartyId": counterpartyId], extra), sourceLocation: sourceLocation)
    return try #require(str(object["id"]), sourceLocation: sourceLocation)
}

func createProject(
    _ h: Harness, name: String, _ extra: [String: Any] = [:], sourceLocation: SourceLocation = #_sourceLocation
) async throws -> String {
    let object = try await createObject(h, "projects", merged(["name": name], extra), sourceLocation: sourceLocation)
    return try #require(str(object["id"]), sourceLocation: sourceLocation)
}

func createDeal(
    _ h: Harness, counterpartyId: String, name: String, _ extra: [String: Any] = [:],
    sourceLocation: SourceLocation = #_sourceLocation
) async throws -> String {
    let object = try await createObject(
        h, "deals", merged(["name": name, "counterpartyId": counterpartyId], extra), sourceLocation: sourceLocation)
    return try #require(str(object["id"]), sourceLocation: sourceLocation)
}

func createProduct(
    _ h: Harness, name: String, _ extra: [String: Any] = [:], sourceLocation: SourceLocation = #_sourceLocation
) async throws -> String {
    let object = try await createObject(h, "products", merged(["name": name], extra), sourceLocation: sourceLocation)
    return try #require(str(object["id"]), sourceLocation: sourceLocation)
}

/// GETs `path` as admin, requires 200 and returns the body object.
func fetch(
    _ h: Harness, _ path: String, role: Role? = .admin, sourceLocation: SourceLocation = #_sourceLocation
) async throws -> [String: Any] {
    let response = try await h.request(.get, path, role: role)
    try #require(
        response.status == 200, "GET \(path) answered \(response.status): \(response.text)",
        sourceLocation: sourceLocation)
    return response.object
}

/// DELETEs an object as admin; accepts 200 (with the object) or 204.
func deleteObject(
    _ h: Harness, _ catalog: String, _ id: String, sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let response = try await h.request(.delete, "/v1/\(catalog)/\(id)")
    try #require(
        response.status == 200 || response.status == 204,
        "DELETE /v1/\(catalog)/\(id) answered \(response.status): \(response.text)", sourceLocation: sourceLocation)
}

/// The ids of one list page at `path` (with its query); requires 200 and the list shape.
func listIds(
    _ h: Harness, _ path: String, sourceLocation: SourceLocation = #_sourceLocation
) async throws -> [String] {
    let response = try await h.request(.get, path)
    try #require(
        response.status == 200, "GET \(path) answered \(response.status): \(response.text)",
        sourceLocation: sourceLocation)
    #expect(response.object["items"] is [Any], "no items array: \(response.text)", sourceLocation: sourceLocation)
    #expect(response.object.keys.contains("nextCursor"), "no nextCursor: \(response.text)", sourceLocation: sourceLocation)
    return response.items.compactMap { str($0["id"]) }
}

/// The `attributes` tab of a catalog object read.
func cardAttributes(_ object: [String: Any]) -> [[String: Any]] { dicts(object["attributes"]) }

func cardEntry(_ object: [String: Any], key: String) -> [String: Any]? {
    cardAttributes(object).first { str($0["key"]) == key }
}

// MARK: - Attribute sets

struct AttributeSetSnapshot: @unchecked Sendable {
    var kind: String?
    var version: Int?
    var attributes: [[String: Any]]
    var keys: [String] { attributes.compactMap { str($0["key"]) } }
    var positions: [Int] { attributes.compactMap { intValue($0["position"]) } }

    func attribute(_ key: String) -> [String: Any]? { attributes.first { str($0["key"]) == key } }
    func id(of key: String) -> String? { attribute(key).flatMap { str($0["id"]) } }
}

func attributeSet(
    _ h: Harness, kind: String, sourceLocation: SourceLocation = #_sourceLocation
) async throws -> AttributeSetSnapshot {
    let object = try await fetch(h, "/v1/attribute-sets/\(kind)", sourceLocation: sourceLocation)
    return AttributeSetSnapshot(
        kind: str(object["kind"]), version: intValue(object["version"]), attributes: dicts(object["attributes"]))
}

/// POSTs an attribute definition, requires 201 and returns the attribute's id (read back from
/// the set, so it works whether the answer is the attribute or the whole set).
@discardableResult
func addAttribute(
    _ h: Harness, kind: String, _ body: [String: Any], sourceLocation: SourceLocation = #_sourceLocation
) async throws -> String {
    let response = try await h.request(.post, "/v1/attribute-sets/\(kind)/attributes", json: try jsonBody(body))
    try #require(
        response.status == 201,
        "POST /v1/attribute-sets/\(kind)/attributes answered \(response.status): \(response.text)",
        sourceLocation: sourceLocation)
    let set = try await attributeSet(h, kind: kind, sourceLocation: sourceLocation)
    let key = str(body["key"]) ?? str(response.object["key"])
    let name = str(body["name"])
    let match = set.attributes.first { attribute in
        if let key { return str(attribute["key"]) == key }
        return str(attribute["name"]) == name
    }
    return try #require(
        match.flatMap { str($0["id"]) }, "attribute \(body) not found in the set \(set.keys)",
        sourceLocation: sourceLocation)
}

func patchAttribute(
    _ h: Harness, kind: String, id: String, _ body: [String: Any], role: Role? = .admin
) async throws -> HarnessResponse {
    try await h.request(.patch, "/v1/attribute-sets/\(kind)/attributes/\(id)", role: role, json: try jsonBody(body))
}

func retireAttribute(
    _ h: Harness, kind: String, id: String, sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let response = try await h.request(.delete, "/v1/attribute-sets/\(kind)/attributes/\(id)")
    try #require(
        response.status == 200 || response.status == 204,
        "DELETE attribute answered \(response.status): \(response.text)", sourceLocation: sourceLocation)
}

// MARK: - Attribute values

func patchValues(
    _ h: Harness, kind: String, objectId: String, _ values: [String: Any], role: Role? = .admin
) async throws -> HarnessResponse {
    try await h.request(
        .patch, "/v1/attribute-values/\(kind)/\(objectId)", role: role, json: try jsonBody(["values": values]))
}

/// PATCHes values and requires 200.
func setValues(
    _ h: Harness, kind: String, objectId: String, _ values: [String: Any],
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let response = try await patchValues(h, kind: kind, objectId: objectId, values)
    try #require(
        response.status == 200, "PATCH values answered \(response.status): \(response.text)",
        sourceLocation: sourceLocation)
}

struct ValuesSnapshot: @unchecked Sendable {
    var kind: String?
    var objectId: String?
    var version: Int?
    var values: [String: Any]
}

func attributeValues(
    _ h: Harness, kind: String, objectId: String, sourceLocation: SourceLocation = #_sourceLocation
) async throws -> ValuesSnapshot {
    let object = try await fetch(h, "/v1/attribute-values/\(kind)/\(objectId)", sourceLocation: sourceLocation)
    #expect(object["values"] is [String: Any], "values is not an object: \(object)", sourceLocation: sourceLocation)
    return ValuesSnapshot(
        kind: str(object["kind"]), objectId: str(object["objectId"]), version: intValue(object["version"]),
        values: dict(object["values"]))
}

/// PATCHes values of an event or order until the service has seen its id on a topic (no more
/// 404), or the deadline passes; returns the last answer.
func patchValuesOnceKnown(
    _ h: Harness, kind: String, objectId: String, _ values: [String: Any], timeout: Duration = .seconds(20)
) async throws -> HarnessResponse {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while true {
        let response = try await patchValues(h, kind: kind, objectId: objectId, values)
        if response.status != 404 || clock.now >= deadline { return response }
        try await Task.sleep(for: .milliseconds(250))
    }
}

// MARK: - Topics

/// A message read from a topic with its CloudEvent envelope parsed.
struct TopicMessage: @unchecked Sendable {
    let topic: String
    let partition: Int32
    let offset: Int64
    let key: String?
    let envelope: [String: Any]
    let ceType: String?
    let ceId: String?

    init(_ message: KafkaMessage) {
        topic = message.topic
        partition = message.partition
        offset = message.offset
        key = message.keyString
        envelope = jsonObject(message.valueString)
        ceType = message.header("ce_type")?.stringValue
        ceId = message.header("ce_id")?.stringValue
    }

    var type: String? { str(envelope["type"]) }
    var id: String? { str(envelope["id"]) }
    var subject: String? { str(envelope["subject"]) }
    var version: Int? { intValue(envelope["version"]) }
    var data: [String: Any] { dict(envelope["data"]) }
}

/// Reads `topic` until at least `count` messages arrived; sorted by partition and offset.
func readTopic(
    _ h: Harness, _ topic: String, count: Int, timeout: Duration = .seconds(20)
) async throws -> [TopicMessage] {
    try await h.messages(on: topic, count: count, timeout: timeout)
        .map(TopicMessage.init)
}

/// Reads `topic` and requires that it holds exactly `total` messages: waits for them, then
/// waits a little longer to see that nothing else arrives.
func settledTopic(
    _ h: Harness, _ topic: String, total: Int, sourceLocation: SourceLocation = #_sourceLocation
) async throws -> [TopicMessage] {
    try await h.settledMessages(on: topic, total: total, sourceLocation: sourceLocation).map(TopicMessage.init)
}

/// Checks the CloudEvents envelope and the `ce_type`/`ce_id` headers of a message we publish.
func expectEnvelope(
    _ message: TopicMessage, type: String, subject: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    let envelope = message.envelope
    #expect(str(envelope["specversion"]) == "1.0", "envelope: \(envelope)", sourceLocation: sourceLocation)
    #expect(message.id?.isEmpty == false, sourceLocation: sourceLocation)
    #expect(str(envelope["source"])?.isEmpty == false, sourceLocation: sourceLocation)
    #expect(message.type == type, sourceLocation: sourceLocation)
    if let subject { #expect(message.subject == subject, sourceLocation: sourceLocation) }
    #expect(rfc3339(envelope["time"]) != nil, "time: \(String(describing: envelope["time"]))", sourceLocation: sourceLocation)
    #expect(str(envelope["datacontenttype"]) == "application/json", sourceLocation: sourceLocation)
    #expect(message.version != nil, "no integer version: \(envelope)", sourceLocation: sourceLocation)
    #expect(envelope["data"] is [String: Any], sourceLocation: sourceLocation)
    #expect(message.ceType == type, "ce_type header: \(String(describing: message.ceType))", sourceLocation: sourceLocation)
    #expect(message.ceId != nil && message.ceId == message.id, "ce_id header: \(String(describing: message.ceId))", sourceLocation: sourceLocation)
}

/// Messages of one key must sit in one partition with strictly increasing versions.
func expectOrderedByVersion(
    _ messages: [TopicMessage], sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(Set(messages.map(\.partition)).count <= 1, "one key spread over partitions", sourceLocation: sourceLocation)
    let versions = messages.compactMap(\.version)
    #expect(versions.count == messages.count, "a message lacks its version", sourceLocation: sourceLocation)
    for (earlier, later) in zip(versions, versions.dropFirst()) {
        #expect(earlier < later, "versions not strictly increasing: \(versions)", sourceLocation: sourceLocation)
    }
}

// MARK: - Input messages (from other services)

/// A `crm.events.v1` CloudEvent as crm-events publishes it: a full Event snapshot.
func eventCloudEvent(
    id: String, type: String = "crm.event.created", version: Int = 1, authorId: String = newId(), responsibleId: String? = nil
) throws -> String {
    let now = rfc3339Now()
    let data: [String: Any] = [
        "id": id, "number": "EV-000001", "channel": "phone-call", "direction": "outgoing", "state": "planned",
        "subject": "Quality assessment", "content": "Survey call", "counterpartyId": NSNull(), "contactId": NSNull(),
        "dealId": NSNull(), "projectId": NSNull(), "responsibleId": responsibleId ?? NSNull(), "startsAt": NSNull(),
        "endsAt": NSNull(), "basis": NSNull(), "authorId": authorId, "createdAt": now, "updatedAt": now,
        "completedAt": NSNull(), "cancelledAt": NSNull(), "cancelReason": NSNull(), "source": "api",
        "call": NSNull(), "deleted": false, "version": version,
    ]
    return try jsonBody([
        "specversion": "1.0", "id": newId(), "source": "crm-events", "type": type, "subject": id, "time": now,
        "datacontenttype": "application/json", "version": version, "data": data,
    ])
}

/// A `crm.documents.v1` CloudEvent for a customer order as crm-documents publishes it.
func customerOrderCloudEvent(id: String, counterpartyId: String, version: Int = 1) throws -> String {
    let now = rfc3339Now()
    let data: [String: Any] = [
        "id": id, "kind": "customer-order", "number": "CO-000001", "state": "draft", "date": "2026-12-01",
        "counterpartyId": counterpartyId, "contactId": NSNull(), "dealId": NSNull(), "projectId": NSNull(),
        "responsibleId": NSNull(), "currency": "RUB", "comment": NSNull(), "basis": NSNull(),
        "lines": [[
            "productId": newId(), "description": "Widget", "quantity": "2", "price": "1500.00",
            "discountPercent": "0", "amount": "3000.00",
        ]],
        "total": "3000.00", "createdAt": now, "updatedAt": now, "deleted": false, "version": version,
    ]
    return try jsonBody([
        "specversion": "1.0", "id": newId(), "source": "crm-documents", "type": "crm.customer-order.created",
        "subject": id, "time": now, "datacontenttype": "application/json", "version": version, "data": data,
    ])
}
