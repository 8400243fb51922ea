import Foundation
import Kafka
import Testing
import TestSupport

// Helpers of the crm-calendar tests. Responses are parsed synchronously into Sendable views
// (Swift 6.3.1 crashed on `[String: Any]` handed to async helpers), and the service is driven
// only through HTTP and Kafka (plus waiting on its projection tables).

func newId() -> String { UUID().uuidString.lowercased() }

/// `testEpoch` + minutes.
func at(_ minutes: Double) -> Date { testEpoch.addingTimeInterval(minutes * 60) }

/// RFC 3339 in UTC with milliseconds, percent-encoded for a query string.
func rfc3339(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
}

func queryRange(_ from: Date, _ to: Date) -> String {
    "from=\(queryEscape(rfc3339(from)))&to=\(queryEscape(rfc3339(to)))"
}

/// A JSON string literal.
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
            if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
        }
    }
    return out + "\""
}

/// An event snapshot as crm-events publishes it on `crm.events.v1` (the Event's HTTP shape).
struct EventFixture: Sendable {
    var id = newId()
    var number = "EV-\(Int.random(in: 100_000...999_999))"
    var channel = "phone-call"
    var direction = "outgoing"
    var state = "planned"
    var subject = "Call"
    var content: String? = "Ask about the last delivery"
    var counterpartyId: String?
    var contactId: String?
    var responsibleId: String?
    var startsAt: Date?
    var endsAt: Date?
    var deleted = false
    var version = 1
    var updatedAt = testEpoch

    init(
        id: String = newId(), subject: String = "Call", responsible: String?, from start: Date?, to end: Date?,
        state: String = "planned", counterpartyId: String? = nil, version: Int = 1
    ) {
        self.id = id
        self.subject = subject
        self.responsibleId = responsible
        self.startsAt = start
        self.endsAt = end
        self.state = state
        self.counterpartyId = counterpartyId
        self.version = version
    }

    /// The next version with `change` applied (and `updatedAt` one minute later).
    func next(_ change: (inout EventFixture) -> Void = { _ in }) -> EventFixture {
        var copy = self
        copy.version += 1
        copy.updatedAt = updatedAt.addingTimeInterval(60)
        change(&copy)
        return copy
    }

    var typeName: String {
        if deleted { return "crm.event.deleted" }
        return version == 1 ? "crm.event.created" : "crm.event.updated"
    }

    var snapshot: String {
        func text(_ value: String?) -> String { value.map(q) ?? "null" }
        func time(_ value: Date?) -> String { value.map { q(rfc3339($0)) } ?? "null" }
        return """
            {"id":\(q(id)),"number":\(q(number)),"channel":\(q(channel)),"direction":\(q(direction)),"state":\(q(state)),\
            "subject":\(q(subject)),"content":\(text(content)),"counterpartyId":\(text(counterpartyId)),\
            "contactId":\(text(contactId)),"dealId":null,"projectId":null,"responsibleId":\(text(responsibleId)),\
            "startsAt":\(time(startsAt)),"endsAt":\(time(endsAt)),"basis":null,"authorId":"tester",\
            "createdAt":\(q(rfc3339(testEpoch))),"updatedAt":\(q(rfc3339(updatedAt))),\
            "completedAt":\(state == "completed" ? q(rfc3339(updatedAt)) : "null"),\
            "cancelledAt":\(state == "cancelled" ? q(rfc3339(updatedAt)) : "null"),"cancelReason":null,\
            "source":"api","call":null,"unmatched":false,"deleted":\(deleted),"version":\(version)}
            """
    }

    var cloudEvent: String {
        """
        {"specversion":"1.0","id":\(q(newId())),"source":"crm-events","type":\(q(typeName)),"subject":\(q(id)),\
        "time":\(q(rfc3339(updatedAt))),"datacontenttype":"application/json","version":\(version),"data":\(snapshot)}
        """
    }
}

// MARK: - Parsed responses

private func parseObject(_ text: String?) -> [String: Any]? {
    guard let text, let data = text.data(using: .utf8) else { return nil }
    return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
}

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

struct EntryView: Sendable {
    let members: Set<String>
    let eventId: String
    let number: String?
    let subject: String?
    let channel: String?
    let direction: String?
    let state: String?
    let startsAt: String?
    let endsAt: String?
    let counterpartyId: String?
    let counterpartyName: String?
    let contactId: String?
    let overdue: Bool?
    let version: Int?

    init(_ object: [String: Any]) {
        members = Set(object.keys)
        eventId = object["eventId"] as? String ?? ""
        number = object["number"] as? String
        subject = object["subject"] as? String
        channel = object["channel"] as? String
        direction = object["direction"] as? String
        state = object["state"] as? String
        startsAt = object["startsAt"] as? String
        endsAt = object["endsAt"] as? String
        counterpartyId = object["counterpartyId"] as? String
        counterpartyName = object["counterpartyName"] as? String
        contactId = object["contactId"] as? String
        overdue = isJSONBool(object["overdue"]) ? (object["overdue"] as? Bool) : nil
        version = integer(object["version"])
    }
}

/// `{"employeeId","timeZone","entries":[…]}` (also `/overdue`, which has no time zone).
struct CalendarView: Sendable {
    let status: Int
    let text: String
    let employeeId: String?
    let timeZone: String?
    let hasEntriesArray: Bool
    let entries: [EntryView]

    init(_ response: HarnessResponse) {
        status = response.status
        text = response.text
        let object = parseObject(response.text) ?? [:]
        employeeId = object["employeeId"] as? String
        timeZone = object["timeZone"] as? String
        let list = object["entries"] as? [[String: Any]]
        hasEntriesArray = list != nil
        entries = (list ?? []).map(EntryView.init)
    }

    var ids: [String] { entries.map(\.eventId) }
    func entry(_ id: String) -> EntryView? { entries.first { $0.eventId == id } }
}

struct ConflictView: Sendable, Equatable {
    let eventIds: [String]
    let from: String?
    let to: String?
}

struct ConflictsView: Sendable {
    let status: Int
    let text: String
    let employeeId: String?
    let conflicts: [ConflictView]

    init(_ response: HarnessResponse) {
        status = response.status
        text = response.text
        let object = parseObject(response.text) ?? [:]
        employeeId = object["employeeId"] as? String
        conflicts = (object["conflicts"] as? [[String: Any]] ?? []).map {
            ConflictView(eventIds: $0["eventIds"] as? [String] ?? [], from: $0["from"] as? String, to: $0["to"] as? String)
        }
    }
}

struct BusyView: Sendable {
    let status: Int
    let text: String
    let employeeId: String?
    /// (start, end) as the service printed them.
    let busy: [(String, String)]

    init(_ response: HarnessResponse) {
        status = response.status
        text = response.text
        let object = parseObject(response.text) ?? [:]
        employeeId = object["employeeId"] as? String
        busy = (object["busy"] as? [[String: Any]] ?? []).map { ($0["start"] as? String ?? "", $0["end"] as? String ?? "") }
    }
}

struct ReminderView: Sendable {
    let eventId: String
    let status: String?
    let startsAt: String?
    let dueAt: String?
    let sentAt: String?
}

struct RemindersView: Sendable {
    let status: Int
    let text: String
    let reminders: [ReminderView]

    init(_ response: HarnessResponse) {
        status = response.status
        text = response.text
        let object = parseObject(response.text) ?? [:]
        reminders = (object["reminders"] as? [[String: Any]] ?? []).map {
            ReminderView(
                eventId: $0["eventId"] as? String ?? "", status: $0["status"] as? String, startsAt: $0["startsAt"] as? String,
                dueAt: $0["dueAt"] as? String, sentAt: $0["sentAt"] as? String)
        }
    }
}

/// `url` of a feed-token response.
func feedURL(_ response: HarnessResponse) -> String? { parseObject(response.text)?["url"] as? String }

// MARK: - Reading the calendar

func entries(
    _ h: CalendarHarness, _ employee: String, from: Date, to: Date, includeCancelled: Bool = false,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws -> CalendarView {
    let path = "/v1/calendars/\(employee)/entries?\(queryRange(from, to))\(includeCancelled ? "&includeCancelled=true" : "")"
    let view = CalendarView(try await h.request(.get, path))
    #expect(view.status == 200, "GET \(path): \(view.status) \(view.text)", sourceLocation: sourceLocation)
    return view
}

/// Polls the entries of a range until `condition` holds (the projection is asynchronous).
func waitForEntries(
    _ h: CalendarHarness, _ employee: String, from: Date, to: Date, includeCancelled: Bool = false,
    timeout: Duration = .seconds(20), until condition: @Sendable (CalendarView) -> Bool
) async throws -> CalendarView {
    let deadline = ContinuousClock.now + timeout
    while true {
        let path = "/v1/calendars/\(employee)/entries?\(queryRange(from, to))\(includeCancelled ? "&includeCancelled=true" : "")"
        let view = CalendarView(try await h.request(.get, path))
        if (view.status == 200 && condition(view)) || ContinuousClock.now >= deadline { return view }
        try await Task.sleep(for: .milliseconds(200))
    }
}

func reminders(_ h: CalendarHarness, _ employee: String, from: Date, to: Date) async throws -> RemindersView {
    RemindersView(try await h.request(.get, "/v1/calendars/\(employee)/reminders?\(queryRange(from, to))"))
}

// MARK: - Topics

/// A message of a calendar topic, read into Sendable values.
struct TopicMessage: Sendable {
    let key: String?
    let partition: Int32
    let ceType: String?
    let ceId: String?
    let type: String?
    let id: String?
    let subject: String?
    let source: String?
    let specversion: String?
    let version: Int?
    /// Top-level string members of `data` (ids, times, names).
    let data: [String: String]
    let dataBools: [String: Bool]
    /// `data.employee.name`, for reminders.
    let employeeName: String?

    init(_ message: KafkaMessage) {
        key = message.keyString
        partition = message.partition
        ceType = message.header("ce_type")?.stringValue
        ceId = message.header("ce_id")?.stringValue
        let envelope = parseObject(message.valueString) ?? [:]
        type = envelope["type"] as? String
        id = envelope["id"] as? String
        subject = envelope["subject"] as? String
        source = envelope["source"] as? String
        specversion = envelope["specversion"] as? String
        version = integer(envelope["version"])
        let object = envelope["data"] as? [String: Any] ?? [:]
        var strings: [String: String] = [:]
        var bools: [String: Bool] = [:]
        for (key, value) in object {
            if let text = value as? String { strings[key] = text }
            if isJSONBool(value), let flag = value as? Bool { bools[key] = flag }
        }
        data = strings
        dataBools = bools
        employeeName = (object["employee"] as? [String: Any])?["name"] as? String
    }
}

func readTopic(_ h: CalendarHarness, _ topic: String, count: Int, timeout: Duration = .seconds(20)) async throws -> [TopicMessage] {
    try await h.driver.messages(on: topic, count: count, timeout: timeout).map(TopicMessage.init)
}

func settledTopic(
    _ h: CalendarHarness, _ topic: String, total: Int, sourceLocation: SourceLocation = #_sourceLocation
) async throws -> [TopicMessage] {
    try await h.driver.settledMessages(on: topic, total: total, sourceLocation: sourceLocation).map(TopicMessage.init)
}
