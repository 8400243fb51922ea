import Foundation
import Testing
import TestSupport

/// Conflicts and free-busy on a hand-built calendar (minutes after 08:00):
///
///     A  planned    09:00–10:00
///     H  planned    09:40–10:10   overlaps A and B
///     E  completed  09:30–09:45   inside A, but completed: busy, never a conflict
///     B  planned    10:00–11:00   touches A
///     C  planned    10:30–10:45   nested in B
///     D  planned    13:00–14:00   disjoint
///     F  cancelled  13:10–13:30   ignored
///     (Sergey has a planned 09:00–10:00 of his own.)
@Suite struct ConflictsAndFreeBusyTests {
    struct Calendar: Sendable {
        let olga: String
        let a, h, e, b, c, d, f: EventFixture
    }

    static func build(_ harness: CalendarHarness) async throws -> Calendar {
        let olga = try await harness.seedEmployee(name: "Olga")
        let sergey = try await harness.seedEmployee(name: "Sergey")
        let calendar = Calendar(
            olga: olga,
            a: EventFixture(subject: "A", responsible: olga, from: at(60), to: at(120)),
            h: EventFixture(subject: "H", responsible: olga, from: at(100), to: at(130)),
            e: EventFixture(subject: "E", responsible: olga, from: at(90), to: at(105), state: "completed"),
            b: EventFixture(subject: "B", responsible: olga, from: at(120), to: at(180)),
            c: EventFixture(subject: "C", responsible: olga, from: at(150), to: at(165)),
            d: EventFixture(subject: "D", responsible: olga, from: at(300), to: at(360)),
            f: EventFixture(subject: "F", responsible: olga, from: at(310), to: at(330), state: "cancelled"))
        for event in [calendar.a, calendar.h, calendar.e, calendar.b, calendar.c, calendar.d, calendar.f] {
            try await harness.publish(event)
        }
        try await harness.apply(EventFixture(subject: "Sergey's", responsible: sergey, from: at(60), to: at(120)))
        for event in [calendar.a, calendar.h, calendar.e, calendar.b, calendar.c, calendar.d, calendar.f] {
            try await harness.waitFor("entries", id: event.id, version: 1, key: "event_id")
        }
        return calendar
    }

    @Test func eachOverlappingPlannedPairOnceTouchingIsNoConflict() async throws {
        try await CalendarHarness.run { h in
            let cal = try await Self.build(h)
            var view = ConflictsView(try await h.request(.get, "/v1/calendars/\(cal.olga)/conflicts?\(queryRange(at(0), at(480)))"))
            #expect(view.status == 200, "\(view.text)")
            #expect(view.employeeId == cal.olga)
            #expect(view.conflicts.map(\.eventIds) == [[cal.a.id, cal.h.id], [cal.h.id, cal.b.id], [cal.b.id, cal.c.id]])
            let overlaps = view.conflicts.map { [$0.from, $0.to] }
            let expected = [[at(100), at(120)], [at(120), at(130)], [at(150), at(165)]].map { $0.map(rfc3339) }
            #expect(overlaps.count == expected.count)
            for (got, want) in zip(overlaps, expected) {
                #expect(sameInstant(got[0], want[0]) && sameInstant(got[1], want[1]), "\(got) vs \(want)")
            }

            // Only pairs whose entries overlap the range: 10:20–12:00 sees B and C.
            view = ConflictsView(try await h.request(.get, "/v1/calendars/\(cal.olga)/conflicts?\(queryRange(at(140), at(240)))"))
            #expect(view.conflicts.map(\.eventIds) == [[cal.b.id, cal.c.id]])

            // Disjoint and touching entries only: none.
            view = ConflictsView(try await h.request(.get, "/v1/calendars/\(cal.olga)/conflicts?\(queryRange(at(240), at(480)))"))
            #expect(view.status == 200 && view.conflicts.isEmpty, "\(view.text)")
        }
    }

    @Test func freeBusyMergesPlannedAndCompletedClippedToTheRange() async throws {
        try await CalendarHarness.run { h in
            let cal = try await Self.build(h)
            // 09:15–13:30: A, E, H, B and C merge into 09:15–11:00; D is clipped to 13:00–13:30;
            // the cancelled F adds nothing.
            let view = BusyView(try await h.request(.get, "/v1/calendars/\(cal.olga)/free-busy?\(queryRange(at(75), at(330)))"))
            #expect(view.status == 200, "\(view.text)")
            #expect(view.employeeId == cal.olga)
            let expected = [(at(75), at(180)), (at(300), at(330))]
            #expect(view.busy.count == expected.count, "\(view.text)")
            for (got, want) in zip(view.busy, expected) {
                #expect(sameInstant(got.0, rfc3339(want.0)) && sameInstant(got.1, rfc3339(want.1)), "\(got) vs \(want)")
            }

            // A free range: nothing busy.
            let free = BusyView(try await h.request(.get, "/v1/calendars/\(cal.olga)/free-busy?\(queryRange(at(200), at(290)))"))
            #expect(free.status == 200 && free.busy.isEmpty, "\(free.text)")
        }
    }
}
