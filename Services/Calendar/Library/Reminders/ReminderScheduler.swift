import Contracts
import Crypto
import Foundation
import Logging
import Messaging
import Metrics
import Postgres
import ServiceLifecycle

/// Fires due reminders: every `pollInterval` it picks scheduled reminders whose due time has
/// come (`FOR UPDATE SKIP LOCKED`, so instances running side by side never pick the same one),
/// and in the same transaction marks each one and enqueues its `crm.calendar.reminder-due`
/// message on the outbox (key = employee id). A reminder whose entry has already started —
/// it fell due while no instance was running — is recorded as `missed` and not sent; one of an
/// inactive or deleted employee is `skipped`.
struct ReminderScheduler: Service {
    static let batchSize = 100

    let pool: PostgresPool
    let outbox: Outbox
    let lead: TimeInterval
    let pollInterval: TimeInterval
    let now: @Sendable () -> Date
    let logger: Logger
    /// The event projection's consumer has read what its partitions held at start: until then a
    /// reminder could fire for an event cancelled or moved while the service was down.
    var projectionCaughtUp: CaughtUpSignal?
    /// Fails `/health/ready` when the scheduler has been failing for too long.
    let health = ComponentHealth(name: "reminder scheduler")

    /// `crm_calendar_reminders_total{status="sent|missed|skipped"}`.
    private static func count(_ status: String) {
        Counter(label: "crm_calendar_reminders_total", dimensions: [("status", status)]).increment()
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await projectionCaughtUp?.wait(timeout: .seconds(60))
            await realignDueTimes()
            var failures = 0
            while !Task.isCancelled {
                do {
                    while try await fireDue() == Self.batchSize, !Task.isCancelled {}
                    failures = 0
                    health.working()
                } catch is CancellationError {
                    break
                } catch {
                    failures += 1
                    health.failing(String(describing: error))
                    logger.warning("reminder scheduler: \(error)", metadata: ["failures": "\(failures)"])
                }
                // Back off while the database is unreachable: poll interval, doubling up to 30 s.
                let wait = min(30, pollInterval * pow(2, Double(min(failures, 8))))
                try? await Task.sleep(for: .milliseconds(Int(wait * 1000)))
            }
        }
    }

    /// A changed `CRM_REMINDER_LEAD` applies to the reminders still scheduled, too.
    private func realignDueTimes() async {
        do {
            let seconds = lead
            try await pool.withTransaction { transaction in
                try await transaction.execute("""
                    UPDATE reminders SET due_at = starts_at - make_interval(secs => \(seconds))
                    WHERE status = 'scheduled' AND due_at <> starts_at - make_interval(secs => \(seconds))
                    """)
            }
        } catch {
            logger.warning("reminder scheduler could not realign due times: \(error)")
        }
    }

    /// One batch: returns how many reminders it settled.
    @discardableResult
    func fireDue() async throws -> Int {
        let at = now()
        let statuses = try await pool.withTransaction { transaction -> [String] in
            var statuses: [String] = []
            let due = try await transaction.query("""
                SELECT event_id, starts_at, employee_id, due_at FROM reminders
                WHERE status = 'scheduled' AND due_at <= \(at)::timestamptz
                ORDER BY due_at, event_id
                LIMIT \(Self.batchSize)
                FOR UPDATE SKIP LOCKED
                """)
            for row in due {
                let eventId: UUID = try row.decode("event_id")
                let startsAt: Date = try row.decode("starts_at")
                let employeeId: UUID = try row.decode("employee_id")
                let dueAt: Date = try row.decode("due_at")
                let status = try await settle(
                    eventId: eventId, startsAt: startsAt, employeeId: employeeId, dueAt: dueAt, at: at, in: transaction)
                try await transaction.execute("""
                    UPDATE reminders SET status = \(status), settled_at = \(at)
                    WHERE event_id = \(eventId) AND starts_at = \(startsAt)
                    """)
                statuses.append(status)
            }
            return statuses
        }
        // Counted once the transaction committed (a retried transaction counts once).
        for status in statuses { Self.count(status) }
        return statuses.count
    }

    /// Decides what becomes of one due reminder and enqueues its message when it is sent.
    private func settle(
        eventId: UUID, startsAt: Date, employeeId: UUID, dueAt: Date, at: Date, in transaction: PostgresTransaction
    ) async throws -> String {
        guard startsAt > at else { return "missed" }
        let rows = try await transaction.query("""
            SELECT \(unescaped: EntryRow.columns), m.name AS employee_name, m.time_zone, m.active AS employee_active,
                m.deleted AS employee_deleted
            FROM entries e LEFT JOIN counterparties c ON c.id = e.counterparty_id LEFT JOIN employees m ON m.id = e.employee_id
            WHERE e.event_id = \(eventId) AND e.active
            """)
        // The projection drops reminders of entries that went away; this is a safety net.
        guard let row = rows.first else { return "skipped" }
        let entry = try EntryRow(row: row)
        guard entry.state == "planned", entry.startsAt == startsAt, entry.employeeId == employeeId else { return "skipped" }
        if try row.decodeIfPresent("employee_active", as: Bool.self) == false
            || row.decodeIfPresent("employee_deleted", as: Bool.self) == true {
            return "skipped"
        }
        let employee = employeeId.lowercasedText
        let reminder = ReminderDue(
            eventId: eventId.lowercasedText, number: entry.number, subject: entry.subject, startsAt: startsAt,
            endsAt: entry.endsAt, dueAt: dueAt, channel: entry.channel, direction: entry.direction,
            counterpartyId: entry.counterpartyId?.lowercasedText, counterpartyName: entry.counterpartyName,
            contactId: entry.contactId?.lowercasedText, employeeId: employee,
            employee: .init(
                id: employee, name: try row.decodeIfPresent("employee_name"),
                timeZone: validTimeZone(try row.decodeIfPresent("time_zone"))))
        let message = CloudEvent(
            id: Self.messageId(eventId: eventId, startsAt: startsAt), source: CalendarService.name,
            type: ReminderDue.eventType, subject: eventId.lowercasedText, time: at,
            version: Int64(entry.version), data: reminder)
        try await outbox.enqueue(message, topic: Topic.calendarReminders, key: employee, in: transaction)
        return "sent"
    }

    /// The same id for the same event and start time, so a consumer can drop a repeat the relay
    /// sent again (the outbox guarantees at least once).
    static func messageId(eventId: UUID, startsAt: Date) -> String {
        let text = "\(eventId.lowercasedText)|\(Int64((startsAt.timeIntervalSince1970 * 1000).rounded()))"
        var bytes = Array(SHA256.hash(data: Data(text.utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50  // version 5 style (name-based)
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 4122 variant
        let hex = bytes.lowercaseHex
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }
}
