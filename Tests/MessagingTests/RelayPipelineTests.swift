import Contracts
import Foundation
import Kafka
import Messaging
import Postgres
import Testing
import TestSupport

/// The relay keeps several small batches with the producer at once; these tests make the
/// batches small so that every guarantee is exercised across batch boundaries.
@Suite("Outbox relay pipeline: several batches in flight")
struct RelayPipelineTests {
    private static let pipelined = OutboxRelay.Configuration(
        batchSize: 16, maxBatchesInFlight: 4, pollInterval: .milliseconds(200), standbyInterval: .milliseconds(200))

    @Test("per-key order holds with batches in flight; every row goes out once and is deleted")
    func orderUnderPipelining() async throws {
        try await TestDatabase.withSchema("outbox") { pool, schema in
            try await Migrator(schema: schema, migrations: Outbox.migrations).apply(url: try TestDatabase.url())
            try await TestKafka.with { kafka in
                let topic = TestKafka.uniqueName("pipeline")
                try await kafka.createTopic(topic, partitions: 3)
                let keys = (0..<8).map { "p\($0)" }
                try await enqueueVersions(keys: keys, versions: 1...40, topic: topic, schema: schema, pool: pool)
                let producer = try KafkaProducer(configuration: kafka.configuration)
                let relay = startRelay(schema: schema, pool: pool, producer: producer, configuration: Self.pipelined)
                let consumer = try KafkaConsumer(configuration: kafka.consumerConfiguration, groupID: "g-\(topic)", topics: [topic])
                let events = try await consume(consumer, count: keys.count * 40).map(decodeNote)
                for key in keys {
                    #expect(events.filter { $0.subject == key }.map(\.version) == (1...40).map(Int64.init), "order of \(key)")
                }
                #expect(try await eventually { try await pool.query("SELECT 1 FROM outbox").isEmpty })
                // Nothing more arrives: no row was sent twice.
                #expect(try await consumer.poll(maxMessages: 10, timeout: .seconds(1)).isEmpty)
                relay.cancel()
                _ = try? await relay.value
                await consumer.close()
                await producer.close()
            }
        }
    }

    @Test("a delivery failing in the middle of the pipeline loses nothing; each key ends on its newest version")
    func failureInTheMiddle() async throws {
        try await TestDatabase.withSchema("outbox") { pool, schema in
            try await Migrator(schema: schema, migrations: Outbox.migrations).apply(url: try TestDatabase.url())
            try await TestKafka.with { kafka in
                let cluster = try #require(kafka.cluster)
                let topic = TestKafka.uniqueName("pipeline-failure")
                try await kafka.createTopic(topic, partitions: 3)
                // Broker 1 leads partition 0 for certain, so taking it down blocks some rows.
                try await cluster.setPartitionLeader(topic: topic, partition: 0, brokerID: 1)
                let keys = (0..<24).map { "f\($0)" }
                try await enqueueVersions(keys: keys, versions: 1...20, topic: topic, schema: schema, pool: pool)
                var configuration = kafka.configuration
                configuration.properties["message.timeout.ms"] = "1000"
                let producer = try KafkaProducer(configuration: configuration)
                // The partitions broker 1 leads cannot be written: their rows time out in the middle
                // of batches whose other rows are delivered.
                try await cluster.setBrokerDown(1)
                let relay = startRelay(schema: schema, pool: pool, producer: producer, configuration: Self.pipelined)
                try await Task.sleep(for: .seconds(3))
                let stuck = try await pool.query("SELECT count(*) AS n FROM outbox")[0].decode("n", as: Int.self)
                // Rows of the other partitions are delivered meanwhile, but nothing after the first
                // failed row is deleted: those rows go out again with it.
                #expect(stuck > 0, "some rows wait for broker 1")
                try await cluster.setBrokerUp(1)

                let consumer = try KafkaConsumer(configuration: kafka.consumerConfiguration, groupID: "g-\(topic)", topics: [topic])
                var received: [String: [Int64]] = [:]
                let settled = try await eventually(timeout: .seconds(60)) {
                    for message in try await consumer.poll(maxMessages: 500, timeout: .milliseconds(300)) {
                        let event = try decodeNote(message)
                        received[event.subject, default: []].append(event.version)
                    }
                    let outboxEmpty = try await pool.query("SELECT 1 FROM outbox").isEmpty
                    return outboxEmpty && keys.allSatisfy { received[$0]?.last == 20 }
                }
                #expect(settled)
                // Stragglers would show up now; none may end a key on an older version.
                for message in try await consumer.poll(maxMessages: 500, timeout: .seconds(1)) {
                    let event = try decodeNote(message)
                    received[event.subject, default: []].append(event.version)
                }
                for key in keys {
                    let versions = received[key] ?? []
                    #expect(Set(versions) == Set(1...20), "every version of \(key) arrived")
                    #expect(versions.last == 20, "\(key) ends on its newest version")
                }
                relay.cancel()
                _ = try? await relay.value
                await consumer.close()
                await producer.close()
            }
        }
    }

    @Test("a refused row parks across batch boundaries: other keys go on, its later rows wait")
    func parkingAcrossBatches() async throws {
        try await TestDatabase.withSchema("outbox") { pool, schema in
            try await Migrator(schema: schema, migrations: Outbox.migrations).apply(url: try TestDatabase.url())
            try await TestKafka.with { kafka in
                let topic = TestKafka.uniqueName("pipeline-parked")
                try await kafka.createTopic(topic, partitions: 2)
                var configuration = kafka.configuration
                configuration.properties["message.max.bytes"] = "20000"
                let producer = try KafkaProducer(configuration: configuration)
                let outbox = Outbox(schema: schema)
                // Batches of two: the refused row, its key's later rows and the other keys all
                // land in different batches.
                try await pool.withTransaction { transaction in
                    try await outbox.enqueue(topic: topic, key: "big", payload: String(repeating: "x", count: 50_000), in: transaction)
                    for index in 1...3 {
                        try await outbox.enqueue(topic: topic, key: "other-\(index)", payload: "small \(index)", in: transaction)
                    }
                    try await outbox.enqueue(topic: topic, key: "big", payload: "after the big one", in: transaction)
                    for index in 4...9 {
                        try await outbox.enqueue(topic: topic, key: "other-\(index)", payload: "small \(index)", in: transaction)
                    }
                    try await outbox.enqueue(topic: topic, key: "big", payload: "last", in: transaction)
                }
                let relay = startRelay(schema: schema, pool: pool, producer: producer, configuration: .init(
                    batchSize: 2, maxBatchesInFlight: 4, pollInterval: .milliseconds(200), standbyInterval: .milliseconds(200)))
                let consumer = try KafkaConsumer(configuration: kafka.consumerConfiguration, groupID: "g-\(topic)", topics: [topic])
                let first = try await consume(consumer, count: 9)
                #expect(Set(first.compactMap(\.keyString)) == Set((1...9).map { "other-\($0)" }))
                let parked = ParkedMessages()
                let entries = try await parked.list(in: pool)
                #expect(entries.map(\.key) == ["big"])
                try await Task.sleep(for: .seconds(1))
                #expect(try await pool.query("SELECT payload FROM outbox ORDER BY id").map { try $0.decode("payload", as: String.self) }
                    == ["after the big one", "last"])
                #expect(try await parked.drop(ids: entries.map(\.id), in: pool) == 1)
                let rest = try await consume(consumer, count: 2, timeout: .seconds(20))
                #expect(rest.compactMap { $0.value.map { String(decoding: $0, as: UTF8.self) } } == ["after the big one", "last"])
                relay.cancel()
                _ = try? await relay.value
                await consumer.close()
                await producer.close()
            }
        }
    }
}

/// Versions `versions` of each key, interleaved across keys, committed in a few transactions.
private func enqueueVersions(
    keys: [String], versions: ClosedRange<Int>, topic: String, schema: String, pool: PostgresPool
) async throws {
    for version in versions {
        try await pool.withTransaction { transaction in
            for key in keys {
                try await enqueueNote(Note(id: key, text: "v\(version)"), version: Int64(version),
                                      topic: topic, schema: schema, in: transaction)
            }
        }
    }
}
