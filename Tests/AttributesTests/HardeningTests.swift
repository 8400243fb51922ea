import Foundation
import HTTPTypes
import ServiceKit
import Testing
import TestSupport

/// The reproductions of the hardening issue: concurrent writers on one object, `If-Match` under
/// contention, NUL characters and oversized values, and per-object authorization of event values.
@Suite("Hardening: concurrent writes, budgets, authorization")
struct HardeningTests {
    @Test("16 concurrent mixed PATCHes of one counterparty: no 5xx, the last write wins, the version counts every change")
    func concurrentMixedPatches() async throws {
        try await Harness.run { h in
            try await addAttribute(h, kind: "counterparty", ["name": "Score", "key": "score", "type": "integer"])
            let counterparty = try await createCounterparty(h, name: "Contended LLC")
            let before = try await fetch(h, "/v1/counterparties/\(counterparty)")
            let startVersion = try #require(intValue(before["version"]))
            // Every request sets a distinct score, so each success is a real change.
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 1...16 {
                    group.addTask {
                        let response: HarnessResponse
                        if index.isMultiple(of: 2) {
                            response = try await patchValues(h, kind: "counterparty", objectId: counterparty, ["score": index])
                        } else {
                            response = try await h.request(
                                .patch, "/v1/counterparties/\(counterparty)",
                                json: try jsonBody(["comment": "writer \(index)", "attributes": ["score": index]]))
                        }
                        return response.status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == 200 }, "statuses: \(statuses)")
            let after = try await fetch(h, "/v1/counterparties/\(counterparty)")
            // Each PATCH bumps the card once (values through /attribute-values bump it too).
            #expect(intValue(after["version"]) == startVersion + 16, "card version \(String(describing: after["version"]))")
            let values = try await attributeValues(h, kind: "counterparty", objectId: counterparty)
            #expect(values.version == 16, "values version \(String(describing: values.version))")
            let score = try #require(intValue(values.values["score"]))
            #expect((1...16).contains(score))
        }
    }

    @Test("10 concurrent PATCHes with the same If-Match: exactly one 200, the others 412")
    func ifMatchUnderContention() async throws {
        try await Harness.run { h in
            try await addAttribute(h, kind: "counterparty", ["name": "VIP", "key": "vip", "type": "boolean"])
            try await addAttribute(h, kind: "counterparty", ["name": "Note", "key": "note", "type": "string"])
            let counterparty = try await createCounterparty(h, name: "Raced JSC")
            try await setValues(h, kind: "counterparty", objectId: counterparty, ["vip": false])
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 1...10 {
                    group.addTask {
                        try await h.request(
                            .patch, "/v1/attribute-values/counterparty/\(counterparty)",
                            json: try jsonBody(["values": ["note": "writer \(index)"]]), headers: ["If-Match": "\"1\""]
                        ).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 200 }.count == 1, "statuses: \(statuses)")
            #expect(statuses.filter { $0 == 412 }.count == 9, "statuses: \(statuses)")
            #expect(try await attributeValues(h, kind: "counterparty", objectId: counterparty).version == 2)
        }
    }

    @Test("A NUL character in a string is a 422 naming the field, in bodies and in query parameters")
    func nulCharacters() async throws {
        try await Harness.run { h in
            let created = try await h.request(.post, "/v1/counterparties", json: #"{"name":"nul\u0000here"}"#)
            expectProblem(created, status: 422, fields: ["name"])
            let nested = try await h.request(.post, "/v1/counterparties", json: #"{"name":"Fine","phones":["+7495\u00001234567"]}"#)
            expectProblem(nested, status: 422, fields: ["phones[0]"])
            let query = try await h.request(.get, "/v1/counterparties?q=a%00b")
            expectProblem(query, status: 422, fields: ["q"])
        }
    }

    @Test("Oversized values are refused with 422 when written: a text attribute over 64 KiB, 21 phones")
    func sizeBudgets() async throws {
        try await Harness.run { h in
            try await addAttribute(h, kind: "counterparty", ["name": "Notes", "key": "notes", "type": "text"])
            let counterparty = try await createCounterparty(h, name: "Budget LLC")
            let tooLong = String(repeating: "ж", count: 40_000)  // 80,000 bytes of UTF-8
            let response = try await patchValues(h, kind: "counterparty", objectId: counterparty, ["notes": tooLong])
            expectProblem(response, status: 422, fields: ["values.notes"])
            let phones = (1...21).map { "+7495000\(String(format: "%04d", $0))" }
            let created = try await h.request(.post, "/v1/counterparties", json: try jsonBody(["name": "Many phones", "phones": phones]))
            expectProblem(created, status: 422, fields: ["phones"])
        }
    }

    @Test("A body over CRM_HTTP_MAX_BODY_BYTES is a 413 problem")
    func bodyLimit() async throws {
        try await Harness.run { h in
            let huge = try jsonBody(["name": String(repeating: "x", count: 1_200_000)])
            let response = try await h.request(.post, "/v1/counterparties", json: huge)
            #expect(response.status == 413, "\(response.status): \(response.text.prefix(200))")
            #expect(response.headers[.contentType]?.hasPrefix("application/problem+json") == true)
        }
    }

    @Test("A manager may change attribute values only of events they author or are responsible for")
    func eventValuesAuthorization() async throws {
        try await Harness.run { h in
            try await addAttribute(h, kind: "event", ["name": "Score", "key": "score", "type": "integer"])
            let manager = ServiceDriver.defaultSubject(for: .manager)
            let own = newId()
            let others = newId()
            try await h.publish(topic: "crm.events.v1", key: own, value: try eventCloudEvent(id: own, authorId: manager))
            try await h.publish(topic: "crm.events.v1", key: others, value: try eventCloudEvent(id: others, authorId: newId()))
            // Wait until both are known (admins may write either).
            #expect(try await patchValuesOnceKnown(h, kind: "event", objectId: own, ["score": 1]).status == 200)
            #expect(try await patchValuesOnceKnown(h, kind: "event", objectId: others, ["score": 1]).status == 200)
            let mine = try await patchValues(h, kind: "event", objectId: own, ["score": 5], role: .manager)
            #expect(mine.status == 200, "\(mine.status): \(mine.text)")
            let theirs = try await patchValues(h, kind: "event", objectId: others, ["score": 5], role: .manager)
            expectProblem(theirs, status: 403)
        }
    }

    @Test("A tampered list cursor is a 400, never a 500")
    func tamperedCursor() async throws {
        try await Harness.run { h in
            for cursor in ["not-a-cursor", "eyJ4IjoxfQ", "eyJuYW1lIjo1LCJpZCI6Im5vLXV1aWQifQ"] {
                let response = try await h.request(.get, "/v1/counterparties?cursor=\(cursor)")
                expectProblem(response, status: 400)
            }
        }
    }
}
