import Foundation
import Testing
import TestSupport

/// Reminders are due `CRM_REMINDER_LEAD` (15 min here) before an entry's start and published
/// on `crm.calendar.reminders.v1` exactly once per event and start time. The clock is the
/// harness's manual clock; the schedulers poll every 0.2 s of real time.
@Suite struct ReminderTests {
    static let topic = "crm.calendar.reminders.v1"

    /// Waits until the event has a reminder in `status` for `startsAt`.
    static func waitForReminder(_ h: CalendarHarness, _ eventId: String, status: String, startsAt: Date) async throws {
        let held = try await eventually(timeout: .seconds(20)) {
            try await h.reminderRows(eventId).contains { $0.status == status && abs($0.startsAt.timeIntervalSince(startsAt)) < 0.001 }
        }
        guard held else {
            throw MissingTestEnvironment("no \(status) reminder of \(eventId) for \(startsAt): \(try await h.reminderRows(eventId))")
        }
    }

    @Test func dueRemindersAreSentExactlyOnceWithTwoInstances() async throws {
        try await CalendarHarness.run { h in
            let olga = try await h.seedEmployee(name: "Olga", timeZone: "Europe/Moscow")
            let acme = try await h.seedCounterparty(name: "Acme")
            // 20 entries starting 30 min from now, 10 s apart: due from 08:15:00 to 08:18:10.
            let events = (0..<20).map { index in
                EventFixture(
                    subject: "Call \(index)", responsible: olga, from: at(30).addingTimeInterval(Double(index) * 10),
                    to: at(45).addingTimeInterval(Double(index) * 10), counterpartyId: acme)
            }
            for event in events { try await h.publish(event) }
            for event in events { try await Self.waitForReminder(h, event.id, status: "scheduled", startsAt: event.startsAt!) }

            // Nothing is due yet.
            try await Task.sleep(for: .seconds(1))
            let scheduled = try await reminders(h, olga, from: at(0), to: at(60))
            #expect(scheduled.status == 200, "\(scheduled.text)")
            #expect(scheduled.reminders.count == 20)
            #expect(scheduled.reminders.allSatisfy { $0.status == "scheduled" && $0.sentAt == nil })
            #expect(sameInstant(scheduled.reminders.first?.dueAt, rfc3339(at(15))))

            // A second instance with its own scheduler, then everything falls due at once.
            let second = calendarInstance(context: h.context, clock: h.clock)
            try await second.start()
            do {
                h.clock.set(at(20))
                let messages = try await settledTopic(h, Self.topic, total: 20)
                #expect(Set(messages.compactMap { $0.data["eventId"] }) == Set(events.map(\.id)))
                #expect(Set(messages.compactMap(\.id)).count == 20)
                for message in messages {
                    #expect(message.key == olga)
                    #expect(message.type == "crm.calendar.reminder-due" && message.ceType == "crm.calendar.reminder-due")
                    #expect(message.specversion == "1.0" && message.source == "crm-calendar" && message.ceId == message.id)
                    #expect(message.data["counterpartyName"] == "Acme")
                    #expect(message.data["employeeId"] == olga && message.employeeName == "Olga")
                    let event = events.first { $0.id == message.data["eventId"] }
                    #expect(message.data["number"] == event?.number && message.data["subject"] == event?.subject)
                    #expect(sameInstant(message.data["startsAt"], event.map { rfc3339($0.startsAt!) }))
                }
            } catch {
                await second.stop()
                throw error
            }
            await second.stop()
            let sent = try await reminders(h, olga, from: at(0), to: at(60))
            #expect(sent.reminders.count == 20)
            #expect(sent.reminders.allSatisfy { $0.status == "sent" && sameInstant($0.sentAt, rfc3339(at(20))) })
        }
    }

    @Test func movingReschedulesAndCompletingOrCancellingDrops() async throws {
        try await CalendarHarness.run { h in
            let olga = try await h.seedEmployee(name: "Olga")
            let moved = EventFixture(subject: "Moved", responsible: olga, from: at(60), to: at(70))
            let cancelled = EventFixture(subject: "Cancelled", responsible: olga, from: at(60), to: at(70))
            let completed = EventFixture(subject: "Completed", responsible: olga, from: at(60), to: at(70))
            let deleted = EventFixture(subject: "Deleted", responsible: olga, from: at(60), to: at(70))
            let past = EventFixture(subject: "Already started", responsible: olga, from: at(-10), to: at(70))
            for event in [moved, cancelled, completed, deleted, past] { try await h.apply(event) }
            for event in [moved, cancelled, completed, deleted] {
                try await Self.waitForReminder(h, event.id, status: "scheduled", startsAt: at(60))
            }
            #expect(try await h.reminderRows(past.id).isEmpty)

            try await h.apply(moved.next { $0.startsAt = at(120); $0.endsAt = at(130) })
            try await h.apply(cancelled.next { $0.state = "cancelled" })
            try await h.apply(completed.next { $0.state = "completed" })
            try await h.apply(deleted.next { $0.deleted = true })
            var list = try await reminders(h, olga, from: at(0), to: at(200))
            #expect(list.reminders.map(\.eventId) == [moved.id])
            #expect(sameInstant(list.reminders.first?.startsAt, rfc3339(at(120))))
            #expect(sameInstant(list.reminders.first?.dueAt, rfc3339(at(105))))

            // The old due time passes: nothing. The new one: the moved event, once.
            h.clock.set(at(50))
            try await Task.sleep(for: .seconds(1))
            #expect(try await h.reminderRows(moved.id).map(\.status) == ["scheduled"])
            h.clock.set(at(106))
            let messages = try await settledTopic(h, Self.topic, total: 1)
            #expect(messages.first?.data["eventId"] == moved.id)
            #expect(sameInstant(messages.first?.data["startsAt"], rfc3339(at(120))))
            list = try await reminders(h, olga, from: at(0), to: at(200))
            #expect(list.reminders.map(\.status) == ["sent"])
        }
    }

    @Test func remindersThatFellDueDuringDowntimeFireOnStartUpUnlessStarted() async throws {
        try await CalendarHarness.run { h in
            let olga = try await h.seedEmployee(name: "Olga")
            let started = EventFixture(subject: "Started during downtime", responsible: olga, from: at(30), to: at(50))
            let upcoming = EventFixture(subject: "Due during downtime", responsible: olga, from: at(40), to: at(50))
            let later = EventFixture(subject: "Due later", responsible: olga, from: at(60), to: at(70))
            for event in [started, upcoming, later] { try await h.apply(event) }
            for event in [started, upcoming, later] {
                try await Self.waitForReminder(h, event.id, status: "scheduled", startsAt: event.startsAt!)
            }

            // No instance runs from 08:00 to 08:35.
            await h.background.stop()
            h.clock.set(at(35))
            try await h.background.start()

            try await Self.waitForReminder(h, upcoming.id, status: "sent", startsAt: at(40))
            try await Self.waitForReminder(h, started.id, status: "missed", startsAt: at(30))
            #expect(try await h.reminderRows(later.id).map(\.status) == ["scheduled"])

            // An entry created within the lead time is reminded of at once.
            let soon = EventFixture(subject: "Starts in 10 minutes", responsible: olga, from: at(45), to: at(50))
            try await h.apply(soon)
            try await Self.waitForReminder(h, soon.id, status: "sent", startsAt: at(45))

            let messages = try await settledTopic(h, Self.topic, total: 2)
            #expect(Set(messages.compactMap { $0.data["eventId"] }) == [upcoming.id, soon.id])
            let list = try await reminders(h, olga, from: at(0), to: at(120))
            let statuses = Dictionary(uniqueKeysWithValues: list.reminders.map { ($0.eventId, $0.status ?? "") })
            #expect(statuses == [started.id: "missed", upcoming.id: "sent", later.id: "scheduled", soon.id: "sent"])
            let metrics = try await h.request(.get, "/metrics", role: nil)
            #expect(metrics.text.contains("crm_calendar_reminders_total{status=\"sent\"}"), "\(metrics.text.prefix(2000))")
            #expect(metrics.text.contains("crm_calendar_reminders_total{status=\"missed\"}"))
        }
    }
}
