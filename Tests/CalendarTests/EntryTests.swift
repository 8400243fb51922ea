import CalendarService
import Messaging
import Foundation
import Testing
import TestSupport

/// Events become entries of their responsible's calendar, and every change of the event moves,
/// updates or removes the entry.
@Suite(.serialized) struct EntryTests {
    @Test func anEventWithTimesAndAResponsibleAppearsAndFollowsEveryChange() async throws {
        try await CalendarHarness.run { h in
            let olga = try await h.seedEmployee(name: "Olga", timeZone: "Europe/Moscow")
            let sergey = try await h.seedEmployee(name: "Sergey", timeZone: "Asia/Yekaterinburg")
            let acme = try await h.seedCounterparty(name: "Acme")
            let day = (at(0), at(24 * 60))

            var event = EventFixture(subject: "Quality assessment", responsible: olga, from: at(60), to: at(75), counterpartyId: acme)
            event.contactId = newId()
            try await h.apply(event)
            var calendar = try await entries(h, olga, from: day.0, to: day.1)
            #expect(calendar.employeeId == olga)
            #expect(calendar.timeZone == "Europe/Moscow")
            #expect(calendar.ids == [event.id])
            let entry = try #require(calendar.entry(event.id))
            #expect(entry.members.isSuperset(of: [
                "eventId", "number", "subject", "channel", "direction", "state", "startsAt", "endsAt", "counterpartyId",
                "counterpartyName", "contactId", "overdue",
            ]))
            #expect(entry.number == event.number)
            #expect(entry.subject == "Quality assessment")
            #expect(entry.channel == "phone-call" && entry.direction == "outgoing" && entry.state == "planned")
            #expect(sameInstant(entry.startsAt, rfc3339(at(60))) && sameInstant(entry.endsAt, rfc3339(at(75))))
            #expect(entry.counterpartyId == acme && entry.counterpartyName == "Acme" && entry.contactId == event.contactId)
            #expect(entry.overdue == false)

            // Moved in time: the old slot is empty, the new one holds it.
            event = event.next { $0.startsAt = at(180); $0.endsAt = at(200); $0.subject = "Quality assessment (moved)" }
            try await h.apply(event)
            calendar = try await entries(h, olga, from: at(0), to: at(120))
            #expect(calendar.ids.isEmpty)
            calendar = try await entries(h, olga, from: at(120), to: at(240))
            #expect(calendar.ids == [event.id])
            #expect(calendar.entries.first?.subject == "Quality assessment (moved)")

            // Another responsible: it leaves Olga's calendar for Sergey's.
            event = event.next { $0.responsibleId = sergey }
            try await h.apply(event)
            #expect(try await entries(h, olga, from: day.0, to: day.1).ids.isEmpty)
            calendar = try await entries(h, sergey, from: day.0, to: day.1)
            #expect(calendar.ids == [event.id])
            #expect(calendar.timeZone == "Asia/Yekaterinburg")

            // Completed: still shown, with its state.
            event = event.next { $0.state = "completed" }
            try await h.apply(event)
            #expect(try await entries(h, sergey, from: day.0, to: day.1).entries.first?.state == "completed")

            // Reopened and cancelled: only with includeCancelled=true.
            event = event.next { $0.state = "cancelled" }
            try await h.apply(event)
            #expect(try await entries(h, sergey, from: day.0, to: day.1).ids.isEmpty)
            calendar = try await entries(h, sergey, from: day.0, to: day.1, includeCancelled: true)
            #expect(calendar.ids == [event.id])
            #expect(calendar.entries.first?.state == "cancelled")

            // Deleted: gone, with or without cancelled ones.
            event = event.next { $0.state = "planned"; $0.deleted = true }
            try await h.apply(event)
            #expect(try await entries(h, sergey, from: day.0, to: day.1, includeCancelled: true).ids.isEmpty)
        }
    }

    @Test func olderVersionsNeverOverwriteNewerOnes() async throws {
        try await CalendarHarness.run { h in
            let olga = try await h.seedEmployee(name: "Olga")
            let day = (at(0), at(24 * 60))
            let v1 = EventFixture(subject: "v1", responsible: olga, from: at(60), to: at(90))
            let v2 = v1.next { $0.subject = "v2"; $0.startsAt = at(120); $0.endsAt = at(150) }
            let v3 = v2.next { $0.subject = "v3"; $0.startsAt = at(180); $0.endsAt = at(210) }
            let v4 = v3.next { $0.content = "v4" }
            // Newest first, then older ones (a replay, a relay retry, a reordering), then a newer
            // one on the same key: by the time it is applied, the older ones were consumed.
            try await h.apply(v3)
            try await h.publish(v1)
            try await h.publish(v2)
            try await h.apply(v4)
            var calendar = try await entries(h, olga, from: day.0, to: day.1)
            #expect(calendar.entries.count == 1)
            #expect(calendar.entries.first?.subject == "v3")
            #expect(sameInstant(calendar.entries.first?.startsAt, rfc3339(at(180))))

            // A removed entry keeps its version: older snapshots do not bring it back.
            let v5 = v4.next { $0.deleted = true }
            try await h.apply(v5)
            try await h.publish(v3)
            try await h.publish(v4)
            try await h.apply(v5.next { $0.content = "v6" })
            calendar = try await entries(h, olga, from: day.0, to: day.1, includeCancelled: true)
            #expect(calendar.ids.isEmpty)

            // Only the applied versions were published: v3 and v4 upserted, v5 removed.
            let messages = try await settledTopic(h, "crm.calendar.v1", total: 3)
            #expect(messages.map(\.type) == ["crm.calendar-entry.upserted", "crm.calendar-entry.upserted", "crm.calendar-entry.removed"])
            #expect(messages.map(\.version) == [3, 4, 5])
        }
    }

    @Test func eventsWithoutStartEndOrResponsibleAreNotEntries() async throws {
        try await CalendarHarness.run { h in
            let olga = try await h.seedEmployee(name: "Olga")
            let day = (at(0), at(24 * 60))
            let noTimes = EventFixture(responsible: olga, from: nil, to: nil)
            let noEnd = EventFixture(responsible: olga, from: at(60), to: nil)
            let noStart = EventFixture(responsible: olga, from: nil, to: at(60))
            let nobody = EventFixture(responsible: nil, from: at(60), to: at(90))
            for event in [noTimes, noEnd, noStart, nobody] { try await h.apply(event) }
            #expect(try await entries(h, olga, from: day.0, to: day.1, includeCancelled: true).ids.isEmpty)

            // Getting its end makes it an entry; losing its responsible removes it again.
            let complete = noEnd.next { $0.endsAt = at(90) }
            try await h.apply(complete)
            #expect(try await entries(h, olga, from: day.0, to: day.1).ids == [noEnd.id])
            try await h.apply(complete.next { $0.responsibleId = nil })
            #expect(try await entries(h, olga, from: day.0, to: day.1).ids.isEmpty)
        }
    }

    @Test func rangesSelectOverlappingEntriesOrderedByStart() async throws {
        try await CalendarHarness.run { h in
            let olga = try await h.seedEmployee(name: "Olga")
            // The range is [10:00, 12:00) (times are minutes after 08:00).
            let before = EventFixture(subject: "ends at from", responsible: olga, from: at(60), to: at(120))
            let straddlesStart = EventFixture(subject: "straddles from", responsible: olga, from: at(90), to: at(150))
            let instantAtFrom = EventFixture(subject: "instant at from", responsible: olga, from: at(120), to: at(120))
            let inside = EventFixture(subject: "inside", responsible: olga, from: at(130), to: at(140))
            let around = EventFixture(subject: "around", responsible: olga, from: at(0), to: at(600))
            let straddlesEnd = EventFixture(subject: "straddles to", responsible: olga, from: at(230), to: at(300))
            let atTo = EventFixture(subject: "starts at to", responsible: olga, from: at(240), to: at(300))
            for event in [before, straddlesStart, instantAtFrom, inside, around, straddlesEnd, atTo] { try await h.apply(event) }
            let calendar = try await entries(h, olga, from: at(120), to: at(240))
            #expect(calendar.ids == [around.id, straddlesStart.id, instantAtFrom.id, inside.id, straddlesEnd.id])
        }
    }

    @Test func overdueIsComputedAtReadTime() async throws {
        try await CalendarHarness.run { h in
            let olga = try await h.seedEmployee(name: "Olga")
            let early = EventFixture(subject: "early", responsible: olga, from: at(10), to: at(20))
            let later = EventFixture(subject: "later", responsible: olga, from: at(30), to: at(40))
            let done = EventFixture(subject: "done", responsible: olga, from: at(5), to: at(15), state: "completed")
            let dropped = EventFixture(subject: "dropped", responsible: olga, from: at(5), to: at(15), state: "cancelled")
            for event in [later, early, done, dropped] { try await h.apply(event) }
            let range = (at(0), at(60))

            var calendar = try await entries(h, olga, from: range.0, to: range.1)
            #expect(calendar.entries.allSatisfy { $0.overdue == false })
            var overdue = CalendarView(try await h.request(.get, "/v1/calendars/\(olga)/overdue"))
            #expect(overdue.status == 200 && overdue.hasEntriesArray && overdue.entries.isEmpty, "\(overdue.text)")

            // 08:25: "early" ended at 08:20 and is still planned.
            h.clock.set(at(25))
            calendar = try await entries(h, olga, from: range.0, to: range.1)
            #expect(calendar.entry(early.id)?.overdue == true)
            #expect(calendar.entry(later.id)?.overdue == false)
            #expect(calendar.entry(done.id)?.overdue == false)
            // Exactly at its end an entry is not yet overdue.
            h.clock.set(at(40))
            overdue = CalendarView(try await h.request(.get, "/v1/calendars/\(olga)/overdue"))
            #expect(overdue.employeeId == olga)
            #expect(overdue.ids == [early.id])
            h.clock.set(at(41))
            overdue = CalendarView(try await h.request(.get, "/v1/calendars/\(olga)/overdue"))
            #expect(overdue.ids == [early.id, later.id])
            #expect(overdue.entries.allSatisfy { $0.overdue == true })
            // Completing it ends the overdue state.
            try await h.apply(early.next { $0.state = "completed" })
            overdue = CalendarView(try await h.request(.get, "/v1/calendars/\(olga)/overdue"))
            #expect(overdue.ids == [later.id])
        }
    }
}

@Suite("Calendar: republish")
struct CalendarRepublishTests {
    @Test("crm republish calendar puts every active entry on crm.calendar.v1 again, with its version")
    func republishEntries() async throws {
        try await CalendarHarness.run { h in
            let olga = try await h.seedEmployee(name: "Olga")
            let visit = EventFixture(responsible: olga, from: at(60), to: at(90))
            try await h.apply(visit)
            let gone = EventFixture(responsible: olga, from: at(120), to: at(150))
            try await h.apply(gone)
            try await h.apply(gone.next { $0.deleted = true })
            _ = try await settledTopic(h, "crm.calendar.v1", total: 3)
            let schema = try #require(h.pool.configuration.searchPath)
            let republished = try await Republishing.run(CalendarService.republisher(), pool: h.pool, outbox: Outbox(schema: schema))
            #expect(republished == 1, "only the active entry")
            let messages = try await settledTopic(h, "crm.calendar.v1", total: 4)
            let last = try #require(messages.last { $0.key == visit.id })
            #expect(last.type == "crm.calendar-entry.upserted")
            #expect(last.version == 1)
        }
    }

    @Test("a counterparty rename puts the entries showing its name on crm.calendar.v1 again")
    func renameRepublishes() async throws {
        try await CalendarHarness.run { h in
            let olga = try await h.seedEmployee(name: "Olga")
            let acme = try await h.seedCounterparty(name: "Acme")
            let visit = EventFixture(responsible: olga, from: at(60), to: at(90), counterpartyId: acme)
            try await h.apply(visit)
            _ = try await settledTopic(h, "crm.calendar.v1", total: 1)
            _ = try await h.seedCounterparty(id: acme, name: "Acme Renamed", version: 2)
            let messages = try await settledTopic(h, "crm.calendar.v1", total: 2)
            #expect(messages.map { $0.data["counterpartyName"] } == ["Acme", "Acme Renamed"])
        }
    }
}
