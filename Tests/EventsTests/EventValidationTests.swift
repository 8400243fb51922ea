import Foundation
import Testing
import TestSupport

@Suite("Events: validation (422 naming every bad field, 400 malformed JSON)")
struct EventValidationTests {
    @Test("subject is required and at most 250 characters")
    func subjectRules() async throws {
        try await Harness.run { h in
            expectProblem(
                try await h.request(.post, "/v1/events", json: #"{"channel":"phone-call","direction":"outgoing"}"#),
                status: 422, fields: ["subject"])
            expectProblem(try await h.request(.post, "/v1/events", json: eventJSON("")), status: 422, fields: ["subject"])
            expectProblem(
                try await h.request(.post, "/v1/events", json: eventJSON(String(repeating: "a", count: 251))),
                status: 422, fields: ["subject"])
            expectRejected(
                try await h.request(.post, "/v1/events", json: #"{"channel":"phone-call","direction":"outgoing","subject":42}"#),
                fields: ["subject"])

            let longest = try await createEvent(h, eventJSON(String(repeating: "a", count: 250)))
            #expect(longest.subject?.count == 250)
            // Characters, not bytes: 250 Cyrillic letters are 500 bytes of UTF-8.
            let cyrillic = String(repeating: "ж", count: 250)
            let russian = try await createEvent(h, eventJSON(cyrillic))
            #expect(russian.subject == cyrillic)
            expectProblem(
                try await h.request(.post, "/v1/events", json: eventJSON(cyrillic + "ж")), status: 422, fields: ["subject"])
            #expect(Set(try await listIds(h, "")) == [longest.id, russian.id], "refused requests created nothing")
        }
    }

    @Test("channel, direction and state must be one of their values; all three are named at once")
    func enumerations() async throws {
        try await Harness.run { h in
            let response = try await h.request(
                .post, "/v1/events", json: eventJSON("Call", ["channel": q("fax"), "direction": q("sideways"), "state": q("archived")]))
            let fields = expectProblem(response, status: 422, fields: ["channel", "direction", "state"])
            #expect(!fields.contains { fieldMentions($0, "subject") }, "subject was fine: \(fields)")
            expectProblem(
                try await h.request(.post, "/v1/events", json: eventJSON("Call", ["channel": q("Phone-Call")])),
                status: 422, fields: ["channel"])
            expectRejected(try await h.request(.post, "/v1/events", json: eventJSON("Call", ["direction": "1"])), fields: ["direction"])
            #expect(try await listIds(h, "").isEmpty)
        }
    }

    @Test("endsAt may not be before startsAt (equal is fine); a bad timestamp is refused")
    func timeRules() async throws {
        try await Harness.run { h in
            let backwards = try await h.request(.post, "/v1/events", json: eventJSON("Call", [
                "startsAt": q("2026-12-01T10:00:00+03:00"), "endsAt": q("2026-12-01T09:59:00+03:00"),
            ]))
            expectProblem(backwards, status: 422, fields: ["endsAt"])
            // 09:00Z is after 11:00+03:00 (08:00Z).
            _ = try await createEvent(h, eventJSON("Offsets compared as instants", [
                "startsAt": q("2026-12-01T11:00:00+03:00"), "endsAt": q("2026-12-01T09:00:00Z"),
            ]))
            let instant = try await createEvent(h, eventJSON("Instant", [
                "startsAt": q("2026-12-01T10:00:00+03:00"), "endsAt": q("2026-12-01T07:00:00Z"),
            ]))
            #expect(sameInstant(instant.startsAt, instant.endsAt))
            expectRejected(
                try await h.request(.post, "/v1/events", json: eventJSON("Call", ["startsAt": q("tomorrow at ten")])),
                fields: ["startsAt"])

            // PATCH is checked against the stored start.
            let event = try await createEvent(h, eventJSON("Call", ["startsAt": q("2026-12-01T10:00:00Z")]))
            expectProblem(
                try await h.request(.patch, "/v1/events/\(event.id)", json: #"{"endsAt":"2026-12-01T09:00:00Z"}"#),
                status: 422, fields: ["endsAt"])
            #expect(try await getEvent(h, event.id).version == 1)
        }
    }

    @Test("The contact must belong to the counterparty")
    func contactOfAnotherCounterparty() async throws {
        try await Harness.run { h in
            let w = try await seedWorld(h)
            let response = try await h.request(.post, "/v1/events", json: eventJSON("Call", [
                "counterpartyId": q(w.counterparty), "contactId": q(w.otherContact),
            ]))
            let fields = expectProblem(response, status: 422, fields: ["contactId"])
            #expect(!fields.contains { fieldMentions($0, "counterpartyId") }, "the counterparty itself is fine: \(fields)")

            // PATCH: moving the event to another counterparty without its contact.
            let event = try await createEvent(h, eventJSON("Call", ["counterpartyId": q(w.counterparty), "contactId": q(w.contact)]))
            expectProblem(
                try await h.request(.patch, "/v1/events/\(event.id)", json: #"{"counterpartyId":"\#(w.otherCounterparty)"}"#),
                status: 422, fields: ["contactId"])
            let moved = try await h.request(
                .patch, "/v1/events/\(event.id)",
                json: #"{"counterpartyId":"\#(w.otherCounterparty)","contactId":"\#(w.otherContact)"}"#)
            let after = try requireEvent(moved, status: 200)
            #expect(after.counterpartyId == w.otherCounterparty)
            #expect(after.contactId == w.otherContact)
        }
    }

    @Test("Unknown counterpartyId, contactId, dealId, projectId, responsibleId: 422 naming each")
    func unknownReferences() async throws {
        try await Harness.run { h in
            _ = try await seedWorld(h)
            let response = try await h.request(.post, "/v1/events", json: eventJSON("Call", [
                "counterpartyId": q(newId()), "contactId": q(newId()), "dealId": q(newId()), "projectId": q(newId()),
                "responsibleId": q(newId()),
            ]))
            expectProblem(response, status: 422, fields: ["counterpartyId", "contactId", "dealId", "projectId", "responsibleId"])
            for field in ["counterpartyId", "contactId", "dealId", "projectId", "responsibleId"] {
                let single = try await h.request(.post, "/v1/events", json: eventJSON("Call", [field: q(newId())]))
                expectProblem(single, status: 422, fields: [field])
            }
            expectRejected(
                try await h.request(.post, "/v1/events", json: eventJSON("Call", ["counterpartyId": q("not-a-uuid")])),
                fields: ["counterpartyId"])
            // An id of the wrong kind: an employee is not a counterparty.
            let employee = try await h.seedEmployee(name: "Nina")
            expectProblem(
                try await h.request(.post, "/v1/events", json: eventJSON("Call", ["counterpartyId": q(employee)])),
                status: 422, fields: ["counterpartyId"])
            #expect(try await listIds(h, "").isEmpty)
        }
    }

    @Test("Deleted counterparty, contact, deal, project and employee are refused like unknown ones")
    func deletedReferences() async throws {
        try await Harness.run { h in
            let counterparty = try await h.seedCounterparty(name: "Closed Ltd", deleted: true)
            let liveCounterparty = try await h.seedCounterparty(name: "Alive Ltd")
            let contact = try await h.seedContact(counterpartyId: liveCounterparty, name: "Gone", deleted: true)
            let deal = try await h.seedDeal(name: "Lost", counterpartyId: liveCounterparty, deleted: true)
            let project = try await h.seedProject(name: "Archived", deleted: true)
            let employee = try await h.seedEmployee(name: "Left the company", deleted: true)

            let response = try await h.request(.post, "/v1/events", json: eventJSON("Call", [
                "counterpartyId": q(counterparty), "dealId": q(deal), "projectId": q(project), "responsibleId": q(employee),
            ]))
            expectProblem(response, status: 422, fields: ["counterpartyId", "dealId", "projectId", "responsibleId"])
            let contactResponse = try await h.request(.post, "/v1/events", json: eventJSON("Call", [
                "counterpartyId": q(liveCounterparty), "contactId": q(contact),
            ]))
            expectProblem(contactResponse, status: 422, fields: ["contactId"])

            // A counterparty deleted after an event was created: the event keeps it, new events cannot use it.
            let later = try await h.seedCounterparty(name: "Soon gone")
            let event = try await createEvent(h, eventJSON("Call", ["counterpartyId": q(later)]))
            _ = try await h.seedCounterparty(id: later, name: "Soon gone", deleted: true, version: 2)
            expectProblem(
                try await h.request(.post, "/v1/events", json: eventJSON("Call", ["counterpartyId": q(later)])),
                status: 422, fields: ["counterpartyId"])
            #expect(try await getEvent(h, event.id).counterpartyId == later)
        }
    }

    @Test("Every bad field of one request is listed together")
    func everyBadFieldListed() async throws {
        try await Harness.run { h in
            let response = try await h.request(.post, "/v1/events", json: jsonText([
                "channel": q("pigeon"), "direction": q("outgoing"), "counterpartyId": q(newId()),
                "startsAt": q("2026-12-01T10:00:00Z"), "endsAt": q("2026-12-01T08:00:00Z"),
            ]))
            expectProblem(response, status: 422, fields: ["subject", "channel", "counterpartyId", "endsAt"])
        }
    }

    @Test("Malformed JSON is a 400 problem; so is a body that is not an object")
    func malformedJSON() async throws {
        try await Harness.run { h in
            expectProblem(try await h.request(.post, "/v1/events", json: #"{"subject": "Call", "#), status: 400)
            expectProblem(try await h.request(.post, "/v1/events", json: "not json at all"), status: 400)
            expectProblem(try await h.request(.post, "/v1/events", json: #"["subject"]"#), status: 400)
            let event = try await createEvent(h, eventJSON("Call"))
            expectProblem(try await h.request(.patch, "/v1/events/\(event.id)", json: #"{"subject": }"#), status: 400)
            expectProblem(try await postAction(h, event.id, "follow-ups", json: "{{"), status: 400)
            #expect(try await listIds(h, "") == [event.id])
        }
    }

    @Test("PATCH is validated like POST and changes nothing when refused")
    func patchValidation() async throws {
        try await Harness.run { h in
            let w = try await seedWorld(h)
            let event = try await createEvent(h, fullEventJSON(w))
            expectProblem(try await h.request(.patch, "/v1/events/\(event.id)", json: #"{"subject":""}"#), status: 422, fields: ["subject"])
            expectProblem(
                try await h.request(.patch, "/v1/events/\(event.id)", json: jsonText(["subject": q(String(repeating: "b", count: 251))])),
                status: 422, fields: ["subject"])
            expectProblem(
                try await h.request(.patch, "/v1/events/\(event.id)", json: #"{"channel":"fax","projectId":"\#(newId())"}"#),
                status: 422, fields: ["channel", "projectId"])
            expectProblem(
                try await h.request(.patch, "/v1/events/\(event.id)", json: #"{"responsibleId":"\#(newId())"}"#),
                status: 422, fields: ["responsibleId"])
            let after = try await getEvent(h, event.id)
            #expect(after.version == 1)
            #expect(after.subject == event.subject)
            #expect(after.channel == "phone-call")
            #expect(after.projectId == w.project)
            #expect(after.responsibleId == w.employee)
        }
    }

    @Test("A counterparty published after the event request: first 422, then 201 once the catalog message arrived")
    func referencePublishedLater() async throws {
        try await Harness.run { h in
            let counterparty = newId()
            let body = eventJSON("Welcome call", ["counterpartyId": q(counterparty)])
            let early = try await h.request(.post, "/v1/events", json: body)
            expectProblem(early, status: 422, fields: ["counterpartyId"])

            try await h.publishCounterparty(id: counterparty, name: "Newcomer Ltd", phones: ["+74957770000"])
            let late = try await postWhileRefused(h, "/v1/events", json: body, status: 422, timeout: .seconds(20))
            let event = try requireEvent(late, status: 201)
            #expect(event.counterpartyId == counterparty)
            #expect(try await listIds(h, "counterpartyId=\(counterparty)") == [event.id], "the 422s created nothing")
        }
    }
}
