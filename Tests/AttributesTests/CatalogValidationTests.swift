import Foundation
import HTTPTypes
import Testing
import TestSupport

/// The ids of everything in a catalog, deleted or not.
private func allIds(_ h: Harness, _ catalog: String) async throws -> [String] {
    try await listIds(h, "/v1/\(catalog)?includeDeleted=true&limit=500")
}

@Suite("Catalog validation")
struct CatalogValidationTests {
    @Test("A missing name is a 422 naming it in every catalog, and nothing is stored")
    func missingName() async throws {
        try await Harness.run { h in
            let counterparty = try await createCounterparty(h, name: "Acme")
            let bodies: [(catalog: String, body: String, fields: [String])] = [
                ("counterparties", #"{"kind":"company"}"#, ["name"]),
                ("contacts", #"{"counterpartyId":"\#(counterparty)","role":"Buyer"}"#, ["name"]),
                ("contacts", #"{"role":"Buyer"}"#, ["name", "counterpartyId"]),
                ("employees", #"{"phoneExtension":"101"}"#, ["name"]),
                ("projects", #"{"state":"active"}"#, ["name"]),
                ("deals", #"{"counterpartyId":"\#(counterparty)"}"#, ["name"]),
                ("deals", #"{"stage":"lead"}"#, ["name", "counterpartyId"]),
                ("products", #"{"sku":"W-1"}"#, ["name"]),
                ("products", "{}", ["name"]),
            ]
            for (catalog, body, fields) in bodies {
                let response = try await h.request(.post, "/v1/\(catalog)", json: body)
                expectProblem(response, status: 422, fields: fields)
            }
            for catalog in ["contacts", "employees", "projects", "deals", "products"] {
                let ids = try await allIds(h, catalog)
                #expect(ids.isEmpty, "\(catalog) stored \(ids)")
            }
            let counterparties = try await allIds(h, "counterparties")
            #expect(counterparties == [counterparty])
        }
    }

    @Test("Counterparty: bad kind and bad email are both listed, along with a missing name")
    func counterpartyFields() async throws {
        try await Harness.run { h in
            let one = try await h.request(
                .post, "/v1/counterparties", json: #"{"name":"Acme","kind":"alien","emails":["not-an-email"]}"#)
            expectProblem(one, status: 422, fields: ["kind", "emails"])
            let all = try await h.request(
                .post, "/v1/counterparties", json: #"{"kind":"alien","emails":["ok@acme.example","nope@"]}"#)
            expectProblem(all, status: 422, fields: ["name", "kind", "emails"])
            let stored = try await allIds(h, "counterparties")
            #expect(stored.isEmpty)

            let person = try await h.request(.post, "/v1/counterparties", json: #"{"name":"Ivan","kind":"person"}"#)
            expectStatus(person, 201)
        }
    }

    @Test("Contact: the counterparty must exist and not be deleted")
    func contactCounterparty() async throws {
        try await Harness.run { h in
            let gone = try await createCounterparty(h, name: "Gone")
            try await deleteObject(h, "counterparties", gone)

            let unknown = try await h.request(
                .post, "/v1/contacts", json: #"{"counterpartyId":"\#(newId())","name":"Pavel"}"#)
            expectProblem(unknown, status: 422, fields: ["counterpartyId"])
            let deleted = try await h.request(.post, "/v1/contacts", json: #"{"counterpartyId":"\#(gone)","name":"Pavel"}"#)
            expectProblem(deleted, status: 422, fields: ["counterpartyId"])
            let everything = try await h.request(
                .post, "/v1/contacts", json: #"{"counterpartyId":"\#(newId())","emails":["pavel@"]}"#)
            expectProblem(everything, status: 422, fields: ["counterpartyId", "name", "emails"])
            let stored = try await allIds(h, "contacts")
            #expect(stored.isEmpty)
        }
    }

    @Test("Deal: counterparty must exist; amount must be a decimal string")
    func dealFields() async throws {
        try await Harness.run { h in
            let acme = try await createCounterparty(h, name: "Acme")
            let gone = try await createCounterparty(h, name: "Gone")
            try await deleteObject(h, "counterparties", gone)

            let all = try await h.request(
                .post, "/v1/deals", json: #"{"counterpartyId":"\#(newId())","amount":"12,50","currency":"RUB"}"#)
            expectProblem(all, status: 422, fields: ["name", "counterpartyId", "amount"])
            let deleted = try await h.request(.post, "/v1/deals", json: #"{"name":"Supply","counterpartyId":"\#(gone)"}"#)
            expectProblem(deleted, status: 422, fields: ["counterpartyId"])
            for amount in [#""abc""#, #""1.2.3""#, #""""#, #""12 RUB""#] {
                let response = try await h.request(
                    .post, "/v1/deals", json: #"{"name":"Supply","counterpartyId":"\#(acme)","amount":\#(amount)}"#)
                expectProblem(response, status: 422, fields: ["amount"])
            }
            let number = try await h.request(
                .post, "/v1/deals", json: #"{"name":"Supply","counterpartyId":"\#(acme)","amount":1250.5}"#)
            expectRejected(number, fields: ["amount"])
            let stored = try await allIds(h, "deals")
            #expect(stored.isEmpty)

            let fine = try await h.request(
                .post, "/v1/deals", json: #"{"name":"Supply","counterpartyId":"\#(acme)","amount":"1250.00","currency":"RUB"}"#)
            expectStatus(fine, 201)
        }
    }

    @Test("Employee: bad email and bad IANA time zone are both listed")
    func employeeFields() async throws {
        try await Harness.run { h in
            let both = try await h.request(
                .post, "/v1/employees", json: #"{"name":"Olga","email":"olga@","timeZone":"Mars/Olympus_Mons"}"#)
            expectProblem(both, status: 422, fields: ["email", "timeZone"])
            let city = try await h.request(.post, "/v1/employees", json: #"{"name":"Olga","timeZone":"Moscow"}"#)
            expectProblem(city, status: 422, fields: ["timeZone"])
            let stored = try await allIds(h, "employees")
            #expect(stored.isEmpty)

            let good = try await h.request(
                .post, "/v1/employees", json: #"{"name":"Olga","email":"olga@crm.example","timeZone":"Asia/Vladivostok"}"#)
            expectStatus(good, 201)
            #expect(str(good.object["timeZone"]) == "Asia/Vladivostok")
        }
    }

    @Test("Project: dates are YYYY-MM-DD, endsOn not before startsOn, state active/closed")
    func projectFields() async throws {
        try await Harness.run { h in
            let dates = try await h.request(
                .post, "/v1/projects", json: #"{"name":"Survey","startsOn":"2026-13-01","endsOn":"31.12.2026"}"#)
            expectProblem(dates, status: 422, fields: ["startsOn", "endsOn"])
            let impossible = try await h.request(.post, "/v1/projects", json: #"{"name":"Survey","startsOn":"2026-02-30"}"#)
            expectProblem(impossible, status: 422, fields: ["startsOn"])
            let timestamp = try await h.request(
                .post, "/v1/projects", json: #"{"name":"Survey","startsOn":"2026-12-01T00:00:00Z"}"#)
            expectProblem(timestamp, status: 422, fields: ["startsOn"])

            let reversed = try await h.request(
                .post, "/v1/projects", json: #"{"name":"Survey","startsOn":"2026-12-10","endsOn":"2026-12-01"}"#)
            let reversedFields = expectProblem(reversed, status: 422)
            #expect(
                reversedFields.contains { fieldMentions($0, "endsOn") || fieldMentions($0, "startsOn") },
                "the date order error names endsOn (or startsOn): \(reversedFields)")

            let state = try await h.request(.post, "/v1/projects", json: #"{"name":"Survey","state":"open"}"#)
            expectProblem(state, status: 422, fields: ["state"])
            let everything = try await h.request(
                .post, "/v1/projects", json: #"{"startsOn":"2026-12-10","endsOn":"2026-12-01","state":"open"}"#)
            expectProblem(everything, status: 422, fields: ["name", "state"])
            let stored = try await allIds(h, "projects")
            #expect(stored.isEmpty)

            let sameDay = try await h.request(
                .post, "/v1/projects", json: #"{"name":"Survey","startsOn":"2026-12-10","endsOn":"2026-12-10"}"#)
            expectStatus(sameDay, 201)
        }
    }

    @Test("Product: price must be a decimal string")
    func productFields() async throws {
        try await Harness.run { h in
            let text = try await h.request(.post, "/v1/products", json: #"{"name":"Widget","price":"cheap"}"#)
            expectProblem(text, status: 422, fields: ["price"])
            let both = try await h.request(.post, "/v1/products", json: #"{"price":"9,99"}"#)
            expectProblem(both, status: 422, fields: ["name", "price"])
            let number = try await h.request(.post, "/v1/products", json: #"{"name":"Widget","price":99.9}"#)
            expectRejected(number, fields: ["price"])
            let stored = try await allIds(h, "products")
            #expect(stored.isEmpty)
        }
    }

    @Test("Malformed JSON is a 400 problem and stores nothing")
    func malformedJSON() async throws {
        try await Harness.run { h in
            for body in [#"{"name": "#, "not json", #"{"name":"Acme""#] {
                let created = try await h.request(.post, "/v1/counterparties", json: body)
                expectProblem(created, status: 400)
            }
            let id = try await createCounterparty(h, name: "Acme")
            let patched = try await h.request(.patch, "/v1/counterparties/\(id)", json: #"{"name":"#)
            expectProblem(patched, status: 400)
            let values = try await h.request(.patch, "/v1/attribute-values/counterparty/\(id)", json: "{values")
            expectProblem(values, status: 400)
            let attribute = try await h.request(.post, "/v1/attribute-sets/counterparty/attributes", json: "[")
            expectProblem(attribute, status: 400)

            let stored = try await allIds(h, "counterparties")
            #expect(stored == [id])
            let read = try await fetch(h, "/v1/counterparties/\(id)")
            #expect(intValue(read["version"]) == 1)
        }
    }

    @Test("PATCH validates the merged object: every bad field listed, nothing stored")
    func patchValidation() async throws {
        try await Harness.run { h in
            let acme = try await createCounterparty(h, name: "Acme", ["emails": ["info@acme.example"]])
            let bad = try await h.request(
                .patch, "/v1/counterparties/\(acme)", json: #"{"kind":"alien","emails":["broken"],"comment":"x"}"#)
            expectProblem(bad, status: 422, fields: ["kind", "emails"])
            let clearedName = try await h.request(.patch, "/v1/counterparties/\(acme)", json: #"{"name":null}"#)
            expectRejected(clearedName, fields: ["name"])
            let read = try await fetch(h, "/v1/counterparties/\(acme)")
            #expect(intValue(read["version"]) == 1)
            #expect(str(read["name"]) == "Acme")
            #expect(isNullOrAbsent(read["comment"]))
            #expect(strings(read["emails"]) == ["info@acme.example"])

            let contact = try await createContact(h, counterpartyId: acme, name: "Pavel")
            let moved = try await h.request(.patch, "/v1/contacts/\(contact)", json: #"{"counterpartyId":"\#(newId())"}"#)
            expectProblem(moved, status: 422, fields: ["counterpartyId"])
            let contactRead = try await fetch(h, "/v1/contacts/\(contact)")
            #expect(str(contactRead["counterpartyId"]) == acme)

            // Against the stored startsOn: an endsOn before it is refused.
            let project = try await createProject(h, name: "Survey", ["startsOn": "2026-12-10"])
            let early = try await h.request(.patch, "/v1/projects/\(project)", json: #"{"endsOn":"2026-12-01"}"#)
            let earlyFields = expectProblem(early, status: 422)
            #expect(earlyFields.contains { fieldMentions($0, "endsOn") || fieldMentions($0, "startsOn") })
            let projectRead = try await fetch(h, "/v1/projects/\(project)")
            #expect(isNullOrAbsent(projectRead["endsOn"]))

            let employee = try await createEmployee(h, name: "Olga")
            let zone = try await h.request(.patch, "/v1/employees/\(employee)", json: #"{"timeZone":"Nowhere/Land"}"#)
            expectProblem(zone, status: 422, fields: ["timeZone"])
            let employeeRead = try await fetch(h, "/v1/employees/\(employee)")
            #expect(str(employeeRead["timeZone"]) == "UTC")
        }
    }
}
