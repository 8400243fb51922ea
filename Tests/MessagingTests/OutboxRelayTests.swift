import Contracts
import Foundation
import Kafka
import Messaging
import Postgres
import Testing
import TestSupport

@Suite("Outbox and relay")
struct OutboxRelayTests {
    @Test("committed outbox rows reach the topic in order; rolled-back ones never do")
    func committedRowsArriveInOrder() async throws {
        try await TestDatabase.withSchema("outbox") { pool, schema in
            try await Migrator(schema: schema, migrations: Outbox.migrations).apply(url: try TestDatabase.url())
            try await TestKafka.with { kafka in
                let topic = TestKafka.uniqueName("outbox")
                try await kafka.createTopic(topic, partitions: 3)
                struct Rollback: Error {}
                for version in 1...30 {
                    try await pool.withTransaction { transaction in
                        try await enqueueNote(Note(id: "n\(version % 3)", text: "v\(version)"), version: Int64(version),
                                              topic: topic, schema: schema, in: transaction)
                    }
                    if version % 10 == 0 {
                        await #expect(throws: Rollback.self) {
                            try await pool.withTransaction { transaction in
                                try await enqueueNote(Note(id: "ghost", text: "never"), version: 1,
                                                      topic: topic, schema: schema, in: transaction)
                                throw Rollback()
                            }
                        }
                    }
                }
                let producer = try KafkaProducer(configuration: kafka.configuration)
                let relay = startRelay(schema: schema, pool: pool, producer: producer)
                let consumer = try KafkaConsumer(configuration: kafka.consumerConfiguration, groupID: "g-\(topic)", topics: [topic])
                let messages = try await consume(consumer, count: 30)
                let events = try messages.map(decodeNote)
                #expect(events.count == 30)
                #expect(!events.contains { $0.data.id == "ghost" })
                for key in ["n0", "n1", "n2"] {
                    let versions = events.filter { $0.subject == key }.map(\.version)
                    #expect(versions == versions.sorted(), "per-key order for \(key)")
                    #expect(versions.count == 10)
                }
                let first = try #require(messages.first)
                #expect(first.header("ce_type")?.stringValue == "crm.note.upserted")
                #expect(first.header("content-type")?.stringValue == "application/cloudevents+json")
                #expect(first.keyString == events[0].data.id)
                #expect(try await eventually { try await pool.query("SELECT 1 FROM outbox").isEmpty })
                relay.cancel()
                _ = try? await relay.value
                await consumer.close()
                await producer.close()
            }
        }
    }

    @Test("with the broker failing for a while nothing is lost")
    func brokerOutageLosesNothing() async throws {
        try await TestDatabase.withSchema("outbox") { pool, schema in
            try await Migrator(schema: schema, migrations: Outbox.migrations).apply(url: try TestDatabase.url())
            try await TestKafka.with { kafka in
                let cluster = try #require(kafka.cluster)
                let topic = TestKafka.uniqueName("outage")
                try await kafka.createTopic(topic, partitions: 2)
                var configuration = kafka.configuration
                configuration.properties["message.timeout.ms"] = "1000"
                let producer = try KafkaProducer(configuration: configuration)
                for broker in 1...3 { try await cluster.setBrokerDown(Int32(broker)) }
                let relay = startRelay(schema: schema, pool: pool, producer: producer)
                for index in 1...20 {
                    try await pool.withTransaction { transaction in
                        try await enqueueNote(Note(id: "k\(index)", text: "t\(index)"), version: 1,
                                              topic: topic, schema: schema, in: transaction)
                    }
                }
                // Deliveries time out and are retried while the brokers are away.
                try await Task.sleep(for: .seconds(3))
                #expect(try await pool.query("SELECT count(*) AS n FROM outbox")[0].decode("n", as: Int.self) == 20)
                for broker in 1...3 { try await cluster.setBrokerUp(Int32(broker)) }

                let consumer = try KafkaConsumer(configuration: kafka.consumerConfiguration, groupID: "g-\(topic)", topics: [topic])
                var seen = Set<String>()
                _ = try await eventually(timeout: .seconds(40)) {
                    for message in try await consumer.poll(maxMessages: 100, timeout: .milliseconds(300)) {
                        seen.insert(try decodeNote(message).data.id)
                    }
                    return seen.count == 20
                }
                #expect(seen == Set((1...20).map { "k\($0)" }))
                #expect(try await eventually { try await pool.query("SELECT 1 FROM outbox").isEmpty })
                relay.cancel()
                _ = try? await relay.value
                await consumer.close()
                await producer.close()
            }
        }
    }
}
