import Foundation
import HTTPTypes
import Testing
import TestSupport

@Suite("Catalog lists: search, filters, pagination")
struct CatalogListTests {
    @Test("A list is {items, nextCursor: null} on its last page")
    func listShape() async throws {
        try await Harness.run { h in
            for catalog in ["counterparties", "contacts", "employees", "projects", "deals", "products"] {
                let response = try await h.request(.get, "/v1/\(catalog)")
                expectStatus(response, 200)
                #expect((response.object["items"] as? [Any])?.isEmpty == true, "\(catalog): \(response.text)")
                #expect(response.object.keys.contains("nextCursor") && isNull(response.object["nextCursor"]), "\(catalog): \(response.text)")
            }
            let id = try await createCounterparty(h, name: "Acme")
            let response = try await h.request(.get, "/v1/counterparties")
            let item = try #require(response.items.first)
            #expect(str(item["id"]) == id)
            #expect(str(item["name"]) == "Acme")
            #expect(intValue(item["version"]) == 1)
            #expect(isNull(response.object["nextCursor"]))
        }
    }

    @Test("q finds a case-insensitive substring of the name")
    func searchByName() async throws {
        try await Harness.run { h in
            let acmeTrading = try await createCounterparty(h, name: "Acme Trading")
            let acmeLogistics = try await createCounterparty(h, name: "ACME Logistics")
            let globex = try await createCounterparty(h, name: "Globex")
            let acmeIds = try await listIds(h, "/v1/counterparties?q=acme")
            #expect(Set(acmeIds) == [acmeTrading, acmeLogistics])
            let tradIds = try await listIds(h, "/v1/counterparties?q=TRAD")
            #expect(tradIds == [acmeTrading])
            let middleIds = try await listIds(h, "/v1/counterparties?q=\(queryEscape("lobe"))")
            #expect(middleIds == [globex])
            let spaceIds = try await listIds(h, "/v1/counterparties?q=\(queryEscape("me log"))")
            #expect(spaceIds == [acmeLogistics])
            let noneIds = try await listIds(h, "/v1/counterparties?q=initech")
            #expect(noneIds.isEmpty)

            let widget = try await createProduct(h, name: "Blue Widget")
            _ = try await createProduct(h, name: "Gadget")
            let productIds = try await listIds(h, "/v1/products?q=widg")
            #expect(productIds == [widget])
            let olga = try await createEmployee(h, name: "Olga Ivanova")
            _ = try await createEmployee(h, name: "Sergey Orlov")
            let employeeIds = try await listIds(h, "/v1/employees?q=IVAN")
            #expect(employeeIds == [olga])
        }
    }

    @Test("phone= finds counterparties and contacts by a number in any format")
    func phoneFilter() async throws {
        try await Harness.run { h in
            let acme = try await createCounterparty(h, name: "Acme", ["phones": ["8 (495) 123-45-67", "+7 812 555 01 02"]])
            _ = try await createCounterparty(h, name: "Globex", ["phones": ["+7 495 765 43 21"]])
            for query in ["8(495)1234567", queryEscape("+74951234567"), "495-123-45-67", queryEscape("+7 495 123 45 67"), "88125550102"] {
                let ids = try await listIds(h, "/v1/counterparties?phone=\(query)")
                #expect(ids == [acme], "phone=\(query) → \(ids)")
            }
            let none = try await listIds(h, "/v1/counterparties?phone=84950000000")
            #expect(none.isEmpty)

            let pavel = try await createContact(h, counterpartyId: acme, name: "Pavel", ["phones": ["+7 (916) 000-11-22"]])
            _ = try await createContact(h, counterpartyId: acme, name: "Maria", ["phones": ["+7 (916) 000-11-33"]])
            let contacts = try await listIds(h, "/v1/contacts?phone=89160001122")
            #expect(contacts == [pavel])
        }
    }

    @Test("Catalog filters: counterpartyId, phoneExtension, state, sku")
    func catalogFilters() async throws {
        try await Harness.run { h in
            let acme = try await createCounterparty(h, name: "Acme")
            let globex = try await createCounterparty(h, name: "Globex")

            let pavel = try await createContact(h, counterpartyId: acme, name: "Pavel")
            let maria = try await createContact(h, counterpartyId: acme, name: "Maria")
            let hank = try await createContact(h, counterpartyId: globex, name: "Hank")
            let acmeContacts = try await listIds(h, "/v1/contacts?counterpartyId=\(acme)")
            #expect(Set(acmeContacts) == [pavel, maria])
            let globexContacts = try await listIds(h, "/v1/contacts?counterpartyId=\(globex)")
            #expect(globexContacts == [hank])

            let supply = try await createDeal(h, counterpartyId: acme, name: "Supply")
            let service = try await createDeal(h, counterpartyId: globex, name: "Service")
            let acmeDeals = try await listIds(h, "/v1/deals?counterpartyId=\(acme)")
            #expect(acmeDeals == [supply])
            let globexDeals = try await listIds(h, "/v1/deals?counterpartyId=\(globex)")
            #expect(globexDeals == [service])

            let olga = try await createEmployee(h, name: "Olga", ["phoneExtension": "101"])
            _ = try await createEmployee(h, name: "Sergey", ["phoneExtension": "1010"])
            _ = try await createEmployee(h, name: "Ivan")
            let extension101 = try await listIds(h, "/v1/employees?phoneExtension=101")
            #expect(extension101 == [olga])

            let activeProject = try await createProject(h, name: "Survey", ["state": "active"])
            let closed = try await createProject(h, name: "Old survey", ["state": "closed"])
            let active = try await listIds(h, "/v1/projects?state=active")
            #expect(active == [activeProject])
            let closedIds = try await listIds(h, "/v1/projects?state=closed")
            #expect(closedIds == [closed])

            let widget = try await createProduct(h, name: "Widget", ["sku": "W-001"])
            _ = try await createProduct(h, name: "Widget XL", ["sku": "W-0011"])
            let bySku = try await listIds(h, "/v1/products?sku=W-001")
            #expect(bySku == [widget])
        }
    }

    @Test("attr.<key>=<value> filters are typed, repeatable, and skip deleted objects")
    func attributeFilters() async throws {
        try await Harness.run { h in
            let olga = try await createEmployee(h, name: "Olga")
            let ivan = try await createEmployee(h, name: "Ivan")
            try await addAttribute(h, kind: "counterparty", ["name": "VIP", "key": "vip", "type": "boolean"])
            try await addAttribute(h, kind: "counterparty", [
                "name": "Region", "key": "region", "type": "enum", "options": ["North", "South"],
            ])
            try await addAttribute(h, kind: "counterparty", ["name": "Score", "key": "score", "type": "integer"])
            try await addAttribute(h, kind: "counterparty", [
                "name": "Manager", "key": "manager", "type": "reference", "referenceKind": "employee",
            ])
            let a = try await createCounterparty(h, name: "A")
            let b = try await createCounterparty(h, name: "B")
            let c = try await createCounterparty(h, name: "C")
            let d = try await createCounterparty(h, name: "D")
            let gone = try await createCounterparty(h, name: "Gone")
            try await setValues(h, kind: "counterparty", objectId: a, ["vip": true, "region": "North", "score": 3, "manager": olga])
            try await setValues(h, kind: "counterparty", objectId: b, ["vip": true, "region": "South", "score": 30, "manager": ivan])
            try await setValues(h, kind: "counterparty", objectId: c, ["vip": false, "region": "North", "score": 13])
            try await setValues(h, kind: "counterparty", objectId: gone, ["vip": true, "region": "North", "score": 3])
            try await deleteObject(h, "counterparties", gone)
            _ = d

            let vip = try await listIds(h, "/v1/counterparties?attr.vip=true")
            #expect(Set(vip) == [a, b])
            #expect(vip.count == 2)
            let notVip = try await listIds(h, "/v1/counterparties?attr.vip=false")
            #expect(notVip.contains(c) && !notVip.contains(a) && !notVip.contains(b) && !notVip.contains(gone), "\(notVip)")
            let north = try await listIds(h, "/v1/counterparties?attr.region=North")
            #expect(Set(north) == [a, c])
            let score3 = try await listIds(h, "/v1/counterparties?attr.score=3")
            #expect(score3 == [a], "integers match as integers, not substrings")
            let managed = try await listIds(h, "/v1/counterparties?attr.manager=\(olga)")
            #expect(managed == [a])
            let both = try await listIds(h, "/v1/counterparties?attr.vip=true&attr.region=South")
            #expect(both == [b])
            let none = try await listIds(h, "/v1/counterparties?attr.vip=true&attr.region=North&attr.score=30")
            #expect(none.isEmpty)
            let withDeleted = try await listIds(h, "/v1/counterparties?attr.vip=true&includeDeleted=true")
            #expect(Set(withDeleted) == [a, b, gone])
            let combined = try await listIds(h, "/v1/counterparties?attr.region=North&q=c")
            #expect(combined == [c])
        }
    }

    @Test("limit and cursor page through every item exactly once")
    func pagination() async throws {
        try await Harness.run { h in
            var created: [String] = []
            for index in 1...5 {
                let id = try await createCounterparty(h, name: "Client \(index)")
                created.append(id)
            }
            var seen: [String] = []
            var pageSizes: [Int] = []
            var cursor: String?
            var pages = 0
            repeat {
                var path = "/v1/counterparties?limit=2"
                if let cursor { path += "&cursor=\(queryEscape(cursor))" }
                let response = try await h.request(.get, path)
                try #require(response.status == 200, "\(path): \(response.status) \(response.text)")
                let ids = response.items.compactMap { str($0["id"]) }
                seen += ids
                pageSizes.append(ids.count)
                cursor = str(response.object["nextCursor"])
                #expect(cursor != nil || isNull(response.object["nextCursor"]), "nextCursor is a string or null")
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pageSizes == [2, 2, 1])
            #expect(seen.count == 5)
            #expect(Set(seen) == Set(created))
        }
    }

    @Test("limit defaults to 50 and may be up to 500")
    func defaultAndMaximumLimit() async throws {
        try await Harness.run { h in
            for index in 1...52 {
                _ = try await createProduct(h, name: "Product \(index)")
            }
            let first = try await h.request(.get, "/v1/products")
            expectStatus(first, 200)
            #expect(first.items.count == 50)
            let cursor = try #require(str(first.object["nextCursor"]), "a next page: \(first.text.suffix(200))")
            let second = try await h.request(.get, "/v1/products?cursor=\(queryEscape(cursor))")
            expectStatus(second, 200)
            #expect(second.items.count == 2)
            #expect(isNull(second.object["nextCursor"]))
            let firstIds = Set(first.items.compactMap { str($0["id"]) })
            let secondIds = Set(second.items.compactMap { str($0["id"]) })
            #expect(firstIds.isDisjoint(with: secondIds))

            let all = try await h.request(.get, "/v1/products?limit=500")
            expectStatus(all, 200)
            #expect(all.items.count == 52)
            #expect(isNull(all.object["nextCursor"]))
        }
    }

    @Test("A bad limit is a 422 naming limit; a foreign cursor is refused")
    func badLimitAndCursor() async throws {
        try await Harness.run { h in
            for limit in ["0", "501", "-1", "ten", "1.5"] {
                let response = try await h.request(.get, "/v1/counterparties?limit=\(limit)")
                expectProblem(response, status: 422, fields: ["limit"])
            }
            let products = try await h.request(.get, "/v1/products?limit=0")
            expectProblem(products, status: 422, fields: ["limit"])
            let cursor = try await h.request(.get, "/v1/contacts?cursor=not-a-cursor")
            #expect([400, 422].contains(cursor.status), "bad cursor: \(cursor.status) \(cursor.text)")
            #expect(cursor.headers[.contentType]?.hasPrefix("application/problem+json") == true)
        }
    }
}
