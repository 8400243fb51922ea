import Foundation
import HTTPTypes
import Testing
import TestSupport

/// The seed document's story: the counterparty card's "Additional attributes" tab holds manager
/// and region; an administrator adds "VIP" and pins it at position 3; users mark VIP clients;
/// lists (and, through the topics, reports) can then be cut by VIP.
@Suite("Seed walkthrough: a VIP attribute on counterparties")
struct WalkthroughTests {
    @Test("Admin adds VIP at position 3 after manager and region; cards, filters and topics follow")
    func vipWalkthrough() async throws {
        try await Harness.run { h in
            let employee = try await createEmployee(h, name: "Anna Petrova")

            // The tab as it is today: manager and region.
            try await addAttribute(h, kind: "counterparty", [
                "name": "Manager", "key": "manager", "type": "reference", "referenceKind": "employee", "position": 1,
            ])
            try await addAttribute(h, kind: "counterparty", [
                "name": "Region", "key": "region", "type": "enum", "options": ["North", "South", "East", "West"],
                "position": 2,
            ])
            let alfa = try await createCounterparty(h, name: "Alfa Trade")
            let beta = try await createCounterparty(h, name: "Beta Logistics", ["kind": "company"])
            let gamma = try await createCounterparty(h, name: "Gamma Retail")
            let delta = try await createCounterparty(h, name: "Ivan Sidorov", ["kind": "person"])

            // The administrator adds VIP, a boolean, pinned at position 3 (the contract's own example).
            let added = try await h.request(
                .post, "/v1/attribute-sets/counterparty/attributes",
                json: #"{"name":"VIP","key":"vip","type":"boolean","position":3}"#)
            try #require(added.status == 201, "adding VIP answered \(added.status): \(added.text)")

            let set = try await attributeSet(h, kind: "counterparty")
            #expect(set.kind == "counterparty")
            #expect(set.keys == ["manager", "region", "vip"])
            #expect(set.positions == [1, 2, 3])
            let vip = try #require(set.attribute("vip"))
            #expect(str(vip["name"]) == "VIP")
            #expect(str(vip["type"]) == "boolean")

            // Every card now shows manager, region and VIP in that order, all unset.
            for id in [alfa, beta, gamma, delta] {
                let card = try await fetch(h, "/v1/counterparties/\(id)")
                let tab = cardAttributes(card)
                #expect(tab.compactMap { str($0["key"]) } == ["manager", "region", "vip"], "card \(id): \(tab)")
                #expect(tab.compactMap { str($0["name"]) } == ["Manager", "Region", "VIP"])
                #expect(tab.compactMap { str($0["type"]) } == ["reference", "enum", "boolean"])
                #expect(tab.compactMap { intValue($0["position"]) } == [1, 2, 3])
                for entry in tab {
                    #expect(entry.keys.contains("value") && isNull(entry["value"]), "unset value not null: \(entry)")
                }
            }

            // Alfa: manager and region, then VIP, through the attribute-values resource.
            try await setValues(h, kind: "counterparty", objectId: alfa, ["manager": employee, "region": "North"])
            try await setValues(h, kind: "counterparty", objectId: alfa, ["vip": true])
            // Beta: VIP (and region) through the counterparty itself.
            let patched = try await h.request(
                .patch, "/v1/counterparties/\(beta)", json: #"{"attributes":{"vip":true,"region":"South"}}"#)
            expectStatus(patched, 200)
            // Gamma: explicitly not VIP, in the North.
            try await setValues(h, kind: "counterparty", objectId: gamma, ["vip": false, "region": "North"])

            let alfaCard = try await fetch(h, "/v1/counterparties/\(alfa)")
            #expect(str(cardEntry(alfaCard, key: "manager")?["value"]) == employee)
            #expect(str(cardEntry(alfaCard, key: "region")?["value"]) == "North")
            #expect(boolValue(cardEntry(alfaCard, key: "vip")?["value"]) == true)
            let betaCard = try await fetch(h, "/v1/counterparties/\(beta)")
            #expect(boolValue(cardEntry(betaCard, key: "vip")?["value"]) == true)
            #expect(str(cardEntry(betaCard, key: "region")?["value"]) == "South")
            #expect(isNull(cardEntry(betaCard, key: "manager")?["value"]))
            #expect(str(betaCard["name"]) == "Beta Logistics", "PATCH with only attributes must keep the fields")
            let deltaCard = try await fetch(h, "/v1/counterparties/\(delta)")
            #expect(isNull(cardEntry(deltaCard, key: "vip")?["value"]))

            let alfaValues = try await attributeValues(h, kind: "counterparty", objectId: alfa)
            #expect(alfaValues.kind == "counterparty")
            #expect(alfaValues.objectId == alfa)
            #expect(boolValue(alfaValues.values["vip"]) == true)
            #expect(str(alfaValues.values["region"]) == "North")
            #expect(str(alfaValues.values["manager"]) == employee)
            let betaValues = try await attributeValues(h, kind: "counterparty", objectId: beta)
            #expect(boolValue(betaValues.values["vip"]) == true)

            // Lists cut by VIP, and narrowed by region.
            let vips = try await listIds(h, "/v1/counterparties?attr.vip=true")
            #expect(Set(vips) == [alfa, beta])
            #expect(vips.count == 2)
            let northernVips = try await listIds(h, "/v1/counterparties?attr.vip=true&attr.region=North")
            #expect(northernVips == [alfa])
            let northern = try await listIds(h, "/v1/counterparties?attr.region=North")
            #expect(Set(northern) == [alfa, gamma])

            // The set on its topic: the last snapshot of key "counterparty" has VIP at position 3.
            let setMessages = try await readTopic(h, "crm.attribute-sets.v1", count: 3)
                .filter { $0.key == "counterparty" }
            #expect(setMessages.count >= 3, "set changes on the topic: \(setMessages.count)")
            let lastSet = try #require(setMessages.last)
            expectEnvelope(lastSet, type: "crm.attribute-set.changed")
            let published = dicts(lastSet.data["attributes"])
            #expect(published.compactMap { str($0["key"]) } == ["manager", "region", "vip"])
            #expect(published.compactMap { intValue($0["position"]) } == [1, 2, 3])
            #expect(published.first { str($0["key"]) == "vip" }.flatMap { str($0["type"]) } == "boolean")

            // The values on their topic: the latest snapshot of Alfa and Beta say VIP.
            let valueMessages = try await readTopic(h, "crm.attribute-values.v1", count: 4)
            let alfaLast = try #require(valueMessages.last { $0.key == "counterparty:\(alfa)" })
            expectEnvelope(alfaLast, type: "crm.attribute-values.changed")
            #expect(boolValue(dict(alfaLast.data["values"])["vip"]) == true, "\(alfaLast.envelope)")
            #expect(str(dict(alfaLast.data["values"])["region"]) == "North")
            let betaLast = try #require(valueMessages.last { $0.key == "counterparty:\(beta)" })
            #expect(boolValue(dict(betaLast.data["values"])["vip"]) == true, "\(betaLast.envelope)")
        }
    }
}
