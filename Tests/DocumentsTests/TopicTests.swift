import Contracts
import Foundation
import Testing
import TestSupport

@Suite("Documents: crm.documents.v1")
struct TopicTests {
    @Test("Every change is published once, keyed by the order id, with a growing version and the full order as data")
    func everyChangeOnce() async throws {
        try await Harness.run { h in
            let world = try await h.seedWorld()
            let customer = try await createOrder(h, "customer-orders", orderJSON(world))
            _ = try requireOrder(try await h.request(.patch, "/v1/customer-orders/\(customer.id)", json: #"{"comment":"v2"}"#))
            _ = try requireOrder(try await action(h, "customer-orders", customer.id, "confirm"))
            _ = try requireOrder(try await action(h, "customer-orders", customer.id, "complete"))
            let supplier = try await createOrder(h, "supplier-orders", jsonText([("basis", basisJSON("customer-order", customer.id))]))
            _ = try requireOrder(try await action(h, "supplier-orders", supplier.id, "cancel"))
            _ = try requireOrder(try await h.request(.delete, "/v1/supplier-orders/\(supplier.id)"))
            // Refused writes publish nothing.
            expectProblem(try await action(h, "supplier-orders", supplier.id, "confirm"), status: 409)

            let messages = try await settledTopic(h, Topic.documents, total: 7)
            let ofCustomer = messages.filter { $0.key == customer.id }
            let ofSupplier = messages.filter { $0.key == supplier.id }
            #expect(ofCustomer.map(\.type) == [
                "crm.customer-order.created", "crm.customer-order.updated", "crm.customer-order.confirmed",
                "crm.customer-order.completed",
            ])
            #expect(ofSupplier.map(\.type) == ["crm.supplier-order.created", "crm.supplier-order.cancelled", "crm.supplier-order.deleted"])
            #expect(ofCustomer.map(\.version) == [1, 2, 3, 4])
            #expect(ofSupplier.map(\.version) == [1, 2, 3])
            #expect(Set(ofCustomer.map(\.partition)).count == 1)
            for message in messages {
                #expect(message.specversion == "1.0")
                #expect(message.source == "crm-documents")
                #expect(message.subject == message.key)
                #expect(message.ceType == message.type)
                #expect(message.ceId == message.id)
                #expect(message.data?.id == message.key)
                #expect(message.data?.version == message.version)
                #expect(message.data?.lines.isEmpty == false)
                #expect(message.data?.total != nil)
            }
            #expect(ofCustomer.last?.data?.state == "completed")
            #expect(ofCustomer.last?.data?.comment == "v2")
            #expect(ofCustomer.last?.data?.total == "2700.00")
            #expect(ofSupplier.last?.data?.deleted == true)
            #expect(ofSupplier.last?.data?.basisId == customer.id)
            #expect(ofSupplier.first?.data?.lines == customer.lines)
        }
    }
}
