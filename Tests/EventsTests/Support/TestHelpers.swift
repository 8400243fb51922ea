import Foundation
import HTTPTypes
import Kafka
import ServiceKit
import Testing
import TestSupport

// Helpers shared by the crm-events tests. Everything talks to the service through `Harness`
// (HTTP and the embedded Kafka cluster); nothing here knows the implementation.
//
// Swift 6.3.1 crashed on test closures that passed `[String: Any]` to async helpers many times
// and on `var`s captured by `#expect`. So: request bodies are JSON *strings*, responses are
// parsed synchronously into the Sendable `EventView` / `EventPage` below, and helpers take and
// return only Sendable values (String, Int, Bool, [String], the views).

// MARK: - Building JSON text

/// A JSON string literal for `text`, quotes included: `q("a\"b")` → `"a\"b"`.
func q(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                out += String(format: "\\u%04x", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}

/// `q(text)` or `null`.
func qOrNull(_ text: String?) -> String { text.map(q) ?? "null" }

/// A JSON array of strings.
func qArray(_ texts: [String]) -> String { "[" + texts.map(q).joined(separator: ",") + "]" }

/// A value for `eventJSON`/`jsonText` fields meaning "leave this member out".
let omitMember = "\u{0}omit"

/// A JSON object from members whose values are already JSON text:
/// `jsonText(["subject": q("Call"), "dealId": "null", "basis": basisJSON(id)])`.
/// Later duplicates replace earlier ones; `omitMember` leaves a member out.
func jsonText(_ members: KeyValuePairs<String, String>) -> String {
    jsonText(members.map { ($0.key, $0.value) })
}

func jsonText(_ members: [(String, String)]) -> String {
    var order: [String] = []
    var values: [String: String] = [:]
    for (key, value) in members {
        if values[key] == nil { order.append(key) }
        values[key] = value
    }
    let parts = order.compactMap { key -> String? in
        guard let value = values[key], value != omitMember else { return nil }
        return "\(q(key)):\(value)"
    }
    return "{" + parts.joined(separator: ",") + "}"
}

/// A create body: `channel` phone-call, `direction` outgoing and `subject`, plus `fields`
/// (raw JSON values) which override those three.
func eventJSON(_ subject: String = "Call", _ fields: KeyValuePairs<String, String> = [:]) -> String {
    var members: [(String, String)] = [("channel", q("phone-call")), ("direction", q("outgoing")), ("subject", q(subject))]
    members += fields.map { ($0.key, $0.value) }
    return jsonText(members)
}

/// `{"kind":"event","id":"…"}`
func basisJSON(_ eventId: String) -> String { #"{"kind":"event","id":\#(q(eventId))}"# }

func newId() -> String { UUID().uuidString.lowercased() }


// MARK: - Times

func rfc3339(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
}



// MARK: - Parsed JSON (synchronous only)

private func parseObject(_ text: String?) -> [String: Any]? {
    guard let text, let data = text.data(using: .utf8) else { return nil }
    return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
}

private func string(_ value: Any?) -> String? { value as? String }

/// Whether a parsed JSON value is `true`/`false`. Foundation on Linux hands out NSNumber for
/// numbers, and `NSNumber(1) is Bool` holds there, so the type is checked by name.
private func isJSONBool(_ value: Any?) -> Bool {
    guard let value else { return false }
    if value is NSNull { return false }
    let name = String(describing: type(of: value))
    return name == "Bool" || name.contains("Boolean")
}

private func integer(_ value: Any?) -> Int? {
    if isJSONBool(value) { return nil }
    if let int = value as? Int { return int }
    if let double = value as? Double, double == double.rounded() { return Int(double) }
    return nil
}

private func jsonNumber(_ value: Any?) -> Double? {
    if isJSONBool(value) { return nil }
    if let int = value as? Int { return Double(int) }
    if let double = value as? Double { return double }
    if let text = value as? String { return Double(text) }
    return nil
}

/// Every string (and number, printed) inside a JSON value, depth first.
private func leafStrings(_ value: Any?) -> [String] {
    switch value {
    case let text as String: return [text]
    case let object as [String: Any]: return object.keys.sorted().flatMap { leafStrings(object[$0]) }
    case let array as [Any]: return array.flatMap { leafStrings($0) }
    case let bool as Bool where isJSONBool(value): return [bool ? "true" : "false"]
    case let double as Double:
        return [double == double.rounded() && abs(double) < 1e15 ? String(Int(double)) : String(double)]
    default: return []
    }
}

/// Every (key, value) pair inside a JSON object, depth first.
private func leafPairs(_ value: Any?) -> [(String, Any)] {
    switch value {
    case let object as [String: Any]:
        return object.keys.sorted().flatMap { key -> [(String, Any)] in
            let child = object[key]!
            if child is [String: Any] || child is [Any] { return leafPairs(child) }
            return [(key, child)]
        }
    case let array as [Any]: return array.flatMap { leafPairs($0) }
    default: return []
    }
}

/// The members every Event representation carries (API.md, "crm-events — the Event document").
let eventMembers = [
    "id", "number", "channel", "direction", "state", "subject", "content", "counterpartyId", "contactId",
    "dealId", "projectId", "responsibleId", "startsAt", "endsAt", "basis", "authorId", "createdAt",
    "updatedAt", "completedAt", "cancelledAt", "cancelReason", "source", "call", "deleted", "version",
]

/// One Event as the API returns it, read into Sendable values.
struct EventView: Sendable, CustomStringConvertible {
    let text: String
    /// Members present in the object (with any value, `null` included).
    let members: Set<String>
    /// Members present with the value `null`.
    let nullMembers: Set<String>
    let id: String
    let number: String?
    let channel: String?
    let direction: String?
    let state: String?
    let subject: String?
    let content: String?
    let counterpartyId: String?
    let contactId: String?
    let dealId: String?
    let projectId: String?
    let responsibleId: String?
    let startsAt: String?
    let endsAt: String?
    let basisKind: String?
    let basisId: String?
    let authorId: String?
    let createdAt: String?
    let updatedAt: String?
    let completedAt: String?
    let cancelledAt: String?
    let cancelReason: String?
    let source: String?
    let deleted: Bool?
    let version: Int?
    /// `call` is a JSON object (telephony details).
    let hasCall: Bool
    /// `call.callId`.
    let callId: String?
    /// Every string or number inside `call`, printed.
    let callStrings: [String]
    /// Numeric values of members of `call` whose name contains "duration" (any case).
    let callDurations: [Double]

    var description: String { text }

    init?(text: String) {
        guard let object = parseObject(text) else { return nil }
        self.init(object: object, text: text)
    }

    init?(object: [String: Any], text: String? = nil) {
        guard let id = string(object["id"]) else { return nil }
        self.id = id
        if let text {
            self.text = text
        } else if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) {
            self.text = String(decoding: data, as: UTF8.self)
        } else {
            self.text = "\(object)"
        }
        members = Set(object.keys)
        nullMembers = Set(object.keys.filter { object[$0] is NSNull })
        number = string(object["number"])
        channel = string(object["channel"])
        direction = string(object["direction"])
        state = string(object["state"])
        subject = string(object["subject"])
        content = string(object["content"])
        counterpartyId = string(object["counterpartyId"])
        contactId = string(object["contactId"])
        dealId = string(object["dealId"])
        projectId = string(object["projectId"])
        responsibleId = string(object["responsibleId"])
        startsAt = string(object["startsAt"])
        endsAt = string(object["endsAt"])
        let basis = object["basis"] as? [String: Any]
        basisKind = string(basis?["kind"])
        basisId = string(basis?["id"])
        authorId = string(object["authorId"])
        createdAt = string(object["createdAt"])
        updatedAt = string(object["updatedAt"])
        completedAt = string(object["completedAt"])
        cancelledAt = string(object["cancelledAt"])
        cancelReason = string(object["cancelReason"])
        source = string(object["source"])
        deleted = isJSONBool(object["deleted"]) ? object["deleted"] as? Bool : nil
        version = integer(object["version"])
        let call = object["call"] as? [String: Any]
        hasCall = call != nil
        callId = string(call?["callId"])
        callStrings = leafStrings(call)
        callDurations = leafPairs(call).compactMap { key, value in
            key.lowercased().contains("duration") ? jsonNumber(value) : nil
        }
    }

    /// `basis` is absent or null.
    var hasNoBasis: Bool { basisKind == nil && basisId == nil }

    /// Whether some value inside `call` is a phone number ending in the same ten digits as `number`.
    func callMentionsNumber(_ number: String) -> Bool {
        let wanted = String(number.filter(\.isNumber).suffix(10))
        return callStrings.contains { String($0.filter(\.isNumber).suffix(10)) == wanted && $0.filter(\.isNumber).count >= 10 }
    }

    /// Whether `call` gives the call's timing: a duration of one of `seconds`, or a timestamp at `instant`.
    func callHasTiming(durations seconds: [Int], orInstant instant: String) -> Bool {
        if callDurations.contains(where: { duration in seconds.contains { Double($0) == duration || Double($0 * 1000) == duration } }) {
            return true
        }
        return callStrings.contains { sameInstant($0, instant) }
    }
}

/// One page of `GET /v1/events`.
struct EventPage: Sendable {
    let text: String
    let items: [EventView]
    let hasItemsArray: Bool
    let hasNextCursorMember: Bool
    let nextCursor: String?

    init(text: String) {
        self.text = text
        let object = parseObject(text) ?? [:]
        let array = object["items"] as? [[String: Any]]
        hasItemsArray = object["items"] is [Any]
        items = (array ?? []).compactMap { EventView(object: $0) }
        hasNextCursorMember = object.keys.contains("nextCursor")
        nextCursor = string(object["nextCursor"])
    }

    var ids: [String] { items.map(\.id) }
}

/// A problem+json body read into Sendable values.
struct ProblemView: Sendable {
    let status: Int?
    let title: String?
    let fields: [String]

    init(text: String) {
        let object = parseObject(text) ?? [:]
        status = integer(object["status"])
        title = string(object["title"])
        fields = ((object["errors"] as? [[String: Any]]) ?? []).compactMap { string($0["field"]) }
    }
}

extension HarnessResponse {
    var event: EventView? { EventView(text: text) }
    var page: EventPage { EventPage(text: text) }
    var problem: ProblemView { ProblemView(text: text) }
    var etag: String? { headers[.eTag] }
    var contentType: String { headers[.contentType] ?? "" }
}

func quotedVersion(_ version: Int) -> String { "\"\(version)\"" }

// MARK: - Checks





/// A DELETE answer: 200 with the object or 204.
func expectDeleted(_ response: HarnessResponse, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(
        response.status == 200 || response.status == 204,
        "DELETE answered \(response.status): \(response.text)", sourceLocation: sourceLocation)
}

/// The event of a 200/201 answer, or a failed requirement naming the answer.
func requireEvent(
    _ response: HarnessResponse, status: Int, sourceLocation: SourceLocation = #_sourceLocation
) throws -> EventView {
    try #require(
        response.status == status, "expected \(status), got \(response.status): \(response.text)",
        sourceLocation: sourceLocation)
    return try #require(response.event, "not an event: \(response.text)", sourceLocation: sourceLocation)
}

// MARK: - Event requests

/// POSTs `/v1/events`, requires 201 and returns the event.
@discardableResult
func createEvent(
    _ h: Harness, _ body: String, role: Role? = .admin, subject: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws -> EventView {
    let response = try await h.request(.post, "/v1/events", role: role, subject: subject, json: body)
    return try requireEvent(response, status: 201, sourceLocation: sourceLocation)
}

/// GETs `/v1/events/{id}` as admin, requires 200.
func getEvent(
    _ h: Harness, _ id: String, role: Role? = .admin, sourceLocation: SourceLocation = #_sourceLocation
) async throws -> EventView {
    let response = try await h.request(.get, "/v1/events/\(id)", role: role)
    return try requireEvent(response, status: 200, sourceLocation: sourceLocation)
}

/// GETs a list (`query` without the leading `?`), requires 200 and the list shape.
func listEvents(
    _ h: Harness, _ query: String = "", role: Role? = .admin, sourceLocation: SourceLocation = #_sourceLocation
) async throws -> EventPage {
    let path = query.isEmpty ? "/v1/events" : "/v1/events?\(query)"
    let response = try await h.request(.get, path, role: role)
    try #require(
        response.status == 200, "GET \(path) answered \(response.status): \(response.text)",
        sourceLocation: sourceLocation)
    let page = response.page
    #expect(page.hasItemsArray, "no items array: \(response.text)", sourceLocation: sourceLocation)
    #expect(page.hasNextCursorMember, "no nextCursor: \(response.text)", sourceLocation: sourceLocation)
    return page
}

/// The ids of one list page.
func listIds(_ h: Harness, _ query: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String] {
    try await listEvents(h, query, sourceLocation: sourceLocation).ids
}

/// POSTs `/v1/events/{id}/{action}` (`complete`, `cancel`, `reopen`, `follow-ups`).
func postAction(
    _ h: Harness, _ id: String, _ action: String, role: Role? = .admin, subject: String? = nil, json: String? = nil
) async throws -> HarnessResponse {
    try await h.request(.post, "/v1/events/\(id)/\(action)", role: role, subject: subject, json: json)
}

func cancelJSON(_ reason: String) -> String { jsonText(["reason": q(reason)]) }

/// Every page of `query` (which must not hold `cursor`) with `limit`, following `nextCursor`;
/// returns the ids of each page (at most 50 pages).
func allPages(_ h: Harness, _ query: String, limit: Int) async throws -> [[String]] {
    var pages: [[String]] = []
    var cursor: String? = nil
    repeat {
        var path = "limit=\(limit)"
        if !query.isEmpty { path += "&" + query }
        if let cursor { path += "&cursor=\(queryEscape(cursor))" }
        let page = try await listEvents(h, path)
        pages.append(page.ids)
        cursor = page.nextCursor
    } while cursor != nil && pages.count < 50
    return pages
}

/// Repeats a POST while it answers `status` (e.g. 422 while a reference is not yet in the
/// projection) and `timeout` has not passed; returns the last answer.
func postWhileRefused(
    _ h: Harness, _ path: String, json: String, status: Int, timeout: Duration = .seconds(20)
) async throws -> HarnessResponse {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while true {
        let response = try await h.request(.post, path, json: json)
        if response.status != status || clock.now >= deadline { return response }
        try await Task.sleep(for: .milliseconds(250))
    }
}

/// Polls a list until it holds at least `count` items or `timeout` passes; returns the last page.
func waitForEvents(
    _ h: Harness, _ query: String, count: Int, timeout: Duration = .seconds(20)
) async throws -> EventPage {
    let clock = ContinuousClock()
    let deadline = clock.now.advanced(by: timeout)
    while true {
        let response = try await h.request(.get, "/v1/events?\(query)")
        let page = response.page
        if (response.status == 200 && page.items.count >= count) || clock.now >= deadline { return page }
        try await Task.sleep(for: .milliseconds(200))
    }
}

/// Waits until a list holds `count` items, then a little longer, and returns what it holds
/// then — to see that nothing more (a duplicate) arrives.
func settledEvents(
    _ h: Harness, _ query: String, count: Int, timeout: Duration = .seconds(20), settle: Duration = .seconds(3)
) async throws -> EventPage {
    _ = try await waitForEvents(h, query, count: count, timeout: timeout)
    try await Task.sleep(for: settle)
    return try await listEvents(h, query)
}

// MARK: - Catalog projection

/// References every event of a test can point at, seeded through the catalog topics.
struct World: Sendable {
    let counterparty: String
    let contact: String
    let deal: String
    let project: String
    let employee: String
    /// A second counterparty with its own contact and deal.
    let otherCounterparty: String
    let otherContact: String
    let otherDeal: String
    let otherProject: String
    let otherEmployee: String
}

func seedWorld(_ h: Harness) async throws -> World {
    let acme = try await h.seedCounterparty(name: "Acme", phones: ["+74951234567"])
    let pavel = try await h.seedContact(counterpartyId: acme, name: "Pavel", phones: ["+79160001122"])
    let supply = try await h.seedDeal(name: "Supply", counterpartyId: acme)
    let survey = try await h.seedProject(name: "Quality assessment")
    let olga = try await h.seedEmployee(name: "Olga", phoneExtension: "101")
    let globex = try await h.seedCounterparty(name: "Globex", phones: ["+78125550102"])
    let maria = try await h.seedContact(counterpartyId: globex, name: "Maria", phones: ["+79160003344"])
    let service = try await h.seedDeal(name: "Service", counterpartyId: globex)
    let launch = try await h.seedProject(name: "Launch")
    let sergey = try await h.seedEmployee(name: "Sergey", phoneExtension: "102")
    return World(
        counterparty: acme, contact: pavel, deal: supply, project: survey, employee: olga,
        otherCounterparty: globex, otherContact: maria, otherDeal: service, otherProject: launch, otherEmployee: sergey)
}

/// A body with every reference of the world's first counterparty.
func fullEventJSON(_ world: World, _ subject: String = "Quality assessment", _ fields: KeyValuePairs<String, String> = [:]) -> String {
    var members: [(String, String)] = [
        ("channel", q("phone-call")), ("direction", q("outgoing")), ("state", q("planned")), ("subject", q(subject)),
        ("content", q("Ask about the last delivery")), ("counterpartyId", q(world.counterparty)),
        ("contactId", q(world.contact)), ("dealId", q(world.deal)), ("projectId", q(world.project)),
        ("responsibleId", q(world.employee)), ("startsAt", q("2026-12-01T10:00:00+03:00")),
        ("endsAt", q("2026-12-01T10:15:00+03:00")),
    ]
    members += fields.map { ($0.key, $0.value) }
    return jsonText(members)
}

// MARK: - Telephony

/// One call record as a PBX publishes it on `crm.telephony.calls.v1` (TOPICS.md).
struct CallRecord: Sendable {
    var callId: String = "pbx-\(UUID().uuidString.lowercased())"
    var direction: String = "inbound"
    var from: String
    var to: String = "+74951110000"
    var `extension`: String? = "101"
    var startedAt: Date
    var answeredAt: Date?
    var endedAt: Date
    var status: String = "answered"
    var recordingUrl: String?

    /// An answered call that ended `endedSecondsAgo` seconds ago: rang 7 s, talked 264 s.
    static func answered(
        from: String, to: String = "+74951110000", direction: String = "inbound", extension ext: String? = "101",
        endedSecondsAgo: Double = 5, callId: String? = nil
    ) -> CallRecord {
        let ended = Date().addingTimeInterval(-endedSecondsAgo)
        let started = ended.addingTimeInterval(-271)
        var call = CallRecord(
            direction: direction, from: from, to: to, extension: ext, startedAt: started,
            answeredAt: started.addingTimeInterval(7), endedAt: ended, status: "answered",
            recordingUrl: "https://pbx.example/rec/\(UUID().uuidString.lowercased())")
        if let callId { call.callId = callId }
        return call
    }

    /// An unanswered call (`missed` or `busy`) that ended `endedSecondsAgo` seconds ago after 20 s.
    static func unanswered(
        _ status: String = "missed", from: String, to: String = "+74951110000", extension ext: String? = "101",
        endedSecondsAgo: Double = 5, callId: String? = nil
    ) -> CallRecord {
        let ended = Date().addingTimeInterval(-endedSecondsAgo)
        var call = CallRecord(
            direction: "inbound", from: from, to: to, extension: ext, startedAt: ended.addingTimeInterval(-20),
            answeredAt: nil, endedAt: ended, status: status, recordingUrl: nil)
        if let callId { call.callId = callId }
        return call
    }

    var startedAtText: String { rfc3339(startedAt) }
    var answeredAtText: String? { answeredAt.map(rfc3339) }
    var endedAtText: String { rfc3339(endedAt) }
    /// Talk time and ring-to-hang-up time in whole seconds.
    var durations: [Int] {
        var result = [Int(endedAt.timeIntervalSince(startedAt).rounded())]
        if let answeredAt { result.append(Int(endedAt.timeIntervalSince(answeredAt).rounded())) }
        return result
    }

    /// The bare JSON object form.
    var bare: String {
        var members: [(String, String)] = [
            ("callId", q(callId)), ("direction", q(direction)), ("from", q(from)), ("to", q(to)),
        ]
        if let ext = self.extension { members.append(("extension", q(ext))) }
        members.append(("startedAt", q(startedAtText)))
        if let answeredAtText { members.append(("answeredAt", q(answeredAtText))) }
        members.append(("endedAt", q(endedAtText)))
        members.append(("status", q(status)))
        if let recordingUrl { members.append(("recordingUrl", q(recordingUrl))) }
        return jsonText(members)
    }

    /// The CloudEvent form (type `crm.telephony.call`, the call as `data`).
    var cloudEvent: String {
        jsonText([
            "specversion": q("1.0"), "id": q(newId()), "source": q("pbx-connector"), "type": q("crm.telephony.call"),
            "subject": q(callId), "time": q(endedAtText), "datacontenttype": q("application/json"), "data": bare,
        ])
    }
}

let telephonyTopic = "crm.telephony.calls.v1"

/// Publishes a call in its bare form, keyed by its callId.
func publishCall(_ h: Harness, _ call: CallRecord, cloudEvent: Bool = false) async throws {
    try await h.publish(topic: telephonyTopic, key: call.callId, value: cloudEvent ? call.cloudEvent : call.bare)
}

/// The one event of `page` made from `callId`, if any.
func eventOfCall(_ page: EventPage, _ callId: String) -> EventView? {
    page.items.first { $0.callId == callId }
}

/// The call-back event based on `missedId`, if any.
func callBack(in page: EventPage, basedOn missedId: String) -> EventView? {
    page.items.first { $0.basisId == missedId }
}

// MARK: - Topics

/// A message read from a topic with its CloudEvent envelope read into Sendable values.
struct TopicMessage: Sendable {
    let topic: String
    let partition: Int32
    let offset: Int64
    let key: String?
    let value: String?
    let ceType: String?
    let ceId: String?
    /// Every header as text (the last one wins when a name repeats).
    let headers: [String: String]
    let specversion: String?
    let id: String?
    let source: String?
    let type: String?
    let subject: String?
    let time: String?
    let datacontenttype: String?
    let version: Int?
    /// `data` as an Event (nil when it is not an object with an id).
    let data: EventView?
    let hasDataObject: Bool

    init(_ message: KafkaMessage) {
        topic = message.topic
        partition = message.partition
        offset = message.offset
        key = message.keyString
        value = message.valueString
        ceType = message.header("ce_type")?.stringValue
        ceId = message.header("ce_id")?.stringValue
        var headers: [String: String] = [:]
        for header in message.headers { headers[header.name] = header.stringValue ?? "" }
        self.headers = headers
        let envelope = parseObject(message.valueString) ?? [:]
        specversion = string(envelope["specversion"])
        id = string(envelope["id"])
        source = string(envelope["source"])
        type = string(envelope["type"])
        subject = string(envelope["subject"])
        time = string(envelope["time"])
        datacontenttype = string(envelope["datacontenttype"])
        version = integer(envelope["version"])
        let dataObject = envelope["data"] as? [String: Any]
        hasDataObject = dataObject != nil
        data = dataObject.flatMap { EventView(object: $0) }
    }

    func header(_ name: String) -> String? { headers[name] }
}

/// Reads `topic` from the start until at least `count` messages arrived; sorted by partition and offset.
func readTopic(_ h: Harness, _ topic: String, count: Int, timeout: Duration = .seconds(20)) async throws -> [TopicMessage] {
    try await h.messages(on: topic, count: count, timeout: timeout)
        .map(TopicMessage.init)
}

/// Checks the CloudEvents envelope and the `ce_type`/`ce_id` headers of a message crm-events publishes.
func expectEnvelope(
    _ message: TopicMessage, type: String, subject: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(message.specversion == "1.0", "envelope: \(message.value ?? "-")", sourceLocation: sourceLocation)
    #expect(message.id?.isEmpty == false, sourceLocation: sourceLocation)
    #expect(message.source?.isEmpty == false, sourceLocation: sourceLocation)
    #expect(message.type == type, "type \(message.type ?? "-"), expected \(type)", sourceLocation: sourceLocation)
    if let subject { #expect(message.subject == subject, sourceLocation: sourceLocation) }
    #expect(parseRFC3339(message.time) != nil, "time: \(message.time ?? "-")", sourceLocation: sourceLocation)
    #expect(message.datacontenttype == "application/json", sourceLocation: sourceLocation)
    #expect(message.version != nil, "no integer version: \(message.value ?? "-")", sourceLocation: sourceLocation)
    #expect(message.hasDataObject, "data is not an object", sourceLocation: sourceLocation)
    #expect(message.ceType == type, "ce_type header: \(message.ceType ?? "-")", sourceLocation: sourceLocation)
    #expect(message.ceId != nil && message.ceId == message.id, "ce_id header: \(message.ceId ?? "-")", sourceLocation: sourceLocation)
}

/// Reads `topic` and requires that it holds exactly `total` messages: waits for them, then
/// waits a little longer to see that nothing else arrives.
func settledTopic(
    _ h: Harness, _ topic: String, total: Int, sourceLocation: SourceLocation = #_sourceLocation
) async throws -> [TopicMessage] {
    try await h.settledMessages(on: topic, total: total, sourceLocation: sourceLocation).map(TopicMessage.init)
}

/// Messages of one key must sit in one partition with strictly increasing versions.
func expectOrderedByVersion(_ messages: [TopicMessage], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(Set(messages.map(\.partition)).count <= 1, "one key spread over partitions", sourceLocation: sourceLocation)
    let versions = messages.compactMap(\.version)
    #expect(versions.count == messages.count, "a message lacks its version", sourceLocation: sourceLocation)
    for (earlier, later) in zip(versions, versions.dropFirst()) {
        #expect(earlier < later, "versions not strictly increasing: \(versions)", sourceLocation: sourceLocation)
    }
}
