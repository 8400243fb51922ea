import Foundation
import Kafka
import Testing
import TestSupport

@Suite struct AuthorizationTests {
    @Test func managersReadOnlyTheirOwnCalendarAdminsAndViewersAny() async throws {
        try await CalendarHarness.run { h in
            let olga = try await h.seedEmployee(name: "Olga")
            let sergey = try await h.seedEmployee(name: "Sergey")
            try await h.apply(EventFixture(responsible: sergey, from: at(60), to: at(90)))
            let range = queryRange(at(0), at(600))
            let reads = [
                "/v1/calendars/\(sergey)/entries?\(range)", "/v1/calendars/\(sergey)/overdue",
                "/v1/calendars/\(sergey)/conflicts?\(range)", "/v1/calendars/\(sergey)/free-busy?\(range)",
                "/v1/calendars/\(sergey)/reminders?\(range)",
            ]
            for path in reads {
                // Olga, a manager, reads Sergey's calendar: 403.
                expectProblem(try await h.request(.get, path, role: .manager, subject: olga), status: 403)
                // Sergey reads his own (the subject is compared without regard to case).
                expectStatus(try await h.request(.get, path, role: .manager, subject: sergey.uppercased()), 200)
                expectStatus(try await h.request(.get, path, role: .admin), 200)
                expectStatus(try await h.request(.get, path, role: .viewer), 200)
                expectProblem(try await h.request(.get, path, role: .integration), status: 403)
                expectProblem(try await h.request(.get, path, role: nil), status: 401)
            }
            // Feed tokens: the manager for their own calendar, admins for any; viewers only read.
            let tokenPath = "/v1/calendars/\(sergey)/feed-token"
            expectProblem(try await h.request(.post, tokenPath, role: .manager, subject: olga), status: 403)
            expectProblem(try await h.request(.post, tokenPath, role: .viewer), status: 403)
            expectProblem(try await h.request(.post, tokenPath, role: .integration), status: 403)
            expectProblem(try await h.request(.delete, tokenPath, role: .manager, subject: olga), status: 403)
            expectStatus(try await h.request(.post, tokenPath, role: .manager, subject: sergey), 201)
            expectStatus(try await h.request(.post, tokenPath, role: .admin), 201)
            expectStatus(try await h.request(.delete, tokenPath, role: .manager, subject: sergey), 204)
        }
    }
}

@Suite struct InputTests {
    @Test func badRangesAndIdsAreRejectedNamingEveryField() async throws {
        try await CalendarHarness.run { h in
            let olga = try await h.seedEmployee(name: "Olga")
            let base = "/v1/calendars/\(olga)"
            for endpoint in ["entries", "conflicts", "free-busy", "reminders"] {
                expectProblem(try await h.request(.get, "\(base)/\(endpoint)"), status: 422, fields: ["from", "to"])
                expectProblem(
                    try await h.request(.get, "\(base)/\(endpoint)?from=yesterday&to=2030-03-05T00:00:00Z"), status: 422,
                    fields: ["from"])
                expectProblem(
                    try await h.request(.get, "\(base)/\(endpoint)?from=2030-03-05T00:00:00&to=2030-03-06T00:00:00Z"), status: 422,
                    fields: ["from"])
                expectProblem(
                    try await h.request(.get, "\(base)/\(endpoint)?from=2030-03-05T00:00:00Z&to=2030-02-30T00:00:00Z"), status: 422,
                    fields: ["to"])
                // to must be later than from; a range spans at most 366 days.
                expectProblem(
                    try await h.request(.get, "\(base)/\(endpoint)?\(queryRange(at(60), at(60)))"), status: 422, fields: ["to"])
                expectProblem(
                    try await h.request(.get, "\(base)/\(endpoint)?\(queryRange(at(60), at(0)))"), status: 422, fields: ["to"])
                expectProblem(
                    try await h.request(.get, "\(base)/\(endpoint)?\(queryRange(at(0), at(367 * 24 * 60)))"), status: 422,
                    fields: ["to"])
            }
            expectProblem(
                try await h.request(.get, "\(base)/entries?includeCancelled=maybe&from=x"), status: 422,
                fields: ["includeCancelled", "from", "to"])
            // An unencoded '+' offset arrives as a space and is still understood.
            expectStatus(try await h.request(.get, "\(base)/entries?from=2030-03-05T10:00:00+03:00&to=2030-03-06T10:00:00+03:00"), 200)

            // Malformed and unknown employee ids: 404.
            let range = queryRange(at(0), at(60))
            expectProblem(try await h.request(.get, "/v1/calendars/not-a-uuid/entries?\(range)"), status: 404)
            expectProblem(try await h.request(.get, "/v1/calendars/\(newId())/entries?\(range)"), status: 404)
            expectProblem(try await h.request(.get, "/v1/calendars/\(newId())/overdue"), status: 404)
            expectProblem(try await h.request(.post, "/v1/calendars/not-a-uuid/feed-token"), status: 404)
            expectProblem(try await h.request(.post, "/v1/calendars/\(newId())/feed-token"), status: 404)
            expectProblem(try await h.request(.get, "/v1/calendars/not-a-uuid/feed.ics?token=abc", role: nil), status: 404)
        }
    }

    @Test func poisonMessagesGoToTheDeadLetterTopicAndThePartitionMovesOn() async throws {
        try await CalendarHarness.run { h in
            let olga = try await h.seedEmployee(name: "Olga")
            let key = newId()
            try await h.driver.publish(topic: "crm.events.v1", key: key, value: "{not json")
            var backwards = EventFixture(id: key, responsible: olga, from: at(90), to: at(60))
            backwards.version = 1
            try await h.driver.publish(topic: "crm.events.v1", key: key, value: backwards.cloudEvent)
            // The same key (same partition) afterwards: applied.
            let good = EventFixture(id: key, responsible: olga, from: at(60), to: at(90), version: 2)
            try await h.apply(good)
            #expect(try await entries(h, olga, from: at(0), to: at(120)).ids == [key])

            let dead = try await h.driver.settledMessages(on: "crm.dlq.v1", total: 2)
            for message in dead {
                #expect(message.keyString == key)
                #expect(message.header("crm_dlq_topic")?.stringValue == "crm.events.v1")
                #expect(message.header("crm_dlq_consumer")?.stringValue == "crm-calendar.projection")
                #expect(message.header("crm_dlq_error")?.stringValue?.isEmpty == false)
                #expect(message.header("crm_dlq_offset") != nil && message.header("crm_dlq_partition") != nil)
            }
        }
    }
}

@Suite struct CalendarTopicTests {
    @Test func entryChangesArePublishedKeyedByEventId() async throws {
        try await CalendarHarness.run { h in
            let olga = try await h.seedEmployee(name: "Olga")
            let sergey = try await h.seedEmployee(name: "Sergey")
            let acme = try await h.seedCounterparty(name: "Acme")
            let event = EventFixture(subject: "Visit", responsible: olga, from: at(60), to: at(120), counterpartyId: acme)
            let noTimes = EventFixture(subject: "No times", responsible: olga, from: nil, to: nil)
            try await h.apply(noTimes)
            try await h.apply(event)
            let reassigned = event.next { $0.responsibleId = sergey }
            try await h.apply(reassigned)
            try await h.apply(reassigned.next { $0.deleted = true })

            let messages = try await settledTopic(h, "crm.calendar.v1", total: 3)
            #expect(messages.allSatisfy { $0.key == event.id && $0.subject == event.id && $0.ceId == $0.id })
            #expect(Set(messages.map(\.partition)).count == 1)
            #expect(messages.map(\.type) == ["crm.calendar-entry.upserted", "crm.calendar-entry.upserted", "crm.calendar-entry.removed"])
            #expect(messages.map(\.ceType) == messages.map(\.type))
            #expect(messages.map(\.version) == [1, 2, 3])
            #expect(messages.map { $0.data["employeeId"] } == [olga, sergey, sergey])
            #expect(messages.map { $0.dataBools["removed"] } == [false, false, true])
            #expect(messages.first?.data["counterpartyName"] == "Acme")
            #expect(sameInstant(messages.first?.data["startsAt"], rfc3339(at(60))))
        }
    }
}
