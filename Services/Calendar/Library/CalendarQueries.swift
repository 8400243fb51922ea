import Foundation
import Messaging
import Postgres

/// The range reads of the HTTP API for tools (crm-bench), so a benchmark times exactly the
/// queries and the interval work the service runs.
public enum CalendarQueries {
    /// `GET …/entries` without cancelled entries: returns how many entries the range holds.
    public static func weekView(employee: UUID, from: Date, to: Date, in transaction: PostgresTransaction) async throws -> Int {
        try await CalendarStore().entries(
            of: employee, from: from, to: to, states: ["planned", "completed"], limit: CalendarStore.maxEntries,
            in: transaction
        ).count
    }

    /// `GET …/free-busy`: returns how many busy intervals the range holds.
    public static func freeBusy(employee: UUID, from: Date, to: Date, in transaction: PostgresTransaction) async throws -> Int {
        let rows = try await CalendarStore().entries(
            of: employee, from: from, to: to, states: ["planned", "completed"], limit: CalendarStore.maxEntries,
            in: transaction)
        return Intervals.busy(rows.map { Intervals.Item(id: $0.eventId, start: $0.startsAt, end: $0.endsAt) }, from: from, to: to).count
    }
}

extension CalendarQueries {
    /// The projection handler of `crm.events.v1`, `crm.employees.v1` and `crm.counterparties.v1`
    /// as the consumer runtime runs it, for throughput measurements.
    public static func projectionHandler(
        outbox: Outbox, reminderLead: TimeInterval = 900, now: @escaping @Sendable () -> Date = { Date() }
    ) -> any MessageHandler {
        CalendarProjectionHandler(outbox: outbox, reminderLead: reminderLead, now: now)
    }
}
