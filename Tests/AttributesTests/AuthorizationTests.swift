import Foundation
import HTTPTypes
import ServiceKit
import Testing
import TestSupport

@Suite("Authorization")
struct AuthorizationTests {
    @Test("A manager reads sets but cannot change them (403), and nothing changes")
    func managerCannotChangeSets() async throws {
        try await Harness.run { h in
            let id = try await addAttribute(h, kind: "counterparty", ["name": "VIP", "key": "vip", "type": "boolean"])
            let before = try await attributeSet(h, kind: "counterparty")

            let read = try await h.request(.get, "/v1/attribute-sets/counterparty", role: .manager)
            expectStatus(read, 200)
            let add = try await h.request(
                .post, "/v1/attribute-sets/counterparty/attributes", role: .manager,
                json: #"{"name":"Region","type":"enum","options":["North"]}"#)
            expectProblem(add, status: 403)
            let patch = try await patchAttribute(h, kind: "counterparty", id: id, ["name": "Very important"], role: .manager)
            expectProblem(patch, status: 403)
            let move = try await patchAttribute(h, kind: "counterparty", id: id, ["position": 1], role: .manager)
            expectProblem(move, status: 403)
            let retire = try await h.request(.delete, "/v1/attribute-sets/counterparty/attributes/\(id)", role: .manager)
            expectProblem(retire, status: 403)

            let after = try await attributeSet(h, kind: "counterparty")
            #expect(after.keys == ["vip"])
            #expect(str(after.attribute("vip")?["name"]) == "VIP")
            #expect(after.version == before.version)
        }
    }

    @Test("A viewer reads everything but writes nothing: sets, catalogs and values are 403")
    func viewerIsReadOnly() async throws {
        try await Harness.run { h in
            let attribute = try await addAttribute(h, kind: "counterparty", ["name": "VIP", "key": "vip", "type": "boolean"])
            let acme = try await createCounterparty(h, name: "Acme")
            try await setValues(h, kind: "counterparty", objectId: acme, ["vip": true])

            // The card's version before the viewer tries anything (setting the VIP value above
            // already gave it a new version).
            let versionBefore = intValue(try await fetch(h, "/v1/counterparties/\(acme)")["version"])

            // Reads.
            let reads = [
                "/v1/attribute-sets/counterparty", "/v1/counterparties", "/v1/counterparties/\(acme)",
                "/v1/attribute-values/counterparty/\(acme)", "/v1/products",
            ]
            for path in reads {
                let response = try await h.request(.get, path, role: .viewer)
                #expect(response.status == 200, "viewer GET \(path): \(response.status) \(response.text)")
            }

            // Set writes.
            let add = try await h.request(
                .post, "/v1/attribute-sets/counterparty/attributes", role: .viewer, json: #"{"name":"Region","type":"string"}"#)
            expectProblem(add, status: 403)
            let patch = try await patchAttribute(h, kind: "counterparty", id: attribute, ["name": "X"], role: .viewer)
            expectProblem(patch, status: 403)
            let retire = try await h.request(.delete, "/v1/attribute-sets/counterparty/attributes/\(attribute)", role: .viewer)
            expectProblem(retire, status: 403)

            // Catalog writes, in every catalog.
            let creations: [(String, String)] = [
                ("counterparties", #"{"name":"Globex"}"#),
                ("contacts", #"{"name":"Pavel","counterpartyId":"\#(acme)"}"#),
                ("employees", #"{"name":"Olga"}"#),
                ("projects", #"{"name":"Survey"}"#),
                ("deals", #"{"name":"Supply","counterpartyId":"\#(acme)"}"#),
                ("products", #"{"name":"Widget"}"#),
            ]
            for (catalog, body) in creations {
                let response = try await h.request(.post, "/v1/\(catalog)", role: .viewer, json: body)
                expectProblem(response, status: 403)
            }
            let patchCounterparty = try await h.request(
                .patch, "/v1/counterparties/\(acme)", role: .viewer, json: #"{"name":"Hacked"}"#)
            expectProblem(patchCounterparty, status: 403)
            let patchAttributes = try await h.request(
                .patch, "/v1/counterparties/\(acme)", role: .viewer, json: #"{"attributes":{"vip":false}}"#)
            expectProblem(patchAttributes, status: 403)
            let delete = try await h.request(.delete, "/v1/counterparties/\(acme)", role: .viewer)
            expectProblem(delete, status: 403)

            // Value writes.
            let values = try await patchValues(h, kind: "counterparty", objectId: acme, ["vip": false], role: .viewer)
            expectProblem(values, status: 403)

            // Nothing changed.
            let counterparties = try await listIds(h, "/v1/counterparties?includeDeleted=true")
            #expect(counterparties == [acme])
            for catalog in ["contacts", "employees", "projects", "deals", "products"] {
                let ids = try await listIds(h, "/v1/\(catalog)?includeDeleted=true")
                #expect(ids.isEmpty, "viewer created a \(catalog) item")
            }
            let card = try await fetch(h, "/v1/counterparties/\(acme)")
            #expect(str(card["name"]) == "Acme")
            #expect(boolValue(card["deleted"]) == false)
            #expect(intValue(card["version"]) == versionBefore)
            let stored = try await attributeValues(h, kind: "counterparty", objectId: acme)
            #expect(boolValue(stored.values["vip"]) == true)
            let set = try await attributeSet(h, kind: "counterparty")
            #expect(set.keys == ["vip"])
            #expect(str(set.attribute("vip")?["name"]) == "VIP")
        }
    }

    @Test("An integration client gets 403 on attribute sets, reads included")
    func integrationForbiddenOnSets() async throws {
        try await Harness.run { h in
            let id = try await addAttribute(h, kind: "counterparty", ["name": "VIP", "key": "vip", "type": "boolean"])
            let read = try await h.request(.get, "/v1/attribute-sets/counterparty", role: .integration)
            expectProblem(read, status: 403)
            let readEvent = try await h.request(.get, "/v1/attribute-sets/event", role: .integration)
            expectProblem(readEvent, status: 403)
            let add = try await h.request(
                .post, "/v1/attribute-sets/counterparty/attributes", role: .integration,
                json: #"{"name":"Region","type":"string"}"#)
            expectProblem(add, status: 403)
            let patch = try await patchAttribute(h, kind: "counterparty", id: id, ["name": "X"], role: .integration)
            expectProblem(patch, status: 403)
            let retire = try await h.request(.delete, "/v1/attribute-sets/counterparty/attributes/\(id)", role: .integration)
            expectProblem(retire, status: 403)
            let set = try await attributeSet(h, kind: "counterparty")
            #expect(set.keys == ["vip"])
            #expect(str(set.attribute("vip")?["name"]) == "VIP")
        }
    }

    @Test("Without a token every endpoint is 401 with a Bearer challenge")
    func noToken() async throws {
        try await Harness.run { h in
            let acme = try await createCounterparty(h, name: "Acme")
            let attribute = try await addAttribute(h, kind: "counterparty", ["name": "VIP", "key": "vip", "type": "boolean"])
            let requests: [(HTTPRequest.Method, String, String?)] = [
                (.get, "/v1/attribute-sets/counterparty", nil),
                (.post, "/v1/attribute-sets/counterparty/attributes", #"{"name":"Region","type":"string"}"#),
                (.patch, "/v1/attribute-sets/counterparty/attributes/\(attribute)", #"{"name":"X"}"#),
                (.delete, "/v1/attribute-sets/counterparty/attributes/\(attribute)", nil),
                (.get, "/v1/counterparties", nil),
                (.get, "/v1/counterparties/\(acme)", nil),
                (.post, "/v1/counterparties", #"{"name":"Globex"}"#),
                (.patch, "/v1/counterparties/\(acme)", #"{"name":"X"}"#),
                (.delete, "/v1/counterparties/\(acme)", nil),
                (.get, "/v1/products", nil),
                (.get, "/v1/attribute-values/counterparty/\(acme)", nil),
                (.patch, "/v1/attribute-values/counterparty/\(acme)", #"{"values":{"vip":true}}"#),
            ]
            for (method, path, body) in requests {
                let response = try await h.request(method, path, role: nil, json: body)
                #expect(response.status == 401, "\(method) \(path) without a token: \(response.status)")
                expectProblem(response, status: 401)
                #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            }
            let card = try await fetch(h, "/v1/counterparties/\(acme)")
            #expect(str(card["name"]) == "Acme")
            #expect(boolValue(card["deleted"]) == false)
            let set = try await attributeSet(h, kind: "counterparty")
            #expect(set.keys == ["vip"])
        }
    }
}
