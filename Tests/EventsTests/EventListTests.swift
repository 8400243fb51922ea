import Foundation
import Testing
import TestSupport

@Suite("Events: the interaction history (GET /v1/events)")
struct EventListTests {
    @Test("An empty list is {items: [], nextCursor: null}; items are full events, newest first by startsAt, createdAt when unset")
    func newestFirst() async throws {
        try await Harness.run { h in
            let empty = try await listEvents(h)
            #expect(empty.items.isEmpty)
            #expect(empty.nextCursor == nil)

            let january = try await createEvent(h, eventJSON("January", ["startsAt": q("2020-01-10T09:00:00Z")]))
            let march = try await createEvent(h, eventJSON("March", ["startsAt": q("2020-03-05T09:00:00+03:00")]))
            let february = try await createEvent(h, eventJSON("February", ["startsAt": q("2020-02-01T09:00:00Z")]))
            let undated = try await createEvent(h, eventJSON("Undated, older"))
            try await Task.sleep(for: .milliseconds(20))
            let newest = try await createEvent(h, eventJSON("Undated, newer"))

            let page = try await listEvents(h)
            #expect(page.ids == [newest.id, undated.id, march.id, february.id, january.id], "\(page.items.map { $0.subject ?? "-" })")
            #expect(page.nextCursor == nil)
            let first = try #require(page.items.first)
            let missing = eventMembers.filter { !first.members.contains($0) }
            #expect(missing.isEmpty, "list items lack \(missing)")
            #expect(first.number == newest.number)
            #expect(first.version == 1)
        }
    }

    @Test("History of one counterparty, of one contact; dealId, projectId, responsibleId filters and their combination")
    func referenceFilters() async throws {
        try await Harness.run { h in
            let w = try await seedWorld(h)
            let e1 = try await createEvent(h, eventJSON("e1", [
                "counterpartyId": q(w.counterparty), "contactId": q(w.contact), "dealId": q(w.deal),
                "projectId": q(w.project), "responsibleId": q(w.employee), "startsAt": q("2020-01-01T10:00:00Z"),
            ]))
            let e2 = try await createEvent(h, eventJSON("e2", [
                "counterpartyId": q(w.counterparty), "projectId": q(w.otherProject), "responsibleId": q(w.otherEmployee),
                "startsAt": q("2020-01-02T10:00:00Z"),
            ]))
            let e3 = try await createEvent(h, eventJSON("e3", [
                "counterpartyId": q(w.otherCounterparty), "contactId": q(w.otherContact), "dealId": q(w.otherDeal),
                "projectId": q(w.project), "responsibleId": q(w.employee), "startsAt": q("2020-01-03T10:00:00Z"),
            ]))
            let e4 = try await createEvent(h, eventJSON("e4", [
                "counterpartyId": q(w.counterparty), "contactId": q(w.contact), "responsibleId": q(w.otherEmployee),
                "startsAt": q("2020-01-04T10:00:00Z"),
            ]))

            #expect(try await listIds(h, "counterpartyId=\(w.counterparty)") == [e4.id, e2.id, e1.id])
            #expect(try await listIds(h, "counterpartyId=\(w.otherCounterparty)") == [e3.id])
            #expect(try await listIds(h, "contactId=\(w.contact)") == [e4.id, e1.id])
            #expect(try await listIds(h, "contactId=\(w.otherContact)") == [e3.id])
            #expect(try await listIds(h, "dealId=\(w.deal)") == [e1.id])
            #expect(try await listIds(h, "dealId=\(w.otherDeal)") == [e3.id])
            #expect(try await listIds(h, "projectId=\(w.project)") == [e3.id, e1.id])
            #expect(try await listIds(h, "projectId=\(w.otherProject)") == [e2.id])
            #expect(try await listIds(h, "responsibleId=\(w.employee)") == [e3.id, e1.id])
            #expect(try await listIds(h, "responsibleId=\(w.otherEmployee)") == [e4.id, e2.id])
            #expect(try await listIds(h, "counterpartyId=\(w.counterparty)&responsibleId=\(w.otherEmployee)") == [e4.id, e2.id])
            #expect(try await listIds(h, "counterpartyId=\(w.counterparty)&projectId=\(w.project)") == [e1.id])
            #expect(try await listIds(h, "counterpartyId=\(newId())").isEmpty)
            #expect(try await listIds(h, "") == [e4.id, e3.id, e2.id, e1.id])
        }
    }

    @Test("state, channel and direction filters, alone and combined")
    func stateChannelDirectionFilters() async throws {
        try await Harness.run { h in
            let call = try await createEvent(h, eventJSON("Call", [
                "channel": q("phone-call"), "direction": q("outgoing"), "startsAt": q("2020-05-01T10:00:00Z"),
            ]))
            let mail = try await createEvent(h, eventJSON("Mail", [
                "channel": q("email"), "direction": q("incoming"), "startsAt": q("2020-05-02T10:00:00Z"),
            ]))
            expectStatus(try await postAction(h, mail.id, "complete"), 200)
            let meeting = try await createEvent(h, eventJSON("Meeting", [
                "channel": q("meeting"), "direction": q("internal"), "startsAt": q("2020-05-03T10:00:00Z"),
            ]))
            expectStatus(try await postAction(h, meeting.id, "cancel", json: cancelJSON("Room unavailable")), 200)
            let message = try await createEvent(h, eventJSON("Message", [
                "channel": q("message"), "direction": q("outgoing"), "startsAt": q("2020-05-04T10:00:00Z"),
            ]))
            let other = try await createEvent(h, eventJSON("Other", [
                "channel": q("other"), "direction": q("internal"), "startsAt": q("2020-05-05T10:00:00Z"),
            ]))

            #expect(try await listIds(h, "state=planned") == [other.id, message.id, call.id])
            #expect(try await listIds(h, "state=completed") == [mail.id])
            #expect(try await listIds(h, "state=cancelled") == [meeting.id])
            #expect(try await listIds(h, "channel=phone-call") == [call.id])
            #expect(try await listIds(h, "channel=email") == [mail.id])
            #expect(try await listIds(h, "channel=meeting") == [meeting.id])
            #expect(try await listIds(h, "channel=message") == [message.id])
            #expect(try await listIds(h, "channel=other") == [other.id])
            #expect(try await listIds(h, "direction=outgoing") == [message.id, call.id])
            #expect(try await listIds(h, "direction=incoming") == [mail.id])
            #expect(try await listIds(h, "direction=internal") == [other.id, meeting.id])
            #expect(try await listIds(h, "state=planned&direction=internal") == [other.id])
            #expect(try await listIds(h, "state=planned&channel=message&direction=outgoing") == [message.id])
            #expect(try await listIds(h, "state=completed&channel=phone-call").isEmpty)
        }
    }

    @Test("from and to bound startsAt (createdAt when unset), offsets honoured")
    func timeRange() async throws {
        try await Harness.run { h in
            let january = try await createEvent(h, eventJSON("January", ["startsAt": q("2020-01-15T10:00:00Z")]))
            let february = try await createEvent(h, eventJSON("February", ["startsAt": q("2020-02-15T10:00:00Z")]))
            let march = try await createEvent(h, eventJSON("March", ["startsAt": q("2020-03-15T10:00:00Z")]))
            let undated = try await createEvent(h, eventJSON("Undated"))

            let feb1 = queryEscape("2020-02-01T00:00:00Z")
            let mar1 = queryEscape("2020-03-01T00:00:00Z")
            #expect(try await listIds(h, "from=\(feb1)") == [undated.id, march.id, february.id])
            #expect(try await listIds(h, "to=\(mar1)") == [february.id, january.id])
            #expect(try await listIds(h, "from=\(feb1)&to=\(mar1)") == [february.id])
            #expect(try await listIds(h, "to=\(queryEscape("2020-01-01T00:00:00Z"))").isEmpty)

            // Only the undated event counts as "this hour": its createdAt.
            let hourAgo = queryEscape(rfc3339(Date().addingTimeInterval(-3600)))
            #expect(try await listIds(h, "from=\(hourAgo)") == [undated.id])

            // 12:00+03:00 is 09:00Z, before February's 10:00Z; 14:00+03:00 is 11:00Z, after it.
            let before = queryEscape("2020-02-15T12:00:00+03:00")
            let after = queryEscape("2020-02-15T14:00:00+03:00")
            #expect(try await listIds(h, "from=\(before)&to=\(mar1)") == [february.id])
            #expect(try await listIds(h, "from=\(after)&to=\(mar1)").isEmpty)
        }
    }

    @Test("q searches subject and content, case-insensitively, and combines with filters")
    func textSearch() async throws {
        try await Harness.run { h in
            let w = try await seedWorld(h)
            let assessment = try await createEvent(h, eventJSON("Quality assessment", [
                "content": q("Ask about the last delivery"), "counterpartyId": q(w.counterparty),
                "startsAt": q("2020-06-01T10:00:00Z"),
            ]))
            let invoice = try await createEvent(h, eventJSON("Invoice", [
                "content": q("Client complained about the QUALITY of packaging"), "counterpartyId": q(w.otherCounterparty),
                "startsAt": q("2020-06-02T10:00:00Z"),
            ]))
            let delivery = try await createEvent(h, eventJSON("Delivery date", ["startsAt": q("2020-06-03T10:00:00Z")]))

            #expect(try await listIds(h, "q=quality") == [invoice.id, assessment.id])
            #expect(try await listIds(h, "q=DELIVERY") == [delivery.id, assessment.id])
            #expect(try await listIds(h, "q=Packag") == [invoice.id])
            #expect(try await listIds(h, "q=\(queryEscape("assessment"))") == [assessment.id])
            #expect(try await listIds(h, "q=\(queryEscape("last delivery"))") == [assessment.id])
            #expect(try await listIds(h, "q=nothing-like-this").isEmpty)
            #expect(try await listIds(h, "q=quality&counterpartyId=\(w.counterparty)") == [assessment.id])
        }
    }

    @Test("limit and cursor page through every event exactly once, in the list's order, filters kept")
    func cursorPagination() async throws {
        try await Harness.run { h in
            let w = try await seedWorld(h)
            for day in 1...7 {
                _ = try await createEvent(h, eventJSON("Call \(day)", [
                    "counterpartyId": q(w.counterparty), "startsAt": q("2020-07-0\(day)T10:00:00Z"),
                ]))
            }
            _ = try await createEvent(h, eventJSON("Elsewhere", ["counterpartyId": q(w.otherCounterparty)]))

            let full = try await listIds(h, "counterpartyId=\(w.counterparty)&limit=500")
            #expect(full.count == 7)
            let pages = try await allPages(h, "counterpartyId=\(w.counterparty)", limit: 3)
            #expect(pages.map(\.count) == [3, 3, 1])
            #expect(pages.flatMap { $0 } == full, "pages join into the full list")

            let everything = try await allPages(h, "", limit: 2)
            // An exact multiple of the limit may end with an empty page.
            #expect(everything.map(\.count).filter { $0 > 0 } == [2, 2, 2, 2])
            #expect(Set(everything.flatMap { $0 }).count == 8)
        }
    }

    @Test("limit defaults to 50 and may be up to 500; a bad limit is 422")
    func defaultAndBadLimits() async throws {
        try await Harness.run { h in
            for index in 1...52 {
                _ = try await createEvent(h, eventJSON("Event \(index)"))
            }
            let first = try await listEvents(h)
            #expect(first.items.count == 50)
            let cursor = try #require(first.nextCursor, "a next page: \(first.text.suffix(200))")
            let second = try await listEvents(h, "cursor=\(queryEscape(cursor))")
            #expect(second.items.count == 2)
            #expect(second.nextCursor == nil)
            #expect(Set(first.ids).isDisjoint(with: Set(second.ids)))
            let all = try await listEvents(h, "limit=500")
            #expect(all.items.count == 52)
            #expect(all.nextCursor == nil)

            for limit in ["0", "501", "-1", "ten"] {
                expectProblem(try await h.request(.get, "/v1/events?limit=\(limit)"), status: 422, fields: ["limit"])
            }
        }
    }
}
