import Foundation
import Testing
import TestSupport

@Suite("Documents: bad input is refused whole, naming every bad field")
struct ValidationTests {
    @Test("One 422 lists every bad header member and every bad line member as lines[i].field; nothing is stored")
    func everyBadField() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            let body = jsonText([
                ("counterpartyId", q(newId())), ("contactId", q(world.otherContact)), ("dealId", q(newId())),
                ("projectId", q("nope")), ("responsibleId", q(newId())), ("date", q("2026-02-30")), ("currency", q("rub")),
                ("unknownMember", "1"),
                ("lines", "[" + [
                    lineJSON(description: "a", quantity: q("0"), price: q("-1"), discount: q("100.5")),
                    lineJSON(description: "b", quantity: "2", price: "10.5", discount: "5"),
                    lineJSON(description: "c", quantity: q("1.2.3"), price: q("1e3"), discount: q("-1")),
                    lineJSON(quantity: q("123456789012345678901"), price: q("1.12345678901")),
                ].joined(separator: ",") + "]"),
            ])
            let fields = expectProblem(try await h.request(.post, "/v1/customer-orders", json: body), status: 422, fields: [
                "counterpartyId", "dealId", "projectId", "responsibleId", "date", "currency", "unknownMember",
                "lines[0].quantity", "lines[0].price", "lines[0].discountPercent",
                "lines[1].quantity", "lines[1].price", "lines[1].discountPercent",
                "lines[2].quantity", "lines[2].price", "lines[2].discountPercent",
                "lines[3].description", "lines[3].quantity", "lines[3].price",
            ])
            #expect(fields.count >= 19, "\(fields)")
            // The contact of another counterparty is refused once the counterparty is real.
            expectProblem(
                try await h.request(.post, "/v1/customer-orders", json: orderJSON(world, ["contactId": q(world.otherContact)])),
                status: 422, fields: ["contactId"])
            expectProblem(
                try await h.request(.post, "/v1/customer-orders", json: orderJSON(world, lines: [])), status: 422, fields: ["lines"])
            expectProblem(
                try await h.request(.post, "/v1/customer-orders", json: #"{"lines":[{"description":"x","quantity":"1","price":"1"}]}"#),
                status: 422, fields: ["counterpartyId"])
            #expect(try await listOrders(h, "customer-orders", "includeDeleted=true").items.isEmpty)
        }
    }

    @Test("Malformed JSON is a 400; NUL characters, oversized fields and too many lines are 422s naming the field")
    func malformedAndOversized() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            expectProblem(try await h.request(.post, "/v1/customer-orders", json: #"{"counterpartyId": "#), status: 400)
            expectProblem(try await h.request(.post, "/v1/customer-orders", json: "[1,2]"), status: 400)
            expectProblem(
                try await h.request(.post, "/v1/customer-orders", json: orderJSON(world, ["comment": q("bad\u{0}comment")])),
                status: 422, fields: ["comment"])
            expectProblem(
                try await h.request(.post, "/v1/customer-orders", json: orderJSON(world, lines: [
                    lineJSON(description: "nul\u{0}here", quantity: q("1"), price: q("1")),
                ])),
                status: 422, fields: ["lines[0].description"])
            expectProblem(
                try await h.request(.post, "/v1/customer-orders", json: orderJSON(world, ["comment": q(String(repeating: "é", count: 2049))])),
                status: 422, fields: ["comment"])
            expectProblem(
                try await h.request(.post, "/v1/customer-orders", json: orderJSON(world, lines: [
                    lineJSON(description: String(repeating: "x", count: 1025), quantity: q("1"), price: q("1")),
                ])),
                status: 422, fields: ["lines[0].description"])
            let many = Array(repeating: lineJSON(description: "x", quantity: q("1"), price: q("1")), count: 501)
            expectProblem(try await h.request(.post, "/v1/customer-orders", json: orderJSON(world, lines: many)), status: 422, fields: ["lines"])
            // At the limits it is accepted.
            let full = try await createOrder(h, "customer-orders", orderJSON(world, lines: Array(many.prefix(500)), [
                "comment": q(String(repeating: "c", count: 4096)),
            ]))
            #expect(full.lines.count == 500)
            #expect(full.total == "500.00")
            expectProblem(
                try await h.request(.post, "/v1/customer-orders", json: orderJSON(world, ["basis": q("event")])),
                status: 422, fields: ["basis"])
        }
    }

    @Test("An order within every budget whose message would still exceed the producer's limit is a 422, and nothing is stored")
    func messageTooLarge() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            // 1 KiB of quotes per description: each doubles when escaped, in the request and in the message.
            let line = lineJSON(description: String(repeating: "\"", count: 1024), quantity: q("1"), price: q("1"))
            let response = try await h.request(
                .post, "/v1/customer-orders", json: orderJSON(world, lines: Array(repeating: line, count: 480)))
            expectProblem(response, status: 422, fields: ["body"])
            #expect(response.text.contains("larger than a message may be"), "\(response.text)")
            #expect(try await listOrders(h, "customer-orders", "includeDeleted=true").items.isEmpty)
        }
    }
}
