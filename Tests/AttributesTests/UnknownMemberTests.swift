import Foundation
import Testing
import TestSupport

@Suite("Unknown members")
struct UnknownMemberTests {
    @Test("Unknown members of attribute and value requests are a 422 naming them; nothing is stored")
    func unknownMembersAreRefused() async throws {
        try await Harness.run { h in
            let typo = try await h.request(
                .post, "/v1/attribute-sets/counterparty/attributes", json: #"{"name":"VIP","type":"boolean","postion":3}"#)
            expectProblem(typo, status: 422, fields: ["postion"])
            let set = try await h.request(.get, "/v1/attribute-sets/counterparty")
            #expect((set.object["attributes"] as? [Any])?.isEmpty == true)

            let added = try await h.request(.post, "/v1/attribute-sets/counterparty/attributes", json: #"{"name":"VIP","type":"boolean"}"#)
            let attributeId = try #require(added.object["id"] as? String)
            let rename = try await h.request(
                .patch, "/v1/attribute-sets/counterparty/attributes/\(attributeId)", json: #"{"nmae":"Very important"}"#)
            expectProblem(rename, status: 422, fields: ["nmae"])

            let client = try await h.request(.post, "/v1/counterparties", json: #"{"name":"Acme"}"#)
            let clientId = try #require(client.object["id"] as? String)
            let values = try await h.request(
                .patch, "/v1/attribute-values/counterparty/\(clientId)", json: #"{"values":{"vip":true},"valeus":{}}"#)
            expectProblem(values, status: 422, fields: ["valeus"])
            let stored = try await h.request(.get, "/v1/attribute-values/counterparty/\(clientId)")
            #expect((stored.object["values"] as? [String: Any])?.isEmpty == true)

            let badFlag = try await h.request(.get, "/v1/counterparties?includeDeleted=yes")
            expectProblem(badFlag, status: 422, fields: ["includeDeleted"])
        }
    }
}
