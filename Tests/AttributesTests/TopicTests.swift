import Foundation
import Testing
import TestSupport

@Suite("Topics: every change exactly once, in order, with growing versions")
struct TopicTests {
    @Test("Create, 3 patches and delete of a counterparty: 5 messages, versions 1…5, last one deleted")
    func counterpartyLifecycle() async throws {
        try await Harness.run { h in
            let id = try await createCounterparty(h, name: "Acme")
            for comment in ["first", "second", "third"] {
                let response = try await h.request(
                    .patch, "/v1/counterparties/\(id)", json: try jsonBody(["comment": comment]))
                expectStatus(response, 200)
            }
            try await deleteObject(h, "counterparties", id)

            let messages = try await settledTopic(h, "crm.counterparties.v1", total: 5)
            #expect(messages.allSatisfy { $0.key == id }, "key = the counterparty id")
            expectOrderedByVersion(messages)
            #expect(messages.compactMap(\.version) == [1, 2, 3, 4, 5])
            #expect(messages.compactMap(\.type) == [
                "crm.counterparty.upserted", "crm.counterparty.upserted", "crm.counterparty.upserted",
                "crm.counterparty.upserted", "crm.counterparty.deleted",
            ])
            #expect(Set(messages.compactMap(\.id)).count == 5, "each message has its own CloudEvent id")
            for (index, message) in messages.enumerated() {
                expectEnvelope(message, type: message.type ?? "?", subject: id)
                let data = message.data
                #expect(str(data["id"]) == id)
                #expect(str(data["name"]) == "Acme")
                #expect(intValue(data["version"]) == index + 1, "data.version matches the envelope")
                #expect(boolValue(data["deleted"]) == (index == 4))
            }
            #expect(str(messages[1].data["comment"]) == "first")
            #expect(str(messages[3].data["comment"]) == "third")
            #expect(str(messages[4].data["comment"]) == "third", "the deletion carries the full snapshot")
        }
    }

    @Test("Every catalog publishes on its own topic with its own types, keyed by id")
    func everyCatalogTopic() async throws {
        try await Harness.run { h in
            let counterparty = try await createCounterparty(h, name: "Acme")
            let contact = try await createContact(h, counterpartyId: counterparty, name: "Pavel")
            let employee = try await createEmployee(h, name: "Olga")
            let project = try await createProject(h, name: "Survey")
            let deal = try await createDeal(h, counterpartyId: counterparty, name: "Supply")
            let product = try await createProduct(h, name: "Widget")
            try await deleteObject(h, "products", product)

            let expected: [(topic: String, singular: String, id: String, count: Int)] = [
                ("crm.counterparties.v1", "counterparty", counterparty, 1),
                ("crm.contacts.v1", "contact", contact, 1),
                ("crm.employees.v1", "employee", employee, 1),
                ("crm.projects.v1", "project", project, 1),
                ("crm.deals.v1", "deal", deal, 1),
                ("crm.products.v1", "product", product, 2),
            ]
            for entry in expected {
                // Exactly-once is checked in counterpartyLifecycle; here one read per topic keeps it quick.
                let messages = try await readTopic(h, entry.topic, count: entry.count)
                #expect(messages.count == entry.count, "\(entry.topic): \(messages.count) messages")
                let first = try #require(messages.first, "nothing on \(entry.topic)")
                #expect(first.key == entry.id)
                expectEnvelope(first, type: "crm.\(entry.singular).upserted", subject: entry.id)
                #expect(str(first.data["id"]) == entry.id)
                #expect(intValue(first.data["version"]) == 1)
                #expect(boolValue(first.data["deleted"]) == false)
            }
            let products = try await readTopic(h, "crm.products.v1", count: 2)
            #expect(products.compactMap(\.version) == [1, 2])
            let deletion = try #require(products.last)
            expectEnvelope(deletion, type: "crm.product.deleted", subject: product)
            #expect(deletion.version == 2)
            #expect(boolValue(deletion.data["deleted"]) == true)
            #expect(str(deletion.data["name"]) == "Widget")
        }
    }

    @Test("Rejected writes publish nothing")
    func rejectedWritesPublishNothing() async throws {
        try await Harness.run { h in
            let id = try await createCounterparty(h, name: "Acme")
            let invalid = try await h.request(.patch, "/v1/counterparties/\(id)", json: #"{"kind":"alien"}"#)
            expectProblem(invalid, status: 422)
            let stale = try await h.request(
                .patch, "/v1/counterparties/\(id)", json: #"{"comment":"x"}"#, headers: ["If-Match": quotedVersion(7)])
            expectProblem(stale, status: 412)
            let forbidden = try await h.request(
                .patch, "/v1/counterparties/\(id)", role: .viewer, json: #"{"comment":"x"}"#)
            expectProblem(forbidden, status: 403)
            let badContact = try await h.request(.post, "/v1/contacts", json: #"{"counterpartyId":"\#(newId())","name":"P"}"#)
            expectProblem(badContact, status: 422)

            // Same Idempotency-Key twice: one creation, one message.
            let key = newId()
            for _ in 0..<2 {
                let response = try await h.request(
                    .post, "/v1/products", json: #"{"name":"Widget"}"#, headers: ["Idempotency-Key": key])
                expectStatus(response, 201)
            }

            let counterparties = try await settledTopic(h, "crm.counterparties.v1", total: 1)
            #expect(counterparties.first?.version == 1)
            let contacts = try await readTopic(h, "crm.contacts.v1", count: 1, timeout: .seconds(5))
            #expect(contacts.isEmpty, "a rejected contact was published")
            _ = try await settledTopic(h, "crm.products.v1", total: 1)

            // A failed attribute PATCH publishes no values either.
            try await addAttribute(h, kind: "counterparty", ["name": "VIP", "key": "vip", "type": "boolean"])
            let badValue = try await patchValues(h, kind: "counterparty", objectId: id, ["vip": "yes"])
            expectProblem(badValue, status: 422)
            let values = try await readTopic(h, "crm.attribute-values.v1", count: 1, timeout: .seconds(5))
            #expect(values.isEmpty, "a rejected values PATCH was published")
        }
    }

    @Test("Set changes: one crm.attribute-set.changed per change, keyed by kind, with the whole ordered set")
    func attributeSetChanges() async throws {
        try await Harness.run { h in
            for key in ["a", "b", "c"] {
                try await addAttribute(h, kind: "counterparty", ["name": key.uppercased(), "key": key, "type": "string"])
            }
            try await addAttribute(h, kind: "counterparty", ["name": "D", "key": "d", "type": "string", "position": 1])
            let set = try await attributeSet(h, kind: "counterparty")
            let b = try #require(set.id(of: "b"))
            let moved = try await patchAttribute(h, kind: "counterparty", id: b, ["position": 1])
            expectStatus(moved, 200)
            let d = try #require(set.id(of: "d"))
            try await retireAttribute(h, kind: "counterparty", id: d)
            try await addAttribute(h, kind: "contact", ["name": "VIP", "key": "vip", "type": "boolean"])
            // A rejected change publishes nothing.
            let duplicate = try await h.request(
                .post, "/v1/attribute-sets/counterparty/attributes", json: #"{"name":"A","key":"a","type":"string"}"#)
            expectProblem(duplicate, status: 409)

            let messages = try await settledTopic(h, "crm.attribute-sets.v1", total: 7)
            let counterpartyMessages = messages.filter { $0.key == "counterparty" }
            #expect(counterpartyMessages.count == 6)
            expectOrderedByVersion(counterpartyMessages)
            let expectedKeys: [[String]] = [
                ["a"], ["a", "b"], ["a", "b", "c"], ["d", "a", "b", "c"], ["b", "d", "a", "c"], ["b", "a", "c"],
            ]
            for (message, keys) in zip(counterpartyMessages, expectedKeys) {
                expectEnvelope(message, type: "crm.attribute-set.changed")
                #expect(str(message.data["kind"]) == "counterparty")
                let attributes = dicts(message.data["attributes"])
                #expect(attributes.compactMap { str($0["key"]) } == keys)
                #expect(attributes.compactMap { intValue($0["position"]) } == Array(1...keys.count))
                #expect(intValue(message.data["version"]) == message.version)
            }
            let current = try await attributeSet(h, kind: "counterparty")
            #expect(counterpartyMessages.last?.version == current.version)

            let contactMessages = messages.filter { $0.key == "contact" }
            #expect(contactMessages.count == 1)
            #expect(dicts(contactMessages.first?.data["attributes"]).compactMap { str($0["key"]) } == ["vip"])
        }
    }

    @Test("Value changes: one crm.attribute-values.changed per change, keyed kind:objectId, with all values")
    func attributeValueChanges() async throws {
        try await Harness.run { h in
            try await addAttribute(h, kind: "counterparty", ["name": "VIP", "key": "vip", "type": "boolean"])
            try await addAttribute(h, kind: "counterparty", [
                "name": "Region", "key": "region", "type": "enum", "options": ["North", "South"],
            ])
            let acme = try await createCounterparty(h, name: "Acme")
            let globex = try await createCounterparty(h, name: "Globex")

            try await setValues(h, kind: "counterparty", objectId: acme, ["vip": true])
            try await setValues(h, kind: "counterparty", objectId: acme, ["region": "North"])
            let viaCard = try await h.request(
                .patch, "/v1/counterparties/\(acme)", json: #"{"attributes":{"vip":false}}"#)
            expectStatus(viaCard, 200)
            try await setValues(h, kind: "counterparty", objectId: globex, ["region": "South"])
            let rejected = try await patchValues(h, kind: "counterparty", objectId: acme, ["region": "West"])
            expectProblem(rejected, status: 422)

            let messages = try await settledTopic(h, "crm.attribute-values.v1", total: 4)
            let acmeMessages = messages.filter { $0.key == "counterparty:\(acme)" }
            let globexMessages = messages.filter { $0.key == "counterparty:\(globex)" }
            #expect(acmeMessages.count == 3)
            #expect(globexMessages.count == 1)
            expectOrderedByVersion(acmeMessages)
            for message in acmeMessages + globexMessages {
                expectEnvelope(message, type: "crm.attribute-values.changed")
                #expect(str(message.data["kind"]) == "counterparty")
                #expect(intValue(message.data["version"]) == message.version)
            }
            #expect(acmeMessages.allSatisfy { str($0.data["objectId"]) == acme })

            // Every message carries all values of the object, not a diff.
            let snapshots = acmeMessages.map { dict($0.data["values"]) }
            #expect(snapshots.count == 3)
            if snapshots.count == 3 {
                #expect(boolValue(snapshots[0]["vip"]) == true)
                #expect(boolValue(snapshots[1]["vip"]) == true)
                #expect(str(snapshots[1]["region"]) == "North")
                #expect(boolValue(snapshots[2]["vip"]) == false)
                #expect(str(snapshots[2]["region"]) == "North")
            }
            let current = try await attributeValues(h, kind: "counterparty", objectId: acme)
            #expect(acmeMessages.last?.version == current.version)
            #expect(str(dict(globexMessages.first?.data["values"])["region"]) == "South")
        }
    }
}
