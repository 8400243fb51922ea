import Foundation
import Testing
import TestSupport

@Suite("Documents: amounts and totals in exact decimals")
struct ArithmeticTests {
    @Test("Amounts are quantity × price × (1 − discount/100) rounded half-even once; totals sum the rounded amounts")
    func awkwardDecimals() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            // (quantity, price, discount, expected amount)
            let cases: [(String, String, String?, String)] = [
                ("3", "33.335", nil, "100.00"),                  // 100.005: a tie, to the even neighbour
                ("1", "0.05", "10", "0.04"),                     // 0.045: a tie, down to even
                ("1", "0.135", nil, "0.14"),                     // 0.135: a tie, up to even
                ("1234567890123456789", "0.01", nil, "12345678901234567.89"),
                ("1234567890123456789", "33.335", "12.5", "36010030540107253053.65"),
                ("9999999999999999999", "99999.99", "12.5", "874999912499999999912500.01"),
                ("7", "1.0725", "33.3333333333", "5.01"),        // 5.00500000000250: rounding twice would give 5.00
                ("0.001", "0.001", nil, "0.00"),
                ("2", "1500", "100", "0.00"),
                ("1", "0", nil, "0.00"),
                ("2.5", "4", nil, "10.00"),
            ]
            for (quantity, price, discount, expected) in cases {
                let order = try await createOrder(h, "customer-orders", orderJSON(world, lines: [
                    lineJSON(description: "x", quantity: q(quantity), price: q(price), discount: discount.map(q)),
                ]))
                #expect(order.amounts == [expected], "\(quantity) × \(price) − \(discount ?? "0") %: \(order.text)")
                #expect(order.total == expected)
                #expect(order.lines.first?.quantity == quantity)
                #expect(order.lines.first?.price == price)
            }

            // The total is the sum of the rounded amounts, not the rounded sum: 3 × 0.00 and 3 × 0.02.
            let ties = try await createOrder(h, "supplier-orders", orderJSON(world, lines: [
                lineJSON(description: "a", quantity: q("1"), price: q("0.005")),
                lineJSON(description: "b", quantity: q("1"), price: q("0.005")),
                lineJSON(description: "c", quantity: q("1"), price: q("0.005")),
            ]))
            #expect(ties.amounts == ["0.00", "0.00", "0.00"])
            #expect(ties.total == "0.00")
            let upward = try await createOrder(h, "supplier-orders", orderJSON(world, lines: [
                lineJSON(description: "a", quantity: q("1"), price: q("0.015")),
                lineJSON(description: "b", quantity: q("1"), price: q("0.015")),
                lineJSON(description: "c", quantity: q("1"), price: q("0.015")),
            ]))
            #expect(upward.amounts == ["0.02", "0.02", "0.02"])
            #expect(upward.total == "0.06")
        }
    }
}
