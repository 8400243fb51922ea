import ArgumentParser
import Documents
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Kafka
import Postgres
import ServiceKit

/// Order creation through crm-documents' HTTP API (a live server on a socket, JWT, validation,
/// amounts in SQL, outbox) next to the raw ceiling: the same rows written by plain SQL, one
/// transaction per order, on one connection.
struct OrderBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "documents-orders", abstract: "Customer orders with 3 lines each: HTTP API vs raw inserts.")

    @Option(help: "Orders per measurement.")
    var orders = 2000

    @Option(help: "PostgreSQL URL (default: CRM_DATABASE_URL, then CRM_TEST_DATABASE_URL).")
    var databaseURL: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let url = databaseURL ?? environment["CRM_DATABASE_URL"] ?? environment["CRM_TEST_DATABASE_URL"] else {
            throw ValidationError("no database: pass --database-url or run `source .crm/env` after deploy/local/up")
        }
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        let schema = "bench_orders_\(UUID().uuidString.prefix(8).lowercased())"
        let secret = "crm-bench-secret-0123456789abcdefghijklmnop"
        let serviceEnvironment = [
            "CRM_DATABASE_URL": url, "CRM_KAFKA_BROKERS": cluster.bootstrapServers, "CRM_JWT_SECRET": secret,
            "CRM_LOG_LEVEL": "warning", "CRM_HTTP_PORT": "18093", "CRM_DATABASE_POOL_SIZE": "4",
        ]
        // HTTP only: the relay would compete for the two cores; the messaging benchmark measures it.
        let (application, host) = try await DocumentsService.makeApplication(
            environment: serviceEnvironment, schema: schema, backgroundServices: false)
        let counterparty = UUID()
        let product = UUID()
        try await host.pool.execute("""
            INSERT INTO counterparties (id, name, deleted, version) VALUES (\(counterparty), 'Acme', false, 1)
            """)
        try await host.pool.execute("""
            INSERT INTO products (id, name, price, currency, deleted, version) VALUES (\(product), 'Widget', 1500.00, 'RUB', false, 1)
            """)
        let token = try await TokenIssuer(hmacSecret: secret).sign(subject: UUID().lowercasedText, roles: [.manager])
        let body = """
            {"counterpartyId":"\(counterparty.lowercasedText)","date":"2026-12-01","lines":[
            {"productId":"\(product.lowercasedText)","quantity":"3","discountPercent":"10"},
            {"description":"Bolts","quantity":"100","price":"0.35"},
            {"description":"Delivery","quantity":"1","price":"333.335"}]}
            """
        print("crm-bench documents-orders: \(orders) customer orders of 3 lines, PostgreSQL at \(url.replacingOccurrences(of: #":[^:@/]+@"#, with: ":***@", options: .regularExpression))")

        var headers = HTTPFields()
        headers[.authorization] = "Bearer \(token)"
        headers[.contentType] = "application/json"
        let fields = headers
        let httpRate = try await application.application.test(.live) { client in
            let start = ContinuousClock.now
            for _ in 0..<orders {
                let response = try await client.execute(
                    uri: "/v1/customer-orders", method: .post, headers: fields, body: ByteBuffer(string: body))
                guard response.status == .created else {
                    throw ValidationError("POST answered \(response.status): \(String(buffer: response.body))")
                }
            }
            return Double(orders) / seconds(ContinuousClock.now - start)
        }

        // The ceiling: the same rows (order, 3 lines with their amounts, total, outbox row) by plain
        // SQL, one transaction per order, on one connection.
        // The application closed its pool when the server stopped: a pool of our own.
        let pool = PostgresPool(.init(url: url, searchPath: schema, maxConnections: 1))
        let payload = String(repeating: "x", count: 1500)
        let rawStart = ContinuousClock.now
        for index in 0..<orders {
            try await pool.withTransaction { transaction in
                let id = UUID()
                try await transaction.execute("""
                    INSERT INTO orders (id, kind, seq, number, state, counterparty_id, date, currency, total, created_at, updated_at, version)
                    VALUES (\(id), 'customer-order', \(1_000_000 + index), \("RAW-\(index)"), 'draft', \(counterparty), '2026-12-01', 'RUB',
                        4418.34, now(), now(), 1)
                    """)
                try await transaction.execute("""
                    INSERT INTO order_lines (order_id, position, product_id, description, quantity, price, discount_percent, amount)
                    VALUES (\(id), 0, \(product), 'Widget', 3, 1500.00, 10, 4050.00), (\(id), 1, NULL, 'Bolts', 100, 0.35, 0, 35.00),
                        (\(id), 2, NULL, 'Delivery', 1, 333.335, 0, 333.34)
                    """)
                try await transaction.execute("""
                    INSERT INTO outbox (topic, message_key, payload) VALUES ('crm.documents.v1', \(id.uuidString), \(payload))
                    """)
            }
        }
        let rawRate = Double(orders) / seconds(ContinuousClock.now - rawStart)
        print(String(format: "  HTTP API (one client, sequential)      %8.0f orders/s", httpRate))
        print(String(format: "  raw SQL, one transaction per order      %8.0f orders/s  (the API reaches %.0f%%)", rawRate, httpRate / rawRate * 100))

        try await pool.execute("DROP SCHEMA \(identifier: schema) CASCADE")
        await pool.close()
        await cluster.shutdown()
    }
}

private func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
