import Contracts
import Foundation
import Kafka
import Messaging
import Postgres
import Testing
import TestSupport

@Suite("Outbox parking: a refused row never stalls the relay")
struct ParkingTests {
    @Test("the outbox refuses a message larger than the producer may send, when it is written")
    func tooLargeAtWriteTime() async throws {
        try await TestDatabase.withSchema("outbox") { pool, schema in
            try await Migrator(schema: schema, migrations: Outbox.migrations).apply(url: try TestDatabase.url())
            let outbox = Outbox(schema: schema, producerMessageMaxBytes: 10_000)
            await #expect(throws: OutboxMessageTooLarge.self) {
                try await pool.withTransaction { transaction in
                    try await outbox.enqueue(topic: "t", key: "k", payload: String(repeating: "x", count: 9_500), in: transaction)
                }
            }
            #expect(try await pool.query("SELECT 1 FROM outbox").isEmpty)
        }
    }

    @Test("a row the broker refuses is parked; other keys go on, its key waits; drop releases the key")
    func refusedRowIsParked() async throws {
        try await TestDatabase.withSchema("outbox") { pool, schema in
            try await Migrator(schema: schema, migrations: Outbox.migrations).apply(url: try TestDatabase.url())
            try await TestKafka.with { kafka in
                let topic = TestKafka.uniqueName("parked")
                try await kafka.createTopic(topic, partitions: 2)
                // The producer's limit is lower than what the outbox allows, as when a broker or
                // producer is configured below the service's budget: the broker-side refusal.
                var configuration = kafka.configuration
                configuration.properties["message.max.bytes"] = "20000"
                let producer = try KafkaProducer(configuration: configuration)
                let outbox = Outbox(schema: schema)
                try await pool.withTransaction { transaction in
                    try await outbox.enqueue(topic: topic, key: "big", payload: String(repeating: "x", count: 50_000), in: transaction)
                    try await outbox.enqueue(topic: topic, key: "big", payload: "after the big one", in: transaction)
                    for index in 1...5 {
                        try await outbox.enqueue(topic: topic, key: "other-\(index)", payload: "small \(index)", in: transaction)
                    }
                }
                let relay = startRelay(schema: schema, pool: pool, producer: producer)
                let consumer = try KafkaConsumer(configuration: kafka.consumerConfiguration, groupID: "g-\(topic)", topics: [topic])
                let first = try await consume(consumer, count: 5)
                #expect(Set(first.compactMap(\.keyString)) == Set((1...5).map { "other-\($0)" }))
                let parked = ParkedMessages()
                let entries = try await parked.list(in: pool)
                #expect(entries.count == 1)
                #expect(entries.first?.key == "big")
                #expect(entries.first?.error.contains("too large") == true, "\(entries)")
                // The big key's next row waits behind the parked one.
                try await Task.sleep(for: .seconds(1))
                #expect(try await pool.query("SELECT message_key FROM outbox").map { try $0.decode("message_key", as: String.self) } == ["big"])
                // The operator drops the parked row: the key's waiting row goes out.
                #expect(try await parked.drop(ids: entries.map(\.id), in: pool) == 1)
                let rest = try await consume(consumer, count: 1, timeout: .seconds(20))
                #expect(rest.first?.keyString == "big")
                #expect(rest.first.flatMap { $0.value.map { String(decoding: $0, as: UTF8.self) } } == "after the big one")
                #expect(try await eventually { try await pool.query("SELECT 1 FROM outbox").isEmpty })
                relay.cancel()
                _ = try? await relay.value
                await consumer.close()
                await producer.close()
            }
        }
    }

    @Test("retry puts a parked row back behind the queue")
    func retryParked() async throws {
        try await TestDatabase.withSchema("outbox") { pool, schema in
            try await Migrator(schema: schema, migrations: Outbox.migrations).apply(url: try TestDatabase.url())
            // Row 1 of key k was parked; rows 2 and 3 of the same key wait behind it.
            try await pool.execute("""
                INSERT INTO outbox_parked (id, topic, message_key, payload, headers, created_at, error)
                VALUES (nextval('outbox_id_seq'), 't', 'k', 'v1', '{}', now(), 'Broker: Message size too large')
                """)
            try await pool.execute("INSERT INTO outbox (topic, message_key, payload) VALUES ('t', 'k', 'v2'), ('t', 'k', 'v3')")
            let parked = ParkedMessages()
            #expect(try await parked.retry(ids: nil, in: pool) == 1)
            #expect(try await parked.list(in: pool).isEmpty)
            // It goes back with its own id, so it still goes out first.
            #expect(try await pool.query("SELECT payload FROM outbox ORDER BY id").map { try $0.decode("payload", as: String.self) } == ["v1", "v2", "v3"])
        }
    }
}
