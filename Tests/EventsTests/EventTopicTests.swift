import Foundation
import Testing
import TestSupport

@Suite("Topics: every change of an event on crm.events.v1")
struct EventTopicTests {
    static let topic = "crm.events.v1"

    @Test("Create, patch, complete, reopen, cancel, delete: six messages keyed by the event id, versions 1…6, full snapshots")
    func lifecycle() async throws {
        try await Harness.run { h in
            let w = try await seedWorld(h)
            let event = try await createEvent(h, fullEventJSON(w, "Quality assessment"))
            expectStatus(
                try await h.request(
                    .patch, "/v1/events/\(event.id)", json: #"{"subject":"Quality assessment, round 2"}"#,
                    headers: ["If-Match": quotedVersion(1)]),
                200)
            expectStatus(try await postAction(h, event.id, "complete"), 200)
            expectStatus(try await postAction(h, event.id, "reopen"), 200)
            expectStatus(try await postAction(h, event.id, "cancel", json: cancelJSON("Client unavailable")), 200)
            expectDeleted(try await h.request(.delete, "/v1/events/\(event.id)"))

            let messages = try await settledTopic(h, Self.topic, total: 6)
            #expect(messages.allSatisfy { $0.key == event.id }, "key = the event id")
            expectOrderedByVersion(messages)
            #expect(messages.compactMap(\.version) == [1, 2, 3, 4, 5, 6])
            #expect(messages.compactMap(\.type) == [
                "crm.event.created", "crm.event.updated", "crm.event.completed", "crm.event.reopened",
                "crm.event.cancelled", "crm.event.deleted",
            ])
            #expect(Set(messages.compactMap(\.id)).count == 6, "each message has its own CloudEvent id")
            let states = ["planned", "planned", "completed", "planned", "cancelled", "cancelled"]
            for (index, message) in messages.enumerated() {
                expectEnvelope(message, type: message.type ?? "?", subject: event.id)
                let data = try #require(message.data, "data of message \(index + 1)")
                #expect(data.id == event.id)
                #expect(data.version == index + 1, "data.version matches the envelope")
                #expect(data.state == states[index], "state after change \(index + 1)")
                #expect(data.deleted == (index == 5))
                #expect(data.number == event.number)
                #expect(data.counterpartyId == w.counterparty)
                #expect(data.contactId == w.contact)
                #expect(data.responsibleId == w.employee)
                let missing = eventMembers.filter { !data.members.contains($0) }
                #expect(missing.isEmpty, "snapshot \(index + 1) lacks \(missing)")
            }
            #expect(messages[0].data?.subject == "Quality assessment")
            #expect(messages[1].data?.subject == "Quality assessment, round 2")
            #expect(messages[2].data?.completedAt != nil)
            #expect(messages[4].data?.cancelReason == "Client unavailable")
            #expect(messages[5].data?.subject == "Quality assessment, round 2", "the deletion carries the full snapshot")
            #expect(messages[5].data?.cancelReason == "Client unavailable")
        }
    }

    @Test("Refused writes publish nothing; an idempotent repeat publishes once")
    func refusedWritesPublishNothing() async throws {
        try await Harness.run { h in
            let event = try await createEvent(h, eventJSON("Call"))
            expectProblem(try await h.request(.post, "/v1/events", json: eventJSON("")), status: 422)
            expectProblem(try await postAction(h, event.id, "reopen"), status: 409)
            expectProblem(
                try await h.request(.patch, "/v1/events/\(event.id)", json: #"{"subject":"x"}"#, headers: ["If-Match": quotedVersion(7)]),
                status: 412)
            expectProblem(try await postAction(h, event.id, "complete", role: .viewer), status: 403)
            expectProblem(try await postAction(h, event.id, "complete", role: .manager, subject: newId()), status: 403)
            let key = newId()
            for _ in 0..<2 {
                expectStatus(
                    try await h.request(.post, "/v1/events", json: eventJSON("Once"), headers: ["Idempotency-Key": key]), 201)
            }

            let messages = try await settledTopic(h, Self.topic, total: 2)
            #expect(messages.allSatisfy { $0.type == "crm.event.created" && $0.version == 1 })
            #expect(messages.contains { $0.key == event.id })
        }
    }

    @Test("Follow-ups and telephony events are published too, with their basis and call details")
    func followUpsAndCalls() async throws {
        try await Harness.run { h in
            let acme = try await h.seedCounterparty(name: "Acme", phones: ["+74951234567"])
            _ = try await h.seedEmployee(name: "Olga", phoneExtension: "101")
            let original = try await createEvent(h, eventJSON("Offer", ["counterpartyId": q(acme)]))
            let followUp = try requireEvent(
                try await postAction(h, original.id, "follow-ups", json: eventJSON("Offer, reminder")), status: 201)
            let call = CallRecord.answered(from: "+7 (495) 123-45-67")
            try await publishCall(h, call)
            let page = try await waitForEvents(h, "counterpartyId=\(acme)", count: 3)
            let callEvent = try #require(eventOfCall(page, call.callId), "\(page.text)")

            let messages = try await readTopic(h, Self.topic, count: 3)
            let followUpMessage = try #require(messages.first { $0.key == followUp.id }, "no message for the follow-up")
            expectEnvelope(followUpMessage, type: "crm.event.created", subject: followUp.id)
            #expect(followUpMessage.data?.basisId == original.id)
            #expect(followUpMessage.data?.basisKind == "event")
            #expect(followUpMessage.data?.counterpartyId == acme)

            let callMessages = messages.filter { $0.key == callEvent.id }
            let last = try #require(callMessages.last, "no message for the telephony event")
            #expect(last.type?.hasPrefix("crm.event.") == true, "type \(last.type ?? "-")")
            #expect(last.subject == callEvent.id)
            #expect(last.data?.source == "telephony")
            #expect(last.data?.state == "completed")
            #expect(last.data?.callId == call.callId)
            #expect(last.data?.counterpartyId == acme)
            expectOrderedByVersion(callMessages)
        }
    }
}
