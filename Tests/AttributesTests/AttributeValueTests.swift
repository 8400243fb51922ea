import Foundation
import HTTPTypes
import Testing
import TestSupport

/// One attribute of every type on the counterparty set; returns the id of the employee that
/// the reference attribute `owner` may point at.
private func addTypedAttributes(_ h: Harness) async throws -> String {
    let definitions: [[String: Any]] = [
        ["name": "Flag", "key": "flag", "type": "boolean"],
        ["name": "Label", "key": "label", "type": "string"],
        ["name": "Notes", "key": "notes", "type": "text"],
        ["name": "Count", "key": "count", "type": "integer"],
        ["name": "Ratio", "key": "ratio", "type": "decimal"],
        ["name": "Since", "key": "since", "type": "date"],
        ["name": "At", "key": "at", "type": "datetime"],
        ["name": "Tier", "key": "tier", "type": "enum", "options": ["Gold", "Silver"]],
        ["name": "Owner", "key": "owner", "type": "reference", "referenceKind": "employee"],
    ]
    for definition in definitions {
        try await addAttribute(h, kind: "counterparty", definition)
    }
    return try await createEmployee(h, name: "Olga Ivanova")
}

/// Good values of every type, as JSON values.
private func goodValues(owner: String) -> [String: Any] {
    [
        "flag": true, "label": "Key account", "notes": "Long text\nover lines", "count": 3, "ratio": "1.25",
        "since": "2026-12-01", "at": "2026-12-01T10:00:00+03:00", "tier": "Gold", "owner": owner,
    ]
}

/// Checks that `values` hold exactly `goodValues(owner:)` (in the forms the API may echo them).
private func expectGoodValues(
    _ values: [String: Any], owner: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(boolValue(values["flag"]) == true, "flag: \(values)", sourceLocation: sourceLocation)
    #expect(str(values["label"]) == "Key account", sourceLocation: sourceLocation)
    #expect(str(values["notes"]) == "Long text\nover lines", sourceLocation: sourceLocation)
    #expect(intValue(values["count"]) == 3, sourceLocation: sourceLocation)
    #expect(decimalValue(values["ratio"]) == 1.25, "ratio: \(String(describing: values["ratio"]))", sourceLocation: sourceLocation)
    #expect(str(values["since"]) == "2026-12-01", sourceLocation: sourceLocation)
    #expect(
        sameInstant(values["at"], "2026-12-01T07:00:00Z"), "at: \(String(describing: values["at"]))",
        sourceLocation: sourceLocation)
    #expect(str(values["tier"]) == "Gold", sourceLocation: sourceLocation)
    #expect(str(values["owner"]) == owner, sourceLocation: sourceLocation)
}

@Suite("Attribute values")
struct AttributeValueTests {
    @Test("A catalog object without values reads as {kind, objectId, version, values: {}}")
    func emptyValues() async throws {
        try await Harness.run { h in
            try await addAttribute(h, kind: "counterparty", ["name": "VIP", "key": "vip", "type": "boolean"])
            let counterparty = try await createCounterparty(h, name: "Acme")
            let response = try await h.request(.get, "/v1/attribute-values/counterparty/\(counterparty)")
            expectStatus(response, 200)
            #expect(str(response.object["kind"]) == "counterparty")
            #expect(str(response.object["objectId"]) == counterparty)
            #expect(intValue(response.object["version"]) != nil, "no integer version: \(response.text)")
            let values = dict(response.object["values"])
            #expect(response.object["values"] is [String: Any])
            #expect(values.allSatisfy { isNull($0.value) }, "nothing is set yet: \(values)")
        }
    }

    @Test("Good values of every type are stored and read back; the version grows")
    func goodValuesOfEveryType() async throws {
        try await Harness.run { h in
            let owner = try await addTypedAttributes(h)
            let counterparty = try await createCounterparty(h, name: "Acme")
            let before = try await attributeValues(h, kind: "counterparty", objectId: counterparty)

            let response = try await patchValues(h, kind: "counterparty", objectId: counterparty, goodValues(owner: owner))
            expectStatus(response, 200)
            let after = try await attributeValues(h, kind: "counterparty", objectId: counterparty)
            expectGoodValues(after.values, owner: owner)
            #expect((after.version ?? 0) > (before.version ?? 0))

            // Other good forms: a decimal as a JSON number, a UTC datetime with fractions, a
            // negative integer, the other enum option, false.
            try await setValues(h, kind: "counterparty", objectId: counterparty, [
                "ratio": 2.5, "at": "2026-12-01T07:00:00.250Z", "count": -4, "tier": "Silver", "flag": false,
            ])
            let again = try await attributeValues(h, kind: "counterparty", objectId: counterparty)
            #expect(decimalValue(again.values["ratio"]) == 2.5)
            #expect(sameInstant(again.values["at"], "2026-12-01T07:00:00.250Z"), "at: \(String(describing: again.values["at"]))")
            #expect(intValue(again.values["count"]) == -4)
            #expect(str(again.values["tier"]) == "Silver")
            #expect(boolValue(again.values["flag"]) == false)
            #expect(str(again.values["label"]) == "Key account", "keys not in the PATCH are kept")
            #expect((again.version ?? 0) > (after.version ?? 0))

            // The card shows the same values, in set order.
            let card = try await fetch(h, "/v1/counterparties/\(counterparty)")
            #expect(cardAttributes(card).compactMap { str($0["key"]) } == [
                "flag", "label", "notes", "count", "ratio", "since", "at", "tier", "owner",
            ])
            #expect(str(cardEntry(card, key: "owner")?["value"]) == owner)
            #expect(intValue(cardEntry(card, key: "count")?["value"]) == -4)
        }
    }

    @Test("A bad value of each type is a 422 naming its key, and nothing changes")
    func badValueOfEachType() async throws {
        try await Harness.run { h in
            let owner = try await addTypedAttributes(h)
            let counterparty = try await createCounterparty(h, name: "Acme")
            let retiredEmployee = try await createEmployee(h, name: "Gone Away")
            try await deleteObject(h, "employees", retiredEmployee)
            try await setValues(h, kind: "counterparty", objectId: counterparty, goodValues(owner: owner))
            let baseline = try await attributeValues(h, kind: "counterparty", objectId: counterparty)

            // (key, a bad JSON value for it)
            let cases: [(key: String, json: String)] = [
                ("flag", #""yes""#), ("flag", "1"), ("flag", #""true""#),
                ("label", "5"), ("label", "true"), ("label", #"["a"]"#),
                ("notes", "5"), ("notes", #"{"a":1}"#),
                ("count", "1.5"), ("count", #""3""#), ("count", "true"),
                ("ratio", #""abc""#), ("ratio", #""1,5""#), ("ratio", "true"),
                ("since", #""01.12.2026""#), ("since", #""2026-13-01""#), ("since", #""2026-02-30""#), ("since", "20261201"),
                ("at", #""2026-12-01T10:00:00""#), ("at", #""2026-12-01""#), ("at", #""soon""#),
                ("tier", #""Bronze""#), ("tier", "1"),
                ("owner", "\"\(newId())\""), ("owner", "\"\(counterparty)\""), ("owner", "\"\(retiredEmployee)\""),
                ("owner", #""not-a-uuid""#), ("owner", "5"),
                ("nope", "true"),
            ]
            for (key, json) in cases {
                let response = try await h.request(
                    .patch, "/v1/attribute-values/counterparty/\(counterparty)", json: #"{"values":{"\#(key)":\#(json)}}"#)
                #expect(response.status == 422, "\(key) = \(json) answered \(response.status): \(response.text)")
                expectProblem(response, status: 422, fields: [key])
            }

            let after = try await attributeValues(h, kind: "counterparty", objectId: counterparty)
            expectGoodValues(after.values, owner: owner)
            #expect(after.version == baseline.version)
        }
    }

    @Test("A PATCH with several bad keys lists every one of them and stores nothing, not even its good keys")
    func allBadKeysListed() async throws {
        try await Harness.run { h in
            let owner = try await addTypedAttributes(h)
            let counterparty = try await createCounterparty(h, name: "Acme")
            try await setValues(h, kind: "counterparty", objectId: counterparty, goodValues(owner: owner))
            let baseline = try await attributeValues(h, kind: "counterparty", objectId: counterparty)

            let body = """
                {"values":{"flag":"yes","label":7,"notes":false,"count":"3","ratio":"abc","since":"2026-13-01",\
                "at":"2026-12-01T10:00:00","tier":"Bronze","owner":"\(newId())","nope":1,"unknownToo":"x"}}
                """
            let response = try await h.request(.patch, "/v1/attribute-values/counterparty/\(counterparty)", json: body)
            let bad = ["flag", "label", "notes", "count", "ratio", "since", "at", "tier", "owner", "nope", "unknownToo"]
            let fields = expectProblem(response, status: 422, fields: bad)
            #expect(fields.count >= bad.count, "one entry per bad key: \(fields)")

            // One bad key among good ones: the good ones are not stored either.
            let mixed = try await patchValues(h, kind: "counterparty", objectId: counterparty, [
                "label": "Changed", "count": 99, "tier": "Bronze",
            ])
            let mixedFields = expectProblem(mixed, status: 422, fields: ["tier"])
            #expect(!mixedFields.contains { fieldMentions($0, "label") || fieldMentions($0, "count") })

            let after = try await attributeValues(h, kind: "counterparty", objectId: counterparty)
            expectGoodValues(after.values, owner: owner)
            #expect(after.version == baseline.version)
        }
    }

    @Test("null clears a value")
    func nullClears() async throws {
        try await Harness.run { h in
            let owner = try await addTypedAttributes(h)
            let counterparty = try await createCounterparty(h, name: "Acme")
            try await setValues(h, kind: "counterparty", objectId: counterparty, goodValues(owner: owner))
            let before = try await attributeValues(h, kind: "counterparty", objectId: counterparty)

            try await setValues(h, kind: "counterparty", objectId: counterparty, ["label": NSNull(), "owner": NSNull()])
            let after = try await attributeValues(h, kind: "counterparty", objectId: counterparty)
            #expect(isNullOrAbsent(after.values["label"]), "label: \(after.values)")
            #expect(isNullOrAbsent(after.values["owner"]))
            #expect(str(after.values["tier"]) == "Gold")
            #expect((after.version ?? 0) > (before.version ?? 0))

            let card = try await fetch(h, "/v1/counterparties/\(counterparty)")
            #expect(isNull(cardEntry(card, key: "label")?["value"]))
            #expect(str(cardEntry(card, key: "tier")?["value"]) == "Gold")
        }
    }

    @Test("A required attribute cannot be cleared")
    func requiredCannotBeCleared() async throws {
        try await Harness.run { h in
            let tier = try await addAttribute(h, kind: "counterparty", [
                "name": "Tier", "key": "tier", "type": "enum", "options": ["Gold", "Silver"],
            ])
            try await addAttribute(h, kind: "counterparty", ["name": "Label", "key": "label", "type": "string"])
            let counterparty = try await createCounterparty(h, name: "Acme")
            try await setValues(h, kind: "counterparty", objectId: counterparty, ["tier": "Gold", "label": "x"])
            let required = try await patchAttribute(h, kind: "counterparty", id: tier, ["required": true])
            expectStatus(required, 200)
            let baseline = try await attributeValues(h, kind: "counterparty", objectId: counterparty)

            let cleared = try await patchValues(
                h, kind: "counterparty", objectId: counterparty, ["tier": NSNull(), "label": NSNull()])
            let fields = expectProblem(cleared, status: 422, fields: ["tier"])
            #expect(!fields.contains { fieldMentions($0, "label") }, "label may be cleared: \(fields)")
            let after = try await attributeValues(h, kind: "counterparty", objectId: counterparty)
            #expect(str(after.values["tier"]) == "Gold")
            #expect(str(after.values["label"]) == "x", "nothing of the rejected PATCH is stored")
            #expect(after.version == baseline.version)

            // Changing it to another value is fine.
            try await setValues(h, kind: "counterparty", objectId: counterparty, ["tier": "Silver"])
            let changed = try await attributeValues(h, kind: "counterparty", objectId: counterparty)
            #expect(str(changed.values["tier"]) == "Silver")
        }
    }

    @Test("Values of an unknown object, or of an id of another kind, are 404")
    func unknownObject() async throws {
        try await Harness.run { h in
            try await addAttribute(h, kind: "counterparty", ["name": "VIP", "key": "vip", "type": "boolean"])
            try await addAttribute(h, kind: "contact", ["name": "VIP", "key": "vip", "type": "boolean"])
            let unknown = newId()
            let read = try await h.request(.get, "/v1/attribute-values/counterparty/\(unknown)")
            expectProblem(read, status: 404)
            let write = try await patchValues(h, kind: "counterparty", objectId: unknown, ["vip": true])
            expectProblem(write, status: 404)

            // A counterparty id is not a contact id.
            let counterparty = try await createCounterparty(h, name: "Acme")
            let asContact = try await patchValues(h, kind: "contact", objectId: counterparty, ["vip": true])
            expectProblem(asContact, status: 404)

            // An unknown kind.
            let badKind = try await h.request(.get, "/v1/attribute-values/widget/\(counterparty)")
            #expect([404, 422].contains(badKind.status), "unknown kind: \(badKind.status) \(badKind.text)")
        }
    }

    @Test("PATCH /v1/counterparties/{id} sets attributes alongside ordinary fields")
    func cardPatchSetsAttributes() async throws {
        try await Harness.run { h in
            let owner = try await addTypedAttributes(h)
            let counterparty = try await createCounterparty(h, name: "Acme")
            let response = try await h.request(
                .patch, "/v1/counterparties/\(counterparty)",
                json: try jsonBody([
                    "comment": "Met at the fair", "attributes": ["flag": true, "tier": "Gold", "owner": owner],
                ]))
            expectStatus(response, 200)
            #expect(str(response.object["comment"]) == "Met at the fair")

            let card = try await fetch(h, "/v1/counterparties/\(counterparty)")
            #expect(str(card["comment"]) == "Met at the fair")
            #expect(str(card["name"]) == "Acme")
            #expect(boolValue(cardEntry(card, key: "flag")?["value"]) == true)
            #expect(str(cardEntry(card, key: "tier")?["value"]) == "Gold")
            #expect(str(cardEntry(card, key: "owner")?["value"]) == owner)
            #expect(isNull(cardEntry(card, key: "label")?["value"]))
            for entry in cardAttributes(card) {
                for member in ["key", "name", "type", "position", "value"] {
                    #expect(entry.keys.contains(member), "card attribute lacks \(member): \(entry)")
                }
            }
            let values = try await attributeValues(h, kind: "counterparty", objectId: counterparty)
            #expect(boolValue(values.values["flag"]) == true)
            #expect(str(values.values["tier"]) == "Gold")

            // null clears through the card too.
            let cleared = try await h.request(
                .patch, "/v1/counterparties/\(counterparty)", json: #"{"attributes":{"tier":null}}"#)
            expectStatus(cleared, 200)
            let afterClear = try await attributeValues(h, kind: "counterparty", objectId: counterparty)
            #expect(isNullOrAbsent(afterClear.values["tier"]))
            #expect(boolValue(afterClear.values["flag"]) == true)
        }
    }

    @Test("A card PATCH with a bad attribute value stores neither its fields nor its attributes")
    func cardPatchIsAtomic() async throws {
        try await Harness.run { h in
            _ = try await addTypedAttributes(h)
            let counterparty = try await createCounterparty(h, name: "Acme")
            try await setValues(h, kind: "counterparty", objectId: counterparty, ["tier": "Gold"])
            let cardBefore = try await fetch(h, "/v1/counterparties/\(counterparty)")
            let valuesBefore = try await attributeValues(h, kind: "counterparty", objectId: counterparty)

            let response = try await h.request(
                .patch, "/v1/counterparties/\(counterparty)",
                json: #"{"name":"Renamed","attributes":{"flag":"yes","tier":"Silver","nope":1}}"#)
            expectProblem(response, status: 422, fields: ["flag", "nope"])

            let cardAfter = try await fetch(h, "/v1/counterparties/\(counterparty)")
            #expect(str(cardAfter["name"]) == "Acme")
            #expect(intValue(cardAfter["version"]) == intValue(cardBefore["version"]))
            let valuesAfter = try await attributeValues(h, kind: "counterparty", objectId: counterparty)
            #expect(str(valuesAfter.values["tier"]) == "Gold")
            #expect(valuesAfter.version == valuesBefore.version)

            // A bad ordinary field with good attributes: the attributes are not stored either.
            let mixed = try await h.request(
                .patch, "/v1/counterparties/\(counterparty)", json: #"{"kind":"alien","attributes":{"tier":"Silver"}}"#)
            expectProblem(mixed, status: 422, fields: ["kind"])
            let valuesMixed = try await attributeValues(h, kind: "counterparty", objectId: counterparty)
            #expect(str(valuesMixed.values["tier"]) == "Gold")
        }
    }

    @Test("Every catalog kind has values and shows them on its objects' tab")
    func everyCatalogKind() async throws {
        try await Harness.run { h in
            let counterparty = try await createCounterparty(h, name: "Acme")
            let contact = try await createContact(h, counterpartyId: counterparty, name: "Pavel")
            let employee = try await createEmployee(h, name: "Olga")
            let project = try await createProject(h, name: "Survey")
            let deal = try await createDeal(h, counterpartyId: counterparty, name: "Supply 2027")
            let product = try await createProduct(h, name: "Widget")
            let objects: [(kind: String, catalog: String, id: String)] = [
                ("counterparty", "counterparties", counterparty),
                ("contact", "contacts", contact),
                ("employee", "employees", employee),
                ("project", "projects", project),
                ("deal", "deals", deal),
                ("product", "products", product),
            ]
            for object in objects {
                try await addAttribute(h, kind: object.kind, ["name": "Score", "key": "score", "type": "integer"])
                try await addAttribute(h, kind: object.kind, ["name": "Note", "key": "note", "type": "string"])
                try await setValues(h, kind: object.kind, objectId: object.id, ["score": 5])
                let values = try await attributeValues(h, kind: object.kind, objectId: object.id)
                #expect(values.kind == object.kind)
                #expect(intValue(values.values["score"]) == 5, "\(object.kind): \(values.values)")
                let card = try await fetch(h, "/v1/\(object.catalog)/\(object.id)")
                #expect(cardAttributes(card).compactMap { str($0["key"]) } == ["score", "note"], "\(object.catalog) tab")
                #expect(intValue(cardEntry(card, key: "score")?["value"]) == 5)
                #expect(isNull(cardEntry(card, key: "note")?["value"]))
            }
        }
    }

    @Test("A reference attribute accepts only live objects of its kind")
    func referenceChecks() async throws {
        try await Harness.run { h in
            try await addAttribute(h, kind: "deal", [
                "name": "Partner", "key": "partner", "type": "reference", "referenceKind": "counterparty",
            ])
            let client = try await createCounterparty(h, name: "Client")
            let partner = try await createCounterparty(h, name: "Partner")
            let deal = try await createDeal(h, counterpartyId: client, name: "Supply")
            try await setValues(h, kind: "deal", objectId: deal, ["partner": partner])
            let stored = try await attributeValues(h, kind: "deal", objectId: deal)
            #expect(str(stored.values["partner"]) == partner)

            let product = try await createProduct(h, name: "Widget")
            let wrongKind = try await patchValues(h, kind: "deal", objectId: deal, ["partner": product])
            expectProblem(wrongKind, status: 422, fields: ["partner"])

            let gone = try await createCounterparty(h, name: "Gone")
            try await deleteObject(h, "counterparties", gone)
            let deleted = try await patchValues(h, kind: "deal", objectId: deal, ["partner": gone])
            expectProblem(deleted, status: 422, fields: ["partner"])

            let values = try await attributeValues(h, kind: "deal", objectId: deal)
            #expect(str(values.values["partner"]) == partner)
        }
    }
}
