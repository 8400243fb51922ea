import Foundation
import Testing
import TestSupport

/// Events and orders live in other services: crm-attributes learns their ids from
/// `crm.events.v1` and `crm.documents.v1`, and accepts values for them only then.
@Suite("Values of events and orders known from their topics")
struct ProjectionTests {
    @Test("Values of an event are 404 until its id arrives on crm.events.v1, then typed and published")
    func eventValues() async throws {
        try await Harness.run { h in
            try await addAttribute(h, kind: "event", ["name": "Score", "key": "score", "type": "integer"])
            try await addAttribute(h, kind: "event", [
                "name": "Answer", "key": "answer", "type": "enum", "options": ["Satisfied", "Unsatisfied"],
            ])
            let event = newId()

            let early = try await patchValues(h, kind: "event", objectId: event, ["score": 5])
            expectProblem(early, status: 404)
            let earlyRead = try await h.request(.get, "/v1/attribute-values/event/\(event)")
            expectProblem(earlyRead, status: 404)

            let created = try eventCloudEvent(id: event)
            try await h.publish(topic: "crm.events.v1", key: event, value: created)

            let response = try await patchValuesOnceKnown(
                h, kind: "event", objectId: event, ["score": 5, "answer": "Satisfied"])
            #expect(response.status == 200, "PATCH after the event arrived: \(response.status) \(response.text)")

            let values = try await attributeValues(h, kind: "event", objectId: event)
            #expect(values.kind == "event")
            #expect(values.objectId == event)
            #expect(intValue(values.values["score"]) == 5)
            #expect(str(values.values["answer"]) == "Satisfied")

            // The event's values are checked like any other.
            let bad = try await patchValues(h, kind: "event", objectId: event, ["score": "five", "answer": "Maybe"])
            expectProblem(bad, status: 422, fields: ["score", "answer"])

            // Another event nobody published is still unknown.
            let stranger = try await patchValues(h, kind: "event", objectId: newId(), ["score": 1])
            expectProblem(stranger, status: 404)
            // An event id is not a counterparty.
            let wrongKind = try await h.request(.get, "/v1/attribute-values/counterparty/\(event)")
            expectProblem(wrongKind, status: 404)

            // And the change is published like any other.
            let messages = try await readTopic(h, "crm.attribute-values.v1", count: 1)
            let message = try #require(messages.first { $0.key == "event:\(event)" })
            expectEnvelope(message, type: "crm.attribute-values.changed")
            #expect(intValue(dict(message.data["values"])["score"]) == 5)
        }
    }

    @Test("A later version of an event (crm.event.updated) keeps it known; repeats change nothing")
    func eventRedelivered() async throws {
        try await Harness.run { h in
            try await addAttribute(h, kind: "event", ["name": "Score", "key": "score", "type": "integer"])
            let event = newId()
            let created = try eventCloudEvent(id: event)
            try await h.publish(topic: "crm.events.v1", key: event, value: created)
            try await h.publish(topic: "crm.events.v1", key: event, value: created)
            let updated = try eventCloudEvent(id: event, type: "crm.event.updated", version: 2)
            try await h.publish(topic: "crm.events.v1", key: event, value: updated)

            let response = try await patchValuesOnceKnown(h, kind: "event", objectId: event, ["score": 4])
            #expect(response.status == 200, "\(response.status) \(response.text)")
            let values = try await attributeValues(h, kind: "event", objectId: event)
            #expect(intValue(values.values["score"]) == 4)
        }
    }

    @Test("Values of a customer order are accepted once it arrives on crm.documents.v1")
    func customerOrderValues() async throws {
        try await Harness.run { h in
            try await addAttribute(h, kind: "customer-order", ["name": "Urgent", "key": "urgent", "type": "boolean"])
            let counterparty = try await createCounterparty(h, name: "Acme")
            let order = newId()

            let early = try await patchValues(h, kind: "customer-order", objectId: order, ["urgent": true])
            expectProblem(early, status: 404)

            let published = try customerOrderCloudEvent(id: order, counterpartyId: counterparty)
            try await h.publish(topic: "crm.documents.v1", key: order, value: published)
            let response = try await patchValuesOnceKnown(h, kind: "customer-order", objectId: order, ["urgent": true])
            #expect(response.status == 200, "\(response.status) \(response.text)")
            let values = try await attributeValues(h, kind: "customer-order", objectId: order)
            #expect(boolValue(values.values["urgent"]) == true)

            // A customer order is not a supplier order.
            let asSupplierOrder = try await h.request(.get, "/v1/attribute-values/supplier-order/\(order)")
            expectProblem(asSupplierOrder, status: 404)
        }
    }
}
