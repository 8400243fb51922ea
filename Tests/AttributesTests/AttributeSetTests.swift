import Foundation
import HTTPTypes
import Testing
import TestSupport

@Suite("Attribute sets")
struct AttributeSetTests {
    static let kinds = [
        "counterparty", "contact", "employee", "project", "deal", "product", "event", "customer-order",
        "supplier-order",
    ]

    @Test("Every kind has a set, empty at first: {kind, version, attributes: []}")
    func emptySets() async throws {
        try await Harness.run { h in
            for kind in Self.kinds {
                let response = try await h.request(.get, "/v1/attribute-sets/\(kind)")
                expectStatus(response, 200)
                #expect(str(response.object["kind"]) == kind)
                #expect(intValue(response.object["version"]) != nil, "no integer version: \(response.text)")
                #expect((response.object["attributes"] as? [Any])?.isEmpty == true, "\(response.text)")
            }
        }
    }

    @Test("An unknown kind is not a set")
    func unknownKind() async throws {
        try await Harness.run { h in
            let read = try await h.request(.get, "/v1/attribute-sets/widget")
            #expect([404, 422].contains(read.status), "GET unknown kind: \(read.status) \(read.text)")
            #expect(read.headers[.contentType]?.hasPrefix("application/problem+json") == true)
            let add = try await h.request(
                .post, "/v1/attribute-sets/widget/attributes", json: #"{"name":"VIP","type":"boolean"}"#)
            #expect([404, 422].contains(add.status), "POST to unknown kind: \(add.status) \(add.text)")
        }
    }

    @Test("Attributes of every type are created with every member of the contract")
    func everyType() async throws {
        try await Harness.run { h in
            let definitions: [[String: Any]] = [
                ["name": "Flag", "key": "flag", "type": "boolean"],
                ["name": "Label", "key": "label", "type": "string", "description": "Short label"],
                ["name": "Notes", "key": "notes", "type": "text"],
                ["name": "Count", "key": "count", "type": "integer", "required": true],
                ["name": "Ratio", "key": "ratio", "type": "decimal"],
                ["name": "Since", "key": "since", "type": "date"],
                ["name": "At", "key": "at", "type": "datetime"],
                ["name": "Tier", "key": "tier", "type": "enum", "options": ["Gold", "Silver"]],
                ["name": "Owner", "key": "owner", "type": "reference", "referenceKind": "employee"],
            ]
            for definition in definitions {
                let response = try await h.request(
                    .post, "/v1/attribute-sets/counterparty/attributes", json: try jsonBody(definition))
                expectStatus(response, 201)
            }
            let set = try await attributeSet(h, kind: "counterparty")
            #expect(set.keys == ["flag", "label", "notes", "count", "ratio", "since", "at", "tier", "owner"])
            #expect(set.positions == Array(1...9))
            for attribute in set.attributes {
                for member in ["id", "key", "name", "type", "options", "referenceKind", "required", "position", "description"] {
                    #expect(attribute.keys.contains(member), "attribute lacks \(member): \(attribute)")
                }
                #expect(str(attribute["id"])?.isEmpty == false)
            }
            #expect(set.attributes.compactMap { str($0["type"]) } == [
                "boolean", "string", "text", "integer", "decimal", "date", "datetime", "enum", "reference",
            ])
            #expect(strings(set.attribute("tier")?["options"]) == ["Gold", "Silver"])
            #expect(str(set.attribute("owner")?["referenceKind"]) == "employee")
            #expect(boolValue(set.attribute("count")?["required"]) == true)
            #expect(boolValue(set.attribute("flag")?["required"]) == false, "required defaults to false")
            #expect(str(set.attribute("label")?["description"]) == "Short label")
            #expect(str(set.attribute("label")?["name"]) == "Label")
            let ids = set.attributes.compactMap { str($0["id"]) }
            #expect(Set(ids).count == 9, "ids are unique")
        }
    }

    @Test("The key defaults to a slug of the name")
    func keyDefaultsToSlug() async throws {
        try await Harness.run { h in
            try await addAttribute(h, kind: "counterparty", ["name": "VIP", "type": "boolean"])
            let set = try await attributeSet(h, kind: "counterparty")
            #expect(set.keys == ["vip"])
            #expect(str(set.attribute("vip")?["name"]) == "VIP")
        }
    }

    @Test("Keys are unique per kind: a duplicate is a 409 and changes nothing")
    func duplicateKey() async throws {
        try await Harness.run { h in
            try await addAttribute(h, kind: "counterparty", ["name": "VIP", "key": "vip", "type": "boolean"])
            let before = try await attributeSet(h, kind: "counterparty")

            let same = try await h.request(
                .post, "/v1/attribute-sets/counterparty/attributes",
                json: #"{"name":"Very important","key":"vip","type":"string"}"#)
            expectProblem(same, status: 409)
            let slugged = try await h.request(
                .post, "/v1/attribute-sets/counterparty/attributes", json: #"{"name":"VIP","type":"boolean"}"#)
            expectProblem(slugged, status: 409)

            let after = try await attributeSet(h, kind: "counterparty")
            #expect(after.keys == ["vip"])
            #expect(after.version == before.version)
            #expect(str(after.attribute("vip")?["type"]) == "boolean")

            // The same key in another kind's set is fine.
            try await addAttribute(h, kind: "contact", ["name": "VIP", "key": "vip", "type": "boolean"])
            let contactSet = try await attributeSet(h, kind: "contact")
            #expect(contactSet.keys == ["vip"])
        }
    }

    @Test("Invalid definitions are 422 naming every bad field, and the set is unchanged")
    func invalidDefinitions() async throws {
        try await Harness.run { h in
            try await addAttribute(h, kind: "counterparty", ["name": "Region", "type": "enum", "options": ["North"]])
            let before = try await attributeSet(h, kind: "counterparty")
            let cases: [(body: String, fields: [String])] = [
                (#"{"name":"Tier","type":"enum"}"#, ["options"]),
                (#"{"name":"Tier","type":"enum","options":[]}"#, ["options"]),
                (#"{"name":"Owner","type":"reference"}"#, ["referenceKind"]),
                (#"{"name":"Owner","type":"reference","referenceKind":"planet"}"#, ["referenceKind"]),
                (#"{"name":"Origin","type":"reference","referenceKind":"event"}"#, ["referenceKind"]),
                (#"{"name":"Colour","type":"colour"}"#, ["type"]),
                (#"{"name":"Colour"}"#, ["type"]),
                (#"{"type":"boolean"}"#, ["name"]),
                (#"{"type":"enum"}"#, ["name", "options"]),
            ]
            for (body, fields) in cases {
                let response = try await h.request(.post, "/v1/attribute-sets/counterparty/attributes", json: body)
                expectProblem(response, status: 422, fields: fields)
            }
            // Wrong JSON types: a 400 or a 422, naming the field either way.
            let wrongTypes: [(body: String, field: String)] = [
                (#"{"name":"Flag","type":"boolean","position":"first"}"#, "position"),
                (#"{"name":"Flag","type":"boolean","required":"yes"}"#, "required"),
                (#"{"name":"Tier","type":"enum","options":"Gold"}"#, "options"),
            ]
            for (body, field) in wrongTypes {
                let response = try await h.request(.post, "/v1/attribute-sets/counterparty/attributes", json: body)
                expectRejected(response, fields: [field])
            }
            let after = try await attributeSet(h, kind: "counterparty")
            #expect(after.keys == ["region"])
            #expect(after.version == before.version)
        }
    }

    @Test("Without a position an attribute goes last")
    func positionDefaultsToLast() async throws {
        try await Harness.run { h in
            for name in ["Alpha", "Bravo", "Charlie"] {
                try await addAttribute(h, kind: "product", ["name": name, "key": name.lowercased(), "type": "string"])
            }
            let set = try await attributeSet(h, kind: "product")
            #expect(set.keys == ["alpha", "bravo", "charlie"])
            #expect(set.positions == [1, 2, 3])
        }
    }

    @Test("Insert at 1 of three, move 3 → 1, retire one: positions stay a dense 1…n")
    func densePositions() async throws {
        try await Harness.run { h in
            for key in ["a", "b", "c"] {
                try await addAttribute(h, kind: "counterparty", ["name": key.uppercased(), "key": key, "type": "string"])
            }
            let set1 = try await attributeSet(h, kind: "counterparty")
            #expect(set1.keys == ["a", "b", "c"])
            #expect(set1.positions == [1, 2, 3])
            let version1 = try #require(set1.version)

            // Insert d at position 1: everything shifts down by one.
            try await addAttribute(h, kind: "counterparty", ["name": "D", "key": "d", "type": "string", "position": 1])
            let set2 = try await attributeSet(h, kind: "counterparty")
            #expect(set2.keys == ["d", "a", "b", "c"])
            #expect(set2.positions == [1, 2, 3, 4])
            #expect((set2.version ?? 0) > version1)
            let version2 = set2.version ?? version1

            // Move the attribute at position 3 (b) to position 1.
            let b = try #require(set2.id(of: "b"))
            let moved = try await patchAttribute(h, kind: "counterparty", id: b, ["position": 1])
            expectStatus(moved, 200)
            let set3 = try await attributeSet(h, kind: "counterparty")
            #expect(set3.keys == ["b", "d", "a", "c"])
            #expect(set3.positions == [1, 2, 3, 4])
            #expect((set3.version ?? 0) > version2)
            let version3 = set3.version ?? version2

            // Retire the one in the middle (d, at position 2).
            let d = try #require(set3.id(of: "d"))
            try await retireAttribute(h, kind: "counterparty", id: d)
            let set4 = try await attributeSet(h, kind: "counterparty")
            #expect(set4.keys == ["b", "a", "c"])
            #expect(set4.positions == [1, 2, 3])
            #expect((set4.version ?? 0) > version3)
        }
    }

    @Test("Retiring the middle one of three leaves positions 1 and 2")
    func retireMiddleOfThree() async throws {
        try await Harness.run { h in
            for key in ["a", "b", "c"] {
                try await addAttribute(h, kind: "deal", ["name": key.uppercased(), "key": key, "type": "string"])
            }
            let set = try await attributeSet(h, kind: "deal")
            let b = try #require(set.id(of: "b"))
            try await retireAttribute(h, kind: "deal", id: b)
            let after = try await attributeSet(h, kind: "deal")
            #expect(after.keys == ["a", "c"])
            #expect(after.positions == [1, 2])
            // A new attribute without position now goes to 3.
            try await addAttribute(h, kind: "deal", ["name": "E", "key": "e", "type": "string"])
            let last = try await attributeSet(h, kind: "deal")
            #expect(last.keys == ["a", "c", "e"])
            #expect(last.positions == [1, 2, 3])
        }
    }

    @Test("Moving down (1 → 3) shifts the ones in between up")
    func moveDown() async throws {
        try await Harness.run { h in
            for key in ["a", "b", "c", "d"] {
                try await addAttribute(h, kind: "employee", ["name": key.uppercased(), "key": key, "type": "string"])
            }
            let set = try await attributeSet(h, kind: "employee")
            let a = try #require(set.id(of: "a"))
            let moved = try await patchAttribute(h, kind: "employee", id: a, ["position": 3])
            expectStatus(moved, 200)
            let after = try await attributeSet(h, kind: "employee")
            #expect(after.keys == ["b", "c", "a", "d"])
            #expect(after.positions == [1, 2, 3, 4])
        }
    }

    @Test("PATCH renames, adds enum options, changes required and description; the key stays")
    func patchAttributeMembers() async throws {
        // Raw JSON bodies here: passing [String: Any] through this many awaits crashes the
        // Swift 6.3.1 SendNonSendable pass.
        try await Harness.run { h in
            let created = try await h.request(
                .post, "/v1/attribute-sets/counterparty/attributes",
                json: #"{"name":"Region","key":"region","type":"enum","options":["North","South"]}"#)
            #expect(created.status == 201, "\(created.text)")
            let id = try #require(str(created.object["id"]))
            let version1 = try #require(try await attributeSet(h, kind: "counterparty").version)

            let renamed = try await h.request(
                .patch, "/v1/attribute-sets/counterparty/attributes/\(id)", json: #"{"name":"Sales region"}"#)
            #expect(renamed.status == 200, "\(renamed.text)")
            let set1 = try await attributeSet(h, kind: "counterparty")
            #expect(str(set1.attribute("region")?["name"]) == "Sales region")
            #expect(set1.keys == ["region"], "renaming keeps the key")
            let version2 = try #require(set1.version)
            #expect(version2 > version1)

            let options = try await h.request(
                .patch, "/v1/attribute-sets/counterparty/attributes/\(id)", json: #"{"options":["North","South","East"]}"#)
            #expect(options.status == 200, "\(options.text)")
            let set2 = try await attributeSet(h, kind: "counterparty")
            #expect(strings(set2.attribute("region")?["options"]) == ["North", "South", "East"])
            let version3 = try #require(set2.version)
            #expect(version3 > version2)

            let required = try await h.request(
                .patch, "/v1/attribute-sets/counterparty/attributes/\(id)",
                json: #"{"required":true,"description":"Where the client buys"}"#)
            #expect(required.status == 200, "\(required.text)")
            let set3 = try await attributeSet(h, kind: "counterparty")
            let region = set3.attribute("region")
            #expect(boolValue(region?["required"]) == true)
            #expect(str(region?["description"]) == "Where the client buys")
            #expect(str(region?["type"]) == "enum")
            #expect(str(region?["name"]) == "Sales region", "fields not in the PATCH are kept")
            #expect((set3.version ?? 0) > version3)

            // The new option is usable at once.
            let counterparty = try await h.request(.post, "/v1/counterparties", json: #"{"name":"Acme"}"#)
            let counterpartyId = try #require(str(counterparty.object["id"]))
            let east = try await h.request(
                .patch, "/v1/attribute-values/counterparty/\(counterpartyId)", json: #"{"values":{"region":"East"}}"#)
            #expect(east.status == 200, "\(east.text)")
        }
    }

    @Test("The type of an attribute never changes: 422 and the attribute is untouched")
    func typeNeverChanges() async throws {
        try await Harness.run { h in
            let id = try await addAttribute(h, kind: "counterparty", ["name": "VIP", "key": "vip", "type": "boolean"])
            let before = try await attributeSet(h, kind: "counterparty")
            let response = try await patchAttribute(h, kind: "counterparty", id: id, ["type": "string", "name": "V.I.P."])
            expectProblem(response, status: 422, fields: ["type"])
            let after = try await attributeSet(h, kind: "counterparty")
            #expect(str(after.attribute("vip")?["type"]) == "boolean")
            #expect(str(after.attribute("vip")?["name"]) == "VIP", "nothing of a rejected PATCH is stored")
            #expect(after.version == before.version)
        }
    }

    @Test("Unknown attribute ids are 404")
    func unknownAttribute() async throws {
        try await Harness.run { h in
            let id = try await addAttribute(h, kind: "counterparty", ["name": "VIP", "type": "boolean"])
            let patch = try await patchAttribute(h, kind: "counterparty", id: newId(), ["name": "Other"])
            expectProblem(patch, status: 404)
            let delete = try await h.request(.delete, "/v1/attribute-sets/counterparty/attributes/\(newId())")
            expectProblem(delete, status: 404)
            // An attribute of one kind is unknown under another.
            let wrongKind = try await patchAttribute(h, kind: "contact", id: id, ["name": "Other"])
            expectProblem(wrongKind, status: 404)
        }
    }

    @Test("A retired attribute leaves the set, the cards and the values; other values stay")
    func retiredAttributeDisappears() async throws {
        try await Harness.run { h in
            let vip = try await addAttribute(h, kind: "counterparty", ["name": "VIP", "key": "vip", "type": "boolean"])
            try await addAttribute(h, kind: "counterparty", [
                "name": "Region", "key": "region", "type": "enum", "options": ["North", "South"],
            ])
            let counterparty = try await createCounterparty(h, name: "Acme")
            try await setValues(h, kind: "counterparty", objectId: counterparty, ["vip": true, "region": "South"])

            try await retireAttribute(h, kind: "counterparty", id: vip)

            let set = try await attributeSet(h, kind: "counterparty")
            #expect(set.keys == ["region"])
            #expect(set.positions == [1])
            let card = try await fetch(h, "/v1/counterparties/\(counterparty)")
            #expect(cardAttributes(card).compactMap { str($0["key"]) } == ["region"])
            #expect(intValue(cardEntry(card, key: "region")?["position"]) == 1)
            let values = try await attributeValues(h, kind: "counterparty", objectId: counterparty)
            #expect(values.values["vip"] == nil, "a retired attribute's value is not shown: \(values.values)")
            #expect(str(values.values["region"]) == "South")

            // Retiring twice: the attribute is gone.
            let again = try await h.request(.delete, "/v1/attribute-sets/counterparty/attributes/\(vip)")
            #expect([404, 409].contains(again.status), "retiring a retired attribute: \(again.status) \(again.text)")
            // And it can no longer be set.
            let write = try await patchValues(h, kind: "counterparty", objectId: counterparty, ["vip": false])
            expectProblem(write, status: 422, fields: ["vip"])
        }
    }
}
