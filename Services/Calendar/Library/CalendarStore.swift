import Contracts
import Foundation
import Postgres
import ServiceKit

/// The read side of the calendars.
struct CalendarStore: Sendable {
    /// Most entries one range read returns; a range holding more is refused (422) rather than cut.
    static let maxEntries = 5000
    /// Most entries `/overdue` returns (the oldest).
    static let maxOverdue = 500
    /// Most reminders one `/reminders` read returns (the earliest due).
    static let maxReminders = 5000

    struct Employee: Sendable {
        var name: String?
        var timeZone: String
        var active: Bool
        var deleted: Bool
    }

    /// The employee as the employees projection knows them. An employee the projection has not
    /// seen yet but whose entries exist counts as known (the topics are not ordered among each
    /// other), with time zone UTC; otherwise 404.
    func employee(_ id: UUID, in transaction: PostgresTransaction) async throws -> Employee {
        if let row = try await transaction.query("""
            SELECT name, time_zone, active, deleted FROM employees WHERE id = \(id)
            """).first {
            return Employee(
                name: try row.decode("name"), timeZone: validTimeZone(try row.decode("time_zone")),
                active: try row.decode("active"), deleted: try row.decode("deleted"))
        }
        let hasEntries = try await !transaction.query("""
            SELECT 1 FROM entries WHERE employee_id = \(id) AND active LIMIT 1
            """).isEmpty
        guard hasEntries else { throw Problem.notFound("No employee with id \(id.lowercasedText).") }
        return Employee(name: nil, timeZone: "UTC", active: true, deleted: false)
    }

    /// Entries of `employee` overlapping `[from, to)` in one of `states`, ordered by start (then
    /// end, then event id). An entry overlaps when it starts before `to` and ends after `from`;
    /// an instant entry (start = end) when `from ≤ start < to`. At most `limit` + 1 rows, so the
    /// caller can tell that there were more.
    func entries(
        of employee: UUID, from: Date, to: Date, states: [String], limit: Int, in transaction: PostgresTransaction
    ) async throws -> [EntryRow] {
        // The GiST index answers the closed-range overlap; the half-open test is exact.
        try await transaction.query("""
            SELECT \(unescaped: EntryRow.columns)
            FROM entries e LEFT JOIN counterparties c ON c.id = e.counterparty_id
            WHERE e.active AND e.employee_id = \(employee)
              AND tstzrange(e.starts_at, e.ends_at, '[]') && tstzrange(\(from)::timestamptz, \(to)::timestamptz, '[)')
              AND (e.ends_at > \(from)::timestamptz OR e.starts_at = e.ends_at)
              AND e.state = ANY(\(states)::text[])
            ORDER BY e.starts_at, e.ends_at, e.event_id
            LIMIT \(limit + 1)
            """).map(EntryRow.init(row:))
    }

    /// Planned entries whose end has passed, oldest first.
    func overdue(of employee: UUID, now: Date, in transaction: PostgresTransaction) async throws -> [EntryRow] {
        try await transaction.query("""
            SELECT \(unescaped: EntryRow.columns)
            FROM entries e LEFT JOIN counterparties c ON c.id = e.counterparty_id
            WHERE e.active AND e.state = 'planned' AND e.employee_id = \(employee) AND e.ends_at < \(now)::timestamptz
            ORDER BY e.starts_at, e.ends_at, e.event_id
            LIMIT \(Self.maxOverdue)
            """).map(EntryRow.init(row:))
    }

    struct Reminder: Encodable, Sendable {
        var eventId: String
        var number: String
        var subject: String
        var startsAt: Date
        var dueAt: Date
        var status: String
        var sentAt: Date?

        private enum CodingKeys: String, CodingKey { case eventId, number, subject, startsAt, dueAt, status, sentAt }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(eventId, forKey: .eventId)
            try container.encode(number, forKey: .number)
            try container.encode(subject, forKey: .subject)
            try container.encode(startsAt, forKey: .startsAt)
            try container.encode(dueAt, forKey: .dueAt)
            try container.encode(status, forKey: .status)
            try container.encode(sentAt, forKey: .sentAt)
        }
    }

    /// The employee's reminders due in `[from, to)`, earliest due first: scheduled, sent, and
    /// the ones recorded as missed or skipped.
    func reminders(of employee: UUID, from: Date, to: Date, in transaction: PostgresTransaction) async throws -> [Reminder] {
        try await transaction.query("""
            SELECT r.event_id, e.number, e.subject, r.starts_at, r.due_at, r.status, r.settled_at
            FROM reminders r JOIN entries e ON e.event_id = r.event_id
            WHERE r.employee_id = \(employee) AND r.due_at >= \(from)::timestamptz AND r.due_at < \(to)::timestamptz
            ORDER BY r.due_at, r.event_id
            LIMIT \(Self.maxReminders + 1)
            """).map { row in
            let status: String = try row.decode("status")
            return Reminder(
                eventId: try row.decode("event_id", as: UUID.self).lowercasedText, number: try row.decode("number"),
                subject: try row.decode("subject"), startsAt: try row.decode("starts_at"), dueAt: try row.decode("due_at"),
                status: status, sentAt: status == "sent" ? try row.decodeIfPresent("settled_at") : nil)
        }
    }
}

/// `from`/`to` of a range read: both required, RFC 3339 with an offset, `from` before `to`, at
/// most `maxDays` apart. Every bad parameter is listed in one 422.
struct TimeRange: Sendable {
    static let maxDays = 366

    var from: Date
    var to: Date

    init(_ parameters: [String: String]) throws {
        var errors: [FieldError] = []
        func date(_ name: String) -> Date? {
            guard let raw = parameters[name], !raw.isEmpty else {
                errors.append(FieldError(field: name, message: "is required (an RFC 3339 date-time with offset)"))
                return nil
            }
            // An unencoded `+` in a query string may arrive as a space.
            guard let date = RFC3339.date(from: raw.replacingOccurrences(of: " ", with: "+")) else {
                errors.append(FieldError(
                    field: name, message: "must be an RFC 3339 date-time with offset, e.g. 2026-12-01T00:00:00+03:00"))
                return nil
            }
            return date
        }
        let from = date("from")
        let to = date("to")
        if let from, let to {
            if to <= from {
                errors.append(FieldError(field: "to", message: "must be later than from"))
            } else if to.timeIntervalSince(from) > Double(Self.maxDays) * 86_400 {
                errors.append(FieldError(field: "to", message: "the range may span at most \(Self.maxDays) days"))
            }
        }
        guard errors.isEmpty, let from, let to else { throw Problem.unprocessable(errors: errors) }
        self.from = from
        self.to = to
    }
}
