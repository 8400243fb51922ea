import Foundation
import HTTPTypes
import Testing
import TestSupport

/// The common members of every catalog object representation.
private func expectCatalogObject(
    _ object: [String: Any], version: Int, deleted: Bool = false, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(str(object["id"]).flatMap(UUID.init(uuidString:)) != nil, "id is a UUID: \(object)", sourceLocation: sourceLocation)
    #expect(intValue(object["version"]) == version, "version: \(object)", sourceLocation: sourceLocation)
    #expect(boolValue(object["deleted"]) == deleted, "deleted: \(object)", sourceLocation: sourceLocation)
    #expect(rfc3339(object["createdAt"]) != nil, "createdAt: \(String(describing: object["createdAt"]))", sourceLocation: sourceLocation)
    #expect(rfc3339(object["updatedAt"]) != nil, "updatedAt: \(String(describing: object["updatedAt"]))", sourceLocation: sourceLocation)
    #expect(object["attributes"] is [Any], "attributes is an array: \(object)", sourceLocation: sourceLocation)
}

@Suite("Catalogs: create, read, update, delete")
struct CatalogTests {
    @Test("Counterparty: POST 201 with ETag \"1\", GET, PATCH merges (null clears) with version +1")
    func counterpartyLifecycle() async throws {
        try await Harness.run { h in
            let created = try await h.request(
                .post, "/v1/counterparties",
                json: try jsonBody([
                    "name": "Acme Trading", "taxId": "7701234567", "phones": ["+7 495 123 45 67"],
                    "emails": ["info@acme.example"], "address": "Moscow, Tverskaya 1", "comment": "Key client",
                ]))
            expectStatus(created, 201)
            #expect(etag(created) == quotedVersion(1))
            #expect(created.headers[.contentType]?.hasPrefix("application/json") == true)
            let object = created.object
            expectCatalogObject(object, version: 1)
            let id = try #require(str(object["id"]))
            #expect(str(object["name"]) == "Acme Trading")
            #expect(str(object["kind"]) == "company", "kind defaults to company")
            #expect(str(object["taxId"]) == "7701234567")
            #expect(strings(object["phones"]) == ["+74951234567"])
            #expect(strings(object["emails"]) == ["info@acme.example"])
            #expect(str(object["address"]) == "Moscow, Tverskaya 1")
            #expect(str(object["comment"]) == "Key client")

            let read = try await h.request(.get, "/v1/counterparties/\(id)")
            expectStatus(read, 200)
            #expect(etag(read) == quotedVersion(1))
            expectCatalogObject(read.object, version: 1)
            #expect(str(read.object["name"]) == "Acme Trading")
            #expect(sameInstant(read.object["createdAt"], object["createdAt"]))

            // Merge semantics: provided keys replace, null clears, absent keys stay.
            let patched = try await h.request(
                .patch, "/v1/counterparties/\(id)",
                json: #"{"comment":"Moved to the north","taxId":null,"kind":"person"}"#)
            expectStatus(patched, 200)
            #expect(etag(patched) == quotedVersion(2))
            expectCatalogObject(patched.object, version: 2)
            #expect(str(patched.object["comment"]) == "Moved to the north")
            #expect(isNullOrAbsent(patched.object["taxId"]))
            #expect(str(patched.object["kind"]) == "person")

            let reread = try await h.request(.get, "/v1/counterparties/\(id)")
            #expect(etag(reread) == quotedVersion(2))
            let after = reread.object
            #expect(intValue(after["version"]) == 2)
            #expect(str(after["name"]) == "Acme Trading", "absent keys are kept")
            #expect(strings(after["phones"]) == ["+74951234567"])
            #expect(strings(after["emails"]) == ["info@acme.example"])
            #expect(str(after["address"]) == "Moscow, Tverskaya 1")
            #expect(isNullOrAbsent(after["taxId"]))
            #expect(str(after["comment"]) == "Moved to the north")
            let createdAt = try #require(rfc3339(after["createdAt"]))
            let updatedAt = try #require(rfc3339(after["updatedAt"]))
            #expect(updatedAt >= createdAt)
            #expect(sameInstant(after["createdAt"], object["createdAt"]), "createdAt never changes")

            // Arrays are replaced as a whole.
            let phones = try await h.request(
                .patch, "/v1/counterparties/\(id)", json: #"{"phones":["8 (812) 555-01-02","+7 495 123 45 67"]}"#)
            expectStatus(phones, 200)
            #expect(strings(phones.object["phones"]) == ["+78125550102", "+74951234567"])
            #expect(intValue(phones.object["version"]) == 3)
        }
    }

    @Test("Every catalog creates with its fields and defaults")
    func createEveryCatalog() async throws {
        try await Harness.run { h in
            let counterparty = try await createObject(h, "counterparties", ["name": "Ivan Petrov", "kind": "person"])
            expectCatalogObject(counterparty, version: 1)
            #expect(str(counterparty["kind"]) == "person")
            let counterpartyId = try #require(str(counterparty["id"]))

            let contact = try await createObject(h, "contacts", [
                "counterpartyId": counterpartyId, "name": "Pavel Smirnov", "role": "Buyer",
                "phones": ["8 (495) 123-45-67"], "emails": ["pavel@acme.example"],
            ])
            expectCatalogObject(contact, version: 1)
            #expect(str(contact["counterpartyId"]) == counterpartyId)
            #expect(str(contact["name"]) == "Pavel Smirnov")
            #expect(str(contact["role"]) == "Buyer")
            #expect(strings(contact["phones"]) == ["+74951234567"])
            #expect(strings(contact["emails"]) == ["pavel@acme.example"])

            let employee = try await createObject(h, "employees", ["name": "Olga Ivanova"])
            expectCatalogObject(employee, version: 1)
            #expect(str(employee["timeZone"]) == "UTC", "timeZone defaults to UTC")
            #expect(boolValue(employee["active"]) == true, "active defaults to true")
            let fullEmployee = try await createObject(h, "employees", [
                "name": "Sergey Orlov", "email": "orlov@crm.example", "phoneExtension": "101",
                "timeZone": "Europe/Moscow", "active": false,
            ])
            #expect(str(fullEmployee["email"]) == "orlov@crm.example")
            #expect(str(fullEmployee["phoneExtension"]) == "101")
            #expect(str(fullEmployee["timeZone"]) == "Europe/Moscow")
            #expect(boolValue(fullEmployee["active"]) == false)

            let project = try await createObject(h, "projects", [
                "name": "Quality survey", "description": "Call-round of key clients", "startsOn": "2026-12-01",
                "endsOn": "2026-12-31", "state": "active",
            ])
            expectCatalogObject(project, version: 1)
            #expect(str(project["description"]) == "Call-round of key clients")
            #expect(str(project["startsOn"]) == "2026-12-01")
            #expect(str(project["endsOn"]) == "2026-12-31")
            #expect(str(project["state"]) == "active")

            let deal = try await createObject(h, "deals", [
                "name": "Supply 2027", "counterpartyId": counterpartyId, "stage": "negotiation",
                "amount": "1250.00", "currency": "RUB",
            ])
            expectCatalogObject(deal, version: 1)
            #expect(str(deal["counterpartyId"]) == counterpartyId)
            #expect(str(deal["stage"]) == "negotiation")
            #expect(deal["amount"] is String, "money is a decimal string: \(String(describing: deal["amount"]))")
            #expect(decimalValue(deal["amount"]) == 1250)
            #expect(str(deal["currency"]) == "RUB")

            let product = try await createObject(h, "products", [
                "name": "Widget", "sku": "W-001", "unit": "pcs", "price": "99.90", "currency": "RUB",
            ])
            expectCatalogObject(product, version: 1)
            #expect(str(product["sku"]) == "W-001")
            #expect(str(product["unit"]) == "pcs")
            #expect(product["price"] is String, "money is a decimal string: \(String(describing: product["price"]))")
            #expect(decimalValue(product["price"]) == 99.9)
            #expect(str(product["currency"]) == "RUB")

            // Each reads back by id with its ETag.
            let reads: [(String, [String: Any])] = [
                ("counterparties", counterparty), ("contacts", contact), ("employees", employee),
                ("projects", project), ("deals", deal), ("products", product),
            ]
            for (catalog, object) in reads {
                let id = try #require(str(object["id"]))
                let read = try await h.request(.get, "/v1/\(catalog)/\(id)")
                expectStatus(read, 200)
                #expect(etag(read) == quotedVersion(1), "\(catalog) ETag")
                #expect(str(read.object["name"]) == str(object["name"]))
            }
        }
    }

    @Test("PATCH works on every catalog: provided keys replace, others stay, version +1")
    func patchEveryCatalog() async throws {
        try await Harness.run { h in
            let acme = try await createCounterparty(h, name: "Acme", ["address": "Moscow"])
            let globex = try await createCounterparty(h, name: "Globex")
            let contact = try await createContact(h, counterpartyId: acme, name: "Pavel", ["role": "Buyer"])
            let employee = try await createEmployee(h, name: "Olga", ["phoneExtension": "101"])
            let project = try await createProject(h, name: "Survey", ["state": "active", "startsOn": "2026-12-01"])
            let deal = try await createDeal(h, counterpartyId: acme, name: "Supply", ["stage": "lead", "amount": "100.00"])
            let product = try await createProduct(h, name: "Widget", ["sku": "W-1", "price": "10.00"])

            let patches: [(catalog: String, id: String, body: String, check: [String: String])] = [
                ("counterparties", acme, #"{"address":"Saint Petersburg"}"#, ["address": "Saint Petersburg", "name": "Acme"]),
                ("contacts", contact, #"{"role":"Director","counterpartyId":"\#(globex)"}"#,
                 ["role": "Director", "counterpartyId": globex, "name": "Pavel"]),
                ("employees", employee, #"{"phoneExtension":"202","timeZone":"Europe/Moscow"}"#,
                 ["phoneExtension": "202", "timeZone": "Europe/Moscow", "name": "Olga"]),
                ("projects", project, #"{"state":"closed","endsOn":"2026-12-31"}"#,
                 ["state": "closed", "endsOn": "2026-12-31", "startsOn": "2026-12-01"]),
                ("deals", deal, #"{"stage":"won"}"#, ["stage": "won", "counterpartyId": acme, "name": "Supply"]),
                ("products", product, #"{"name":"Blue widget"}"#, ["name": "Blue widget", "sku": "W-1"]),
            ]
            for patch in patches {
                let response = try await h.request(.patch, "/v1/\(patch.catalog)/\(patch.id)", json: patch.body)
                expectStatus(response, 200)
                #expect(etag(response) == quotedVersion(2), "\(patch.catalog) ETag")
                let read = try await fetch(h, "/v1/\(patch.catalog)/\(patch.id)")
                #expect(intValue(read["version"]) == 2, "\(patch.catalog) version")
                for (field, value) in patch.check {
                    #expect(str(read[field]) == value, "\(patch.catalog).\(field): \(String(describing: read[field]))")
                }
            }
            let employeeRead = try await fetch(h, "/v1/employees/\(employee)")
            #expect(boolValue(employeeRead["active"]) == true)
            let inactive = try await h.request(.patch, "/v1/employees/\(employee)", json: #"{"active":false}"#)
            expectStatus(inactive, 200)
            #expect(boolValue(inactive.object["active"]) == false)
            let dealRead = try await fetch(h, "/v1/deals/\(deal)")
            #expect(decimalValue(dealRead["amount"]) == 100)
        }
    }

    @Test("PATCH honours If-Match: a stale version is a 412 and changes nothing")
    func patchIfMatch() async throws {
        try await Harness.run { h in
            let id = try await createProduct(h, name: "Widget", ["sku": "W-1"])
            let first = try await h.request(
                .patch, "/v1/products/\(id)", json: #"{"unit":"box"}"#, headers: ["If-Match": quotedVersion(1)])
            expectStatus(first, 200)
            #expect(etag(first) == quotedVersion(2))

            let stale = try await h.request(
                .patch, "/v1/products/\(id)", json: #"{"unit":"kg"}"#, headers: ["If-Match": quotedVersion(1)])
            expectProblem(stale, status: 412)
            let read = try await h.request(.get, "/v1/products/\(id)")
            #expect(str(read.object["unit"]) == "box")
            #expect(intValue(read.object["version"]) == 2)

            let current = try await h.request(
                .patch, "/v1/products/\(id)", json: #"{"unit":"kg"}"#, headers: ["If-Match": quotedVersion(2)])
            expectStatus(current, 200)
            #expect(intValue(current.object["version"]) == 3)
            #expect(str(current.object["unit"]) == "kg")
            #expect(str(current.object["sku"]) == "W-1")
        }
    }

    @Test("DELETE marks deleted: still readable by id, hidden from lists unless includeDeleted=true")
    func deleteEveryCatalog() async throws {
        try await Harness.run { h in
            let owner = try await createCounterparty(h, name: "Owner Ltd")
            let keptOwner = try await createCounterparty(h, name: "Kept Ltd")
            let doomedContact = try await createContact(h, counterpartyId: keptOwner, name: "Doomed Contact")
            let keptContact = try await createContact(h, counterpartyId: keptOwner, name: "Kept Contact")
            let doomedEmployee = try await createEmployee(h, name: "Doomed Employee")
            let keptEmployee = try await createEmployee(h, name: "Kept Employee")
            let doomedProject = try await createProject(h, name: "Doomed Project")
            let keptProject = try await createProject(h, name: "Kept Project")
            let doomedDeal = try await createDeal(h, counterpartyId: keptOwner, name: "Doomed Deal")
            let keptDeal = try await createDeal(h, counterpartyId: keptOwner, name: "Kept Deal")
            let doomedProduct = try await createProduct(h, name: "Doomed Product")
            let keptProduct = try await createProduct(h, name: "Kept Product")
            let pairs: [(catalog: String, doomed: String, kept: String)] = [
                ("counterparties", owner, keptOwner), ("contacts", doomedContact, keptContact),
                ("employees", doomedEmployee, keptEmployee), ("projects", doomedProject, keptProject),
                ("deals", doomedDeal, keptDeal), ("products", doomedProduct, keptProduct),
            ]
            for (catalog, doomed, kept) in pairs {
                let response = try await h.request(.delete, "/v1/\(catalog)/\(doomed)")
                #expect(response.status == 200 || response.status == 204, "DELETE \(catalog): \(response.status) \(response.text)")
                if response.status == 200 {
                    #expect(boolValue(response.object["deleted"]) == true, "\(catalog): \(response.text)")
                }

                let read = try await h.request(.get, "/v1/\(catalog)/\(doomed)")
                expectStatus(read, 200)
                expectCatalogObject(read.object, version: 2, deleted: true)
                #expect(etag(read) == quotedVersion(2))

                let listed = try await listIds(h, "/v1/\(catalog)")
                #expect(listed.contains(kept), "\(catalog): the live object is listed")
                #expect(!listed.contains(doomed), "\(catalog): the deleted object is hidden")

                let everything = try await h.request(.get, "/v1/\(catalog)?includeDeleted=true")
                expectStatus(everything, 200)
                let ids = everything.items.compactMap { str($0["id"]) }
                #expect(Set(ids).isSuperset(of: [doomed, kept]), "\(catalog) includeDeleted: \(ids)")
                let shown = everything.items.first { str($0["id"]) == doomed }
                #expect(boolValue(shown?["deleted"]) == true)
            }
        }
    }

    @Test("Unknown ids are 404 problems on GET, PATCH and DELETE of every catalog")
    func unknownIds() async throws {
        try await Harness.run { h in
            for catalog in ["counterparties", "contacts", "employees", "projects", "deals", "products"] {
                let id = newId()
                let read = try await h.request(.get, "/v1/\(catalog)/\(id)")
                expectProblem(read, status: 404)
                let patch = try await h.request(.patch, "/v1/\(catalog)/\(id)", json: #"{"name":"X"}"#)
                expectProblem(patch, status: 404)
                let delete = try await h.request(.delete, "/v1/\(catalog)/\(id)")
                expectProblem(delete, status: 404)
            }
        }
    }

    @Test(
        "Phones are stored as E.164 with the default country code 7",
        arguments: ["8 (495) 123-45-67", "+7 495 123 45 67", "495-123-45-67", "+7(495)1234567", "84951234567"])
    func phonesNormalised(input: String) async throws {
        try await Harness.run { h in
            let counterparty = try await createObject(h, "counterparties", ["name": "Acme", "phones": [input]])
            #expect(strings(counterparty["phones"]) == ["+74951234567"], "\(input) → \(String(describing: counterparty["phones"]))")
            let id = try #require(str(counterparty["id"]))
            let contact = try await createObject(h, "contacts", ["counterpartyId": id, "name": "Pavel", "phones": [input]])
            #expect(strings(contact["phones"]) == ["+74951234567"])
            let read = try await fetch(h, "/v1/counterparties/\(id)")
            #expect(strings(read["phones"]) == ["+74951234567"])
        }
    }

    @Test("POST with a repeated Idempotency-Key returns the first response and creates nothing")
    func idempotencyKey() async throws {
        try await Harness.run { h in
            let key = newId()
            let body = #"{"name":"Acme"}"#
            let first = try await h.request(.post, "/v1/counterparties", json: body, headers: ["Idempotency-Key": key])
            expectStatus(first, 201)
            let second = try await h.request(.post, "/v1/counterparties", json: body, headers: ["Idempotency-Key": key])
            expectStatus(second, 201)
            #expect(str(second.object["id"]) != nil)
            #expect(str(second.object["id"]) == str(first.object["id"]))
            let ids = try await listIds(h, "/v1/counterparties")
            #expect(ids.count == 1)
        }
    }
}
