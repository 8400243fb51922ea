import Contracts
import Foundation
import Postgres

/// What an entry is built from: the event snapshot of `crm.events.v1` (the Event's HTTP
/// representation). Members the calendar does not use are ignored; the ones it uses are
/// optional so that a partial snapshot is still understood (it is then simply not an entry).
struct EventSnapshot: Codable, Sendable {
    var id: UUID?
    var number: String?
    var channel: String?
    var direction: String?
    var state: String?
    var subject: String?
    var content: String?
    var counterpartyId: UUID?
    var contactId: UUID?
    var responsibleId: UUID?
    var startsAt: Date?
    var endsAt: Date?
    var updatedAt: Date?
    var deleted: Bool?
}

/// One row of `entries`: the newest known state of one event as far as the calendar cares.
struct EntryRow: Sendable {
    var eventId: UUID
    var active: Bool
    var employeeId: UUID?
    var number: String
    var subject: String
    var channel: String
    var direction: String
    var state: String
    var content: String?
    var counterpartyId: UUID?
    var counterpartyName: String?
    var contactId: UUID?
    var startsAt: Date
    var endsAt: Date
    var eventUpdatedAt: Date?
    var version: Int

    /// Columns of `entries e` joined with `counterparties c`.
    static let columns = """
        e.event_id, e.active, e.employee_id, e.number, e.subject, e.channel, e.direction, e.state, e.content,
        e.counterparty_id, c.name AS counterparty_name, e.contact_id, e.starts_at, e.ends_at, e.event_updated_at, e.version
        """

    /// Only for rows of active entries (their times are set).
    init(row: PostgresRow) throws {
        eventId = try row.decode("event_id")
        active = try row.decode("active")
        employeeId = try row.decodeIfPresent("employee_id")
        number = try row.decode("number")
        subject = try row.decode("subject")
        channel = try row.decode("channel")
        direction = try row.decode("direction")
        state = try row.decode("state")
        content = try row.decodeIfPresent("content")
        counterpartyId = try row.decodeIfPresent("counterparty_id")
        counterpartyName = try row.decodeIfPresent("counterparty_name")
        contactId = try row.decodeIfPresent("contact_id")
        startsAt = try row.decode("starts_at")
        endsAt = try row.decode("ends_at")
        eventUpdatedAt = try row.decodeIfPresent("event_updated_at")
        version = try row.decode("version")
    }

    /// Planned and already over (computed at read time, never stored).
    func isOverdue(at now: Date) -> Bool { state == "planned" && endsAt < now }
}

private func idText(_ id: UUID?) -> String? { id?.uuidString.lowercased() }

/// An entry as the HTTP API shows it (API.md, crm-calendar). `version` is the event's version.
struct CalendarEntry: Encodable, Sendable {
    var eventId: UUID
    var number: String
    var subject: String
    var channel: String
    var direction: String
    var state: String
    var startsAt: Date
    var endsAt: Date
    var counterpartyId: UUID?
    var counterpartyName: String?
    var contactId: UUID?
    var overdue: Bool
    var version: Int

    init(_ row: EntryRow, now: Date) {
        eventId = row.eventId
        number = row.number
        subject = row.subject
        channel = row.channel
        direction = row.direction
        state = row.state
        startsAt = row.startsAt
        endsAt = row.endsAt
        counterpartyId = row.counterpartyId
        counterpartyName = row.counterpartyName
        contactId = row.contactId
        overdue = row.isOverdue(at: now)
        version = row.version
    }

    private enum CodingKeys: String, CodingKey {
        case eventId, number, subject, channel, direction, state, startsAt, endsAt, counterpartyId, counterpartyName
        case contactId, overdue, version
    }

    // Every member always present, null when unknown.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(idText(eventId), forKey: .eventId)
        try container.encode(number, forKey: .number)
        try container.encode(subject, forKey: .subject)
        try container.encode(channel, forKey: .channel)
        try container.encode(direction, forKey: .direction)
        try container.encode(state, forKey: .state)
        try container.encode(startsAt, forKey: .startsAt)
        try container.encode(endsAt, forKey: .endsAt)
        try container.encode(idText(counterpartyId), forKey: .counterpartyId)
        try container.encode(counterpartyName, forKey: .counterpartyName)
        try container.encode(idText(contactId), forKey: .contactId)
        try container.encode(overdue, forKey: .overdue)
        try container.encode(version, forKey: .version)
    }
}

/// `data` of `crm.calendar-entry.upserted` / `.removed` on `crm.calendar.v1` (key = event id):
/// the entry after the change. A removal names the calendar the entry left (`employeeId`) and
/// carries `removed: true` and `deleted: true` (TOPICS.md: a deletion is a snapshot with
/// `deleted`); its times are null when the event no longer has them.
struct EntrySnapshot: Codable, Sendable {
    var eventId: UUID
    var employeeId: UUID?
    var number: String?
    var subject: String?
    var channel: String?
    var direction: String?
    var state: String?
    var startsAt: Date?
    var endsAt: Date?
    var counterpartyId: UUID?
    var counterpartyName: String?
    var contactId: UUID?
    var removed: Bool
    var version: Int

    private enum CodingKeys: String, CodingKey {
        case eventId, employeeId, number, subject, channel, direction, state, startsAt, endsAt, counterpartyId
        case counterpartyName, contactId, removed, deleted, version
    }


    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(idText(eventId), forKey: .eventId)
        try container.encode(idText(employeeId), forKey: .employeeId)
        try container.encode(number, forKey: .number)
        try container.encode(subject, forKey: .subject)
        try container.encode(channel, forKey: .channel)
        try container.encode(direction, forKey: .direction)
        try container.encode(state, forKey: .state)
        try container.encode(startsAt, forKey: .startsAt)
        try container.encode(endsAt, forKey: .endsAt)
        try container.encode(idText(counterpartyId), forKey: .counterpartyId)
        try container.encode(counterpartyName, forKey: .counterpartyName)
        try container.encode(idText(contactId), forKey: .contactId)
        try container.encode(removed, forKey: .removed)
        try container.encode(removed, forKey: .deleted)
        try container.encode(version, forKey: .version)
    }
}

/// `data` of `crm.calendar.reminder-due` on `crm.calendar.reminders.v1` (key = employee id).
struct ReminderDue: Codable, Sendable {
    struct Employee: Codable, Sendable {
        var id: String
        var name: String?
        var timeZone: String
    }

    var eventId: String
    var number: String
    var subject: String
    var startsAt: Date
    var endsAt: Date
    var dueAt: Date
    var channel: String
    var direction: String
    var counterpartyId: String?
    var counterpartyName: String?
    var contactId: String?
    var employeeId: String
    var employee: Employee

    private enum CodingKeys: String, CodingKey {
        case eventId, number, subject, startsAt, endsAt, dueAt, channel, direction, counterpartyId, counterpartyName
        case contactId, employeeId, employee
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(eventId, forKey: .eventId)
        try container.encode(number, forKey: .number)
        try container.encode(subject, forKey: .subject)
        try container.encode(startsAt, forKey: .startsAt)
        try container.encode(endsAt, forKey: .endsAt)
        try container.encode(dueAt, forKey: .dueAt)
        try container.encode(channel, forKey: .channel)
        try container.encode(direction, forKey: .direction)
        try container.encode(counterpartyId, forKey: .counterpartyId)
        try container.encode(counterpartyName, forKey: .counterpartyName)
        try container.encode(contactId, forKey: .contactId)
        try container.encode(employeeId, forKey: .employeeId)
        try container.encode(employee, forKey: .employee)
    }
}

/// A valid IANA zone name, else `UTC` (the employees catalog's default).
func validTimeZone(_ name: String?) -> String {
    guard let name, !name.isEmpty, TimeZone(identifier: name) != nil else { return "UTC" }
    return name
}

// In an extension, so the memberwise initializer stays.
extension EntrySnapshot {
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        eventId = try container.decode(UUID.self, forKey: .eventId)
        employeeId = try container.decodeIfPresent(UUID.self, forKey: .employeeId)
        number = try container.decodeIfPresent(String.self, forKey: .number)
        subject = try container.decodeIfPresent(String.self, forKey: .subject)
        channel = try container.decodeIfPresent(String.self, forKey: .channel)
        direction = try container.decodeIfPresent(String.self, forKey: .direction)
        state = try container.decodeIfPresent(String.self, forKey: .state)
        startsAt = try container.decodeIfPresent(Date.self, forKey: .startsAt)
        endsAt = try container.decodeIfPresent(Date.self, forKey: .endsAt)
        counterpartyId = try container.decodeIfPresent(UUID.self, forKey: .counterpartyId)
        counterpartyName = try container.decodeIfPresent(String.self, forKey: .counterpartyName)
        contactId = try container.decodeIfPresent(UUID.self, forKey: .contactId)
        removed = try container.decodeIfPresent(Bool.self, forKey: .removed) ?? container.decodeIfPresent(Bool.self, forKey: .deleted) ?? false
        version = try container.decode(Int.self, forKey: .version)
    }
}
