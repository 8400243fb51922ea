import Foundation

/// `data` of `crm.calendar-entry.upserted` / `.removed` on `crm.calendar.v1` (key = event id):
/// the entry after the change. A removal names the calendar the entry left (`employeeId`) and
/// carries `removed: true` and `deleted: true` (TOPICS.md: a deletion is a snapshot with
/// `deleted`); its times are null when the event no longer has them.
public struct CalendarEntrySnapshot: Codable, Sendable, Equatable {
    public static let upserted = "crm.calendar-entry.upserted"
    public static let removedType = "crm.calendar-entry.removed"

    public var eventId: UUID
    public var employeeId: UUID?
    public var number: String?
    public var subject: String?
    public var channel: String?
    public var direction: String?
    public var state: String?
    public var startsAt: Date?
    public var endsAt: Date?
    public var counterpartyId: UUID?
    public var counterpartyName: String?
    public var contactId: UUID?
    public var removed: Bool
    /// The event's version.
    public var version: Int

    public init(
        eventId: UUID, employeeId: UUID?, number: String?, subject: String?, channel: String?, direction: String?,
        state: String?, startsAt: Date?, endsAt: Date?, counterpartyId: UUID?, counterpartyName: String?, contactId: UUID?,
        removed: Bool, version: Int
    ) {
        self.eventId = eventId
        self.employeeId = employeeId
        self.number = number
        self.subject = subject
        self.channel = channel
        self.direction = direction
        self.state = state
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.counterpartyId = counterpartyId
        self.counterpartyName = counterpartyName
        self.contactId = contactId
        self.removed = removed
        self.version = version
    }

    public var eventType: String { removed ? Self.removedType : Self.upserted }

    private enum CodingKeys: String, CodingKey {
        case eventId, employeeId, number, subject, channel, direction, state, startsAt, endsAt, counterpartyId
        case counterpartyName, contactId, removed, deleted, version
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        eventId = try container.decode(UUID.self, forKey: .eventId)
        employeeId = try container.decodeIfPresent(UUID.self, forKey: .employeeId)
        number = try container.decodeIfPresent(String.self, forKey: .number)
        subject = try container.decodeIfPresent(String.self, forKey: .subject)
        channel = try container.decodeIfPresent(String.self, forKey: .channel)
        direction = try container.decodeIfPresent(String.self, forKey: .direction)
        state = try container.decodeIfPresent(String.self, forKey: .state)
        startsAt = try container.decodeTimestampIfPresent(forKey: .startsAt)
        endsAt = try container.decodeTimestampIfPresent(forKey: .endsAt)
        counterpartyId = try container.decodeIfPresent(UUID.self, forKey: .counterpartyId)
        counterpartyName = try container.decodeIfPresent(String.self, forKey: .counterpartyName)
        contactId = try container.decodeIfPresent(UUID.self, forKey: .contactId)
        removed = try container.decodeIfPresent(Bool.self, forKey: .removed)
            ?? container.decodeIfPresent(Bool.self, forKey: .deleted) ?? false
        version = try container.decode(Int.self, forKey: .version)
    }

    public func encode(to encoder: any Encoder) throws {
        func text(_ id: UUID?) -> String? { id?.lowercasedText }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(text(eventId), forKey: .eventId)
        try container.encode(text(employeeId), forKey: .employeeId)
        try container.encode(number, forKey: .number)
        try container.encode(subject, forKey: .subject)
        try container.encode(channel, forKey: .channel)
        try container.encode(direction, forKey: .direction)
        try container.encode(state, forKey: .state)
        try container.encodeTimestamp(startsAt, forKey: .startsAt)
        try container.encodeTimestamp(endsAt, forKey: .endsAt)
        try container.encode(text(counterpartyId), forKey: .counterpartyId)
        try container.encode(counterpartyName, forKey: .counterpartyName)
        try container.encode(text(contactId), forKey: .contactId)
        try container.encode(removed, forKey: .removed)
        try container.encode(removed, forKey: .deleted)
        try container.encode(version, forKey: .version)
    }
}

/// `data` of `crm.calendar.reminder-due` on `crm.calendar.reminders.v1` (key = employee id): an
/// entry whose reminder is due, with the employee to notify.
public struct ReminderDue: Codable, Sendable, Equatable {
    public static let eventType = "crm.calendar.reminder-due"

    public struct Employee: Codable, Sendable, Equatable {
        public var id: String
        public var name: String?
        /// IANA zone name, `UTC` when the employee has none.
        public var timeZone: String

        public init(id: String, name: String?, timeZone: String) {
            self.id = id
            self.name = name
            self.timeZone = timeZone
        }

        private enum CodingKeys: String, CodingKey { case id, name, timeZone }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            try container.encode(timeZone, forKey: .timeZone)
        }
    }

    public var eventId: String
    public var number: String
    public var subject: String
    public var startsAt: Date
    public var endsAt: Date
    public var dueAt: Date
    public var channel: String
    public var direction: String
    public var counterpartyId: String?
    public var counterpartyName: String?
    public var contactId: String?
    public var employeeId: String
    public var employee: Employee

    public init(
        eventId: String, number: String, subject: String, startsAt: Date, endsAt: Date, dueAt: Date, channel: String,
        direction: String, counterpartyId: String?, counterpartyName: String?, contactId: String?, employeeId: String,
        employee: Employee
    ) {
        self.eventId = eventId
        self.number = number
        self.subject = subject
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.dueAt = dueAt
        self.channel = channel
        self.direction = direction
        self.counterpartyId = counterpartyId
        self.counterpartyName = counterpartyName
        self.contactId = contactId
        self.employeeId = employeeId
        self.employee = employee
    }

    private enum CodingKeys: String, CodingKey {
        case eventId, number, subject, startsAt, endsAt, dueAt, channel, direction, counterpartyId, counterpartyName
        case contactId, employeeId, employee
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(eventId, forKey: .eventId)
        try container.encode(number, forKey: .number)
        try container.encode(subject, forKey: .subject)
        try container.encodeTimestamp(startsAt, forKey: .startsAt)
        try container.encodeTimestamp(endsAt, forKey: .endsAt)
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
