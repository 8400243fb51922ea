import Foundation
import Testing
import TestSupport

@Suite("Events: create, read, update, delete")
struct EventCrudTests {
    @Test("POST /v1/events: 201 with every member of API.md, ETag \"1\", authorId = token sub; GET returns the same")
    func createAndRead() async throws {
        try await Harness.run { h in
            let world = try await seedWorld(h)
            let previous = try await createEvent(h, eventJSON("Earlier call"))
            let body = fullEventJSON(world, "Quality assessment", ["basis": basisJSON(previous.id)])
            let response = try await h.request(.post, "/v1/events", json: body)
            let event = try requireEvent(response, status: 201)

            #expect(response.etag == quotedVersion(1), "ETag: \(response.etag ?? "none")")
            #expect(response.contentType.hasPrefix("application/json"), "content-type: \(response.contentType)")
            let missing = eventMembers.filter { !event.members.contains($0) }
            #expect(missing.isEmpty, "members missing from the representation: \(missing) in \(event)")

            #expect(UUID(uuidString: event.id) != nil, "id is a UUID: \(event.id)")
            let number = try #require(event.number, "no number: \(event)")
            #expect(number.wholeMatch(of: /EV-[0-9]{6,}/) != nil, "number '\(number)' is not like EV-000123")
            #expect(event.channel == "phone-call")
            #expect(event.direction == "outgoing")
            #expect(event.state == "planned")
            #expect(event.subject == "Quality assessment")
            #expect(event.content == "Ask about the last delivery")
            #expect(event.counterpartyId == world.counterparty)
            #expect(event.contactId == world.contact)
            #expect(event.dealId == world.deal)
            #expect(event.projectId == world.project)
            #expect(event.responsibleId == world.employee)
            #expect(sameInstant(event.startsAt, "2026-12-01T07:00:00Z"), "startsAt \(event.startsAt ?? "-")")
            #expect(sameInstant(event.endsAt, "2026-12-01T07:15:00Z"), "endsAt \(event.endsAt ?? "-")")
            #expect(event.basisKind == "event")
            #expect(event.basisId == previous.id)
            #expect(event.authorId == Harness.defaultSubject(for: .admin))
            let created = try #require(parseRFC3339(event.createdAt), "createdAt: \(event.createdAt ?? "-")")
            #expect(abs(created.timeIntervalSinceNow) < 120, "createdAt is now: \(event.createdAt ?? "-")")
            #expect(parseRFC3339(event.updatedAt) != nil, "updatedAt: \(event.updatedAt ?? "-")")
            #expect(event.nullMembers.isSuperset(of: ["completedAt", "cancelledAt", "cancelReason", "call"]), "\(event)")
            #expect(event.source == "api")
            #expect(event.hasCall == false)
            #expect(event.deleted == false)
            #expect(event.version == 1)

            let read = try await h.request(.get, "/v1/events/\(event.id)")
            let again = try requireEvent(read, status: 200)
            #expect(read.etag == quotedVersion(1))
            #expect(again.id == event.id)
            #expect(again.number == event.number)
            #expect(again.subject == event.subject)
            #expect(again.counterpartyId == event.counterpartyId)
            #expect(again.contactId == event.contactId)
            #expect(again.basisId == previous.id)
            #expect(sameInstant(again.startsAt, event.startsAt))
            #expect(sameInstant(again.createdAt, event.createdAt))
            #expect(again.authorId == event.authorId)
            #expect(again.version == 1)
            let againMissing = eventMembers.filter { !again.members.contains($0) }
            #expect(againMissing.isEmpty, "GET lacks \(againMissing)")
        }
    }

    @Test("A minimal event: state defaults to planned, references and times are null, source api")
    func minimalEvent() async throws {
        try await Harness.run { h in
            let event = try await createEvent(h, #"{"channel":"email","direction":"incoming","subject":"Price list request"}"#)
            #expect(event.state == "planned")
            #expect(event.channel == "email")
            #expect(event.direction == "incoming")
            #expect(event.subject == "Price list request")
            #expect(event.content == nil)
            #expect(event.counterpartyId == nil)
            #expect(event.contactId == nil)
            #expect(event.dealId == nil)
            #expect(event.projectId == nil)
            #expect(event.responsibleId == nil)
            #expect(event.startsAt == nil)
            #expect(event.endsAt == nil)
            #expect(event.hasNoBasis)
            #expect(event.completedAt == nil)
            #expect(event.cancelledAt == nil)
            #expect(event.source == "api")
            #expect(event.hasCall == false)
            #expect(event.version == 1)
        }
    }

    @Test("Every channel and direction is accepted; an event may be recorded as already completed")
    func channelsAndDirections() async throws {
        try await Harness.run { h in
            for channel in ["phone-call", "email", "meeting", "message", "other"] {
                for direction in ["incoming", "outgoing", "internal"] {
                    let event = try await createEvent(
                        h, eventJSON("\(channel) \(direction)", ["channel": q(channel), "direction": q(direction)]))
                    #expect(event.channel == channel)
                    #expect(event.direction == direction)
                }
            }
            let done = try await createEvent(h, eventJSON("Met at the fair", ["channel": q("meeting"), "state": q("completed")]))
            #expect(done.state == "completed")
            let dropped = try await createEvent(h, eventJSON("Never happened", ["state": q("cancelled")]))
            #expect(dropped.state == "cancelled")
        }
    }

    @Test("Numbers are unique and human readable")
    func uniqueNumbers() async throws {
        try await Harness.run { h in
            let first = try await createEvent(h, eventJSON("One"))
            let second = try await createEvent(h, eventJSON("Two"))
            let third = try await createEvent(h, eventJSON("Three"))
            let numbers = [first.number, second.number, third.number].compactMap { $0 }
            #expect(numbers.count == 3)
            #expect(Set(numbers).count == 3, "numbers repeat: \(numbers)")
            #expect(numbers.allSatisfy { $0.wholeMatch(of: /EV-[0-9]{6,}/) != nil }, "\(numbers)")
        }
    }

    @Test("PATCH with If-Match: version 2 and ETag \"2\"; a stale If-Match is 412 and changes nothing; absent keys stay")
    func patchWithIfMatch() async throws {
        try await Harness.run { h in
            let world = try await seedWorld(h)
            let event = try await createEvent(h, fullEventJSON(world))

            let patched = try await h.request(
                .patch, "/v1/events/\(event.id)",
                json: #"{"subject":"Quality assessment, second round","responsibleId":"\#(world.otherEmployee)","endsAt":"2026-12-01T10:30:00+03:00"}"#,
                headers: ["If-Match": quotedVersion(1)])
            let v2 = try requireEvent(patched, status: 200)
            #expect(patched.etag == quotedVersion(2), "ETag: \(patched.etag ?? "none")")
            #expect(v2.version == 2)
            #expect(v2.subject == "Quality assessment, second round")
            #expect(v2.responsibleId == world.otherEmployee)
            #expect(sameInstant(v2.endsAt, "2026-12-01T07:30:00Z"))
            // Untouched members stay.
            #expect(v2.content == "Ask about the last delivery")
            #expect(v2.counterpartyId == world.counterparty)
            #expect(v2.contactId == world.contact)
            #expect(v2.projectId == world.project)
            #expect(sameInstant(v2.startsAt, "2026-12-01T07:00:00Z"))
            #expect(v2.number == event.number)
            #expect(v2.authorId == event.authorId)
            #expect(sameInstant(v2.createdAt, event.createdAt))
            let updated = try #require(parseRFC3339(v2.updatedAt))
            let created = try #require(parseRFC3339(event.createdAt))
            #expect(updated >= created)

            let stale = try await h.request(
                .patch, "/v1/events/\(event.id)", json: #"{"subject":"Lost update"}"#, headers: ["If-Match": quotedVersion(1)])
            expectProblem(stale, status: 412)
            let afterStale = try await getEvent(h, event.id)
            #expect(afterStale.version == 2)
            #expect(afterStale.subject == "Quality assessment, second round")

            // If-Match is optional; null clears an optional member.
            let unconditional = try await h.request(.patch, "/v1/events/\(event.id)", json: #"{"content":null}"#)
            let v3 = try requireEvent(unconditional, status: 200)
            #expect(v3.version == 3)
            #expect(unconditional.etag == quotedVersion(3))
            #expect(v3.content == nil)
            #expect(v3.subject == "Quality assessment, second round")
        }
    }

    @Test("DELETE marks deleted: still readable by id, gone from lists, shown with includeDeleted=true")
    func deleteMarksDeleted() async throws {
        try await Harness.run { h in
            let world = try await seedWorld(h)
            let kept = try await createEvent(h, fullEventJSON(world, "Kept"))
            let gone = try await createEvent(h, fullEventJSON(world, "Gone"))

            let deletion = try await h.request(.delete, "/v1/events/\(gone.id)")
            expectDeleted(deletion)

            let read = try await h.request(.get, "/v1/events/\(gone.id)")
            let deleted = try requireEvent(read, status: 200)
            #expect(deleted.deleted == true)
            #expect(deleted.version == 2)
            #expect(read.etag == quotedVersion(2))
            #expect(deleted.subject == "Gone")

            let all = try await listIds(h, "")
            #expect(all == [kept.id])
            let history = try await listIds(h, "counterpartyId=\(world.counterparty)")
            #expect(history == [kept.id])
            let withDeleted = try await listIds(h, "includeDeleted=true")
            #expect(Set(withDeleted) == [kept.id, gone.id])
        }
    }

    @Test("Idempotency-Key: a repeat returns the first response and creates nothing")
    func idempotentCreate() async throws {
        try await Harness.run { h in
            let key = newId()
            let first = try await h.request(.post, "/v1/events", json: eventJSON("Once"), headers: ["Idempotency-Key": key])
            let created = try requireEvent(first, status: 201)
            let repeated = try await h.request(.post, "/v1/events", json: eventJSON("Once"), headers: ["Idempotency-Key": key])
            let again = try requireEvent(repeated, status: 201)
            #expect(again.id == created.id)
            #expect(again.number == created.number)
            #expect(again.version == 1)

            let ids = try await listIds(h, "")
            #expect(ids == [created.id], "one event after two requests with one key: \(ids)")

            let other = try await h.request(.post, "/v1/events", json: eventJSON("Once"), headers: ["Idempotency-Key": newId()])
            let second = try requireEvent(other, status: 201)
            #expect(second.id != created.id)
            let both = try await listIds(h, "")
            #expect(Set(both) == [created.id, second.id])
        }
    }

    @Test("Unknown event ids are 404 problems on every route")
    func unknownIds() async throws {
        try await Harness.run { h in
            let id = newId()
            expectProblem(try await h.request(.get, "/v1/events/\(id)"), status: 404)
            expectProblem(try await h.request(.patch, "/v1/events/\(id)", json: #"{"subject":"x"}"#), status: 404)
            expectProblem(try await h.request(.delete, "/v1/events/\(id)"), status: 404)
            expectProblem(try await postAction(h, id, "complete"), status: 404)
            expectProblem(try await postAction(h, id, "cancel", json: cancelJSON("no")), status: 404)
            expectProblem(try await postAction(h, id, "reopen"), status: 404)
            expectProblem(try await postAction(h, id, "follow-ups", json: eventJSON("Next")), status: 404)
        }
    }
}
