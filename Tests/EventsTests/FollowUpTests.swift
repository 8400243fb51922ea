import Foundation
import Testing
import TestSupport

@Suite("Events: follow-ups (POST /v1/events/{id}/follow-ups)")
struct FollowUpTests {
    @Test("A follow-up is a new planned event based on the original, with its counterparty, contact, deal, project and responsible")
    func copiesReferences() async throws {
        try await Harness.run { h in
            let w = try await seedWorld(h)
            let original = try await createEvent(h, fullEventJSON(w, "Quality assessment"))
            expectStatus(try await postAction(h, original.id, "complete"), 200)

            let response = try await postAction(
                h, original.id, "follow-ups", role: .manager,
                json: #"{"channel":"email","direction":"outgoing","subject":"Send the survey results","startsAt":"2026-12-02T10:00:00+03:00"}"#)
            let followUp = try requireEvent(response, status: 201)
            #expect(response.etag == quotedVersion(1))
            #expect(followUp.id != original.id)
            #expect(followUp.number != nil && followUp.number != original.number)
            #expect(followUp.basisKind == "event")
            #expect(followUp.basisId == original.id)
            #expect(followUp.counterpartyId == w.counterparty)
            #expect(followUp.contactId == w.contact)
            #expect(followUp.dealId == w.deal)
            #expect(followUp.projectId == w.project)
            #expect(followUp.responsibleId == w.employee)
            #expect(followUp.state == "planned")
            #expect(followUp.channel == "email")
            #expect(followUp.subject == "Send the survey results")
            #expect(sameInstant(followUp.startsAt, "2026-12-02T07:00:00Z"))
            #expect(followUp.authorId == Harness.defaultSubject(for: .manager))
            #expect(followUp.source == "api")
            #expect(followUp.version == 1)

            let read = try await getEvent(h, followUp.id)
            #expect(read.basisId == original.id)
            let originalAfter = try await getEvent(h, original.id)
            #expect(originalAfter.state == "completed", "the original is untouched")
            #expect(originalAfter.version == 2)
            #expect(Set(try await listIds(h, "counterpartyId=\(w.counterparty)")) == [original.id, followUp.id])
        }
    }

    @Test("Body members override what is copied")
    func overrides() async throws {
        try await Harness.run { h in
            let w = try await seedWorld(h)
            let original = try await createEvent(h, fullEventJSON(w))
            let pavelsColleague = try await h.seedContact(counterpartyId: w.counterparty, name: "Irina", phones: [])
            let otherDeal = try await h.seedDeal(name: "Second supply", counterpartyId: w.counterparty)
            let body = jsonText([
                "channel": q("meeting"), "direction": q("outgoing"), "subject": q("Visit"),
                "contactId": q(pavelsColleague), "dealId": q(otherDeal), "projectId": q(w.otherProject),
                "responsibleId": q(w.otherEmployee), "content": q("Bring samples"),
            ])
            let followUp = try requireEvent(try await postAction(h, original.id, "follow-ups", json: body), status: 201)
            #expect(followUp.basisId == original.id)
            #expect(followUp.counterpartyId == w.counterparty, "not overridden: copied")
            #expect(followUp.contactId == pavelsColleague)
            #expect(followUp.dealId == otherDeal)
            #expect(followUp.projectId == w.otherProject)
            #expect(followUp.responsibleId == w.otherEmployee)
            #expect(followUp.channel == "meeting")
            #expect(followUp.subject == "Visit")
            #expect(followUp.content == "Bring samples")

            // Another counterparty together with its own contact and deal.
            let moved = jsonText([
                "channel": q("phone-call"), "direction": q("outgoing"), "subject": q("Call Globex"),
                "counterpartyId": q(w.otherCounterparty), "contactId": q(w.otherContact), "dealId": q(w.otherDeal),
            ])
            let elsewhere = try requireEvent(try await postAction(h, original.id, "follow-ups", json: moved), status: 201)
            #expect(elsewhere.counterpartyId == w.otherCounterparty)
            #expect(elsewhere.contactId == w.otherContact)
            #expect(elsewhere.dealId == w.otherDeal)
            #expect(elsewhere.projectId == w.project)
            #expect(elsewhere.responsibleId == w.employee)
            #expect(elsewhere.basisId == original.id)
        }
    }

    @Test("A chain of three: each based on the previous, all in the counterparty's and the contact's history")
    func chainOfThree() async throws {
        try await Harness.run { h in
            let w = try await seedWorld(h)
            let first = try await createEvent(h, fullEventJSON(w, "Quality assessment", ["startsAt": q("2026-12-01T10:00:00+03:00")]))
            expectStatus(try await postAction(h, first.id, "complete"), 200)
            let second = try requireEvent(try await postAction(h, first.id, "follow-ups", json: eventJSON("Send the offer", [
                "channel": q("email"), "startsAt": q("2026-12-02T10:00:00+03:00"), "endsAt": q("2026-12-02T10:30:00+03:00"),
            ])), status: 201)
            expectStatus(try await postAction(h, second.id, "complete"), 200)
            let third = try requireEvent(try await postAction(h, second.id, "follow-ups", json: eventJSON("Sign the contract", [
                "channel": q("meeting"), "startsAt": q("2026-12-03T10:00:00+03:00"), "endsAt": q("2026-12-03T11:00:00+03:00"),
            ])), status: 201)

            #expect(first.hasNoBasis)
            #expect(second.basisId == first.id)
            #expect(third.basisId == second.id)
            #expect(third.basisKind == "event")
            #expect(third.counterpartyId == w.counterparty)
            #expect(third.contactId == w.contact)
            #expect(third.dealId == w.deal)
            #expect(third.projectId == w.project)
            #expect(third.responsibleId == w.employee)

            let thirdRead = try await getEvent(h, third.id)
            let secondRead = try await getEvent(h, try #require(thirdRead.basisId))
            #expect(secondRead.id == second.id)
            #expect(secondRead.basisId == first.id)
            #expect(secondRead.state == "completed")

            #expect(try await listIds(h, "counterpartyId=\(w.counterparty)") == [third.id, second.id, first.id])
            #expect(try await listIds(h, "contactId=\(w.contact)") == [third.id, second.id, first.id])
            #expect(try await listIds(h, "dealId=\(w.deal)&state=planned") == [third.id])
        }
    }

    @Test("Follow-ups are validated like any event; an unknown original is 404; a viewer cannot create one")
    func refusedFollowUps() async throws {
        try await Harness.run { h in
            let w = try await seedWorld(h)
            let original = try await createEvent(h, fullEventJSON(w))
            let bad = try await postAction(h, original.id, "follow-ups", json: eventJSON(String(repeating: "x", count: 251), [
                "projectId": q(newId()), "startsAt": q("2026-12-02T10:00:00Z"), "endsAt": q("2026-12-02T09:00:00Z"),
            ]))
            expectProblem(bad, status: 422, fields: ["subject", "projectId", "endsAt"])
            let foreignContact = try await postAction(h, original.id, "follow-ups", json: eventJSON("Wrong contact", [
                "contactId": q(w.otherContact),
            ]))
            expectProblem(foreignContact, status: 422, fields: ["contactId"])
            expectProblem(try await postAction(h, newId(), "follow-ups", json: eventJSON("Next")), status: 404)
            expectProblem(try await postAction(h, original.id, "follow-ups", role: .viewer, json: eventJSON("Next")), status: 403)
            #expect(try await listIds(h, "") == [original.id], "nothing was created")
        }
    }
}
