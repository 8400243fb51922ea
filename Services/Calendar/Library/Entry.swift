import Contracts
import Foundation
import Postgres

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

private func idText(_ id: UUID?) -> String? { id?.lowercasedText }

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

/// `data` of `crm.calendar.v1` and `crm.calendar.reminders.v1`: the payload types in Contracts.
typealias EntrySnapshot = CalendarEntrySnapshot

/// A valid IANA zone name, else `UTC` (the employees catalog's default).
func validTimeZone(_ name: String?) -> String {
    guard let name, !name.isEmpty, TimeZone(identifier: name) != nil else { return "UTC" }
    return name
}

