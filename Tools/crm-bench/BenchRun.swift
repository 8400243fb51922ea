import Contracts
import Foundation
import Kafka
import Messaging
import Postgres

struct BenchPayload: Codable, Sendable {
    var id: String
    var body: String
}

/// The measurements of one run; each returns messages per second.
struct BenchRun {
    let messages: Int
    let kafka: KafkaConfiguration
    let cluster: EmbeddedKafkaCluster?
    let pool: PostgresPool
    let schema: String
    private let body = String(repeating: "x", count: 200)

    init(messages: Int, kafka: KafkaConfiguration, cluster: EmbeddedKafkaCluster?, pool: PostgresPool, schema: String) {
        self.messages = messages
        self.kafka = kafka
        self.cluster = cluster
        self.pool = pool
        self.schema = schema
    }

    private func topic(_ name: String) async throws -> String {
        let topic = "bench.\(name).\(schema)"
        if let cluster {
            try await cluster.createTopic(topic, partitions: 6, replicationFactor: 3)
        } else {
            _ = try await TopicProvisioner.ensure([TopicSpec(name: topic, partitions: 6, replicationFactor: 3)], configuration: kafka)
        }
        return topic
    }

    private func event(_ index: Int) throws -> String {
        let payload = BenchPayload(id: "id-\(index)", body: body)
        let event = CloudEvent(source: "crm-bench", type: "crm.bench.upserted", subject: payload.id, version: 1, data: payload)
        return String(decoding: try CRMJSON.makeEncoder().encode(event), as: UTF8.self)
    }

    /// Messages per second for `count` messages (default: all of them) handled by `body`.
    private func timed(count: Int? = nil, _ body: () async throws -> Void) async rethrows -> Double {
        let start = ContinuousClock.now
        try await body()
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Double(count ?? messages) / seconds
    }

    /// Sends one message to `topic` and waits for it. A new producer first gets its idempotence
    /// id and learns the topic's leaders, which takes up to a second on the mock cluster; the
    /// produce and relay figures both start after that, so they compare throughput rather than
    /// who waited longer for the first metadata answer.
    private func warm(_ producer: KafkaProducer, for topic: String) async {
        _ = await producer.send([ProducerRecord(topic: topic, key: "warm-up", value: "{}")])
    }

    /// Plain librdkafka: enqueue everything, wait for every acknowledgement.
    func rawProduce() async throws -> Double {
        let topic = try await topic("raw-produce")
        let producer = try KafkaProducer(configuration: kafka)
        let records = try (0..<messages).map { ProducerRecord(topic: topic, key: "id-\($0)", value: try event($0)) }
        await warm(producer, for: topic)
        let rate = await timed { _ = await producer.send(records) }
        await producer.close()
        return rate
    }

    /// Outbox rows (already committed) until the relay has published and deleted them all, with
    /// the services' relay configuration; `maxBatchesInFlight: 1` is the relay without pipelining.
    func relayThroughput(maxBatchesInFlight: Int = OutboxRelay.Configuration().maxBatchesInFlight) async throws -> Double {
        let topic = try await topic("relay-\(maxBatchesInFlight)")
        let outbox = Outbox(schema: schema)
        for chunk in stride(from: 0, to: messages, by: 500) {
            try await pool.withTransaction { transaction in
                for index in chunk..<min(chunk + 500, messages) {
                    try await outbox.enqueue(topic: topic, key: "id-\(index)", payload: try event(index), in: transaction)
                }
            }
        }
        let producer = try KafkaProducer(configuration: kafka)
        await warm(producer, for: topic)
        let relay = OutboxRelay(outbox: outbox, pool: pool, producer: producer,
                                configuration: .init(maxBatchesInFlight: maxBatchesInFlight, pollInterval: .milliseconds(50)))
        let rate = try await timed {
            let task = Task { try await relay.run() }
            while try await pool.query("SELECT 1 FROM outbox LIMIT 1").count > 0 {
                try await Task.sleep(for: .milliseconds(20))
            }
            task.cancel()
        }
        await producer.close()
        return rate
    }

    /// Plain batched INSERTs: 500-row multi-VALUES statements, one transaction each.
    func rawInserts() async throws -> Double {
        try await timed {
            for chunk in stride(from: 0, to: messages, by: 500) {
                var query = PostgresQuery(sql: "INSERT INTO raw_rows (id, body, version) VALUES ")
                for index in chunk..<min(chunk + 500, messages) {
                    if index > chunk { query.append(", ") }
                    query.append("(\("raw-\(index)"), \(body), \(1))")
                }
                try await pool.withTransaction { try await $0.execute(query) }
            }
        }
    }

    /// Plain librdkafka consumption of the raw-produce topic's size, without a database.
    func rawConsume() async throws -> Double {
        let topic = try await topic("raw-consume")
        let producer = try KafkaProducer(configuration: kafka)
        _ = await producer.send(try (0..<messages).map { ProducerRecord(topic: topic, key: "id-\($0)", value: try event($0)) })
        await producer.close()
        let consumer = try KafkaConsumer(configuration: kafka, groupID: "bench-raw-\(schema)", topics: [topic])
        // Let the group settle before timing.
        var received = try await consumer.poll(maxMessages: 1, timeout: .seconds(10)).count
        let rate = try await timed(count: messages - received) {
            while received < messages {
                let batch = try await consumer.poll(maxMessages: 1000, timeout: .milliseconds(100))
                try await consumer.commit(batch)
                received += batch.count
            }
        }
        await consumer.close()
        return rate
    }

    /// Messages on a topic until the consumer runtime has upserted every one: with a handler
    /// that applies the batch set-based (`VersionedUpsert`'s batch form), or one message at a time.
    func consumerRuntimeThroughput(setBased: Bool) async throws -> Double {
        let name = setBased ? "runtime-batch" : "runtime"
        let topic = try await topic(name)
        try await pool.execute("TRUNCATE bench_rows")
        let producer = try KafkaProducer(configuration: kafka)
        _ = await producer.send(try (0..<messages).map { ProducerRecord(topic: topic, key: "id-\($0)", value: try event($0)) })
        let consumer = try KafkaConsumer(configuration: kafka, groupID: "bench-\(name)-\(schema)", topics: [topic])
        let handler: any MessageHandler = setBased ? BatchBenchHandler() : BenchHandler()
        let runtime = ConsumerRuntime(consumer: consumer, pool: pool, deadLetterProducer: producer, handler: handler,
                                      configuration: .init(batchSize: 1000, batchTimeout: .milliseconds(100)))
        // The first group join takes ~3 s on the mock cluster; start timing once rows appear.
        let task = Task { try await runtime.run() }
        var alreadyDone = 0
        while alreadyDone == 0 {
            try await Task.sleep(for: .milliseconds(10))
            alreadyDone = try await pool.query("SELECT count(*) AS n FROM bench_rows")[0].decode("n", as: Int.self)
        }
        let rate = try await timed(count: messages - alreadyDone) {
            while try await pool.query("SELECT count(*) AS n FROM bench_rows")[0].decode("n", as: Int.self) < messages {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        task.cancel()
        _ = try? await task.value
        await producer.close()
        return rate
    }
}

struct BenchHandler: MessageHandler {
    func handle(_ message: KafkaMessage, in transaction: PostgresTransaction) async throws {
        let event = try CRMJSON.makeDecoder().decode(CloudEvent<BenchPayload>.self, from: Data(message.value ?? []))
        try await VersionedUpsert.apply(
            table: "bench_rows", key: ["id"],
            columns: [("id", event.data.id), ("body", event.data.body), ("version", event.version)], in: transaction)
    }
}

/// The same upsert, the whole poll batch in one multi-row statement.
struct BatchBenchHandler: BatchMessageHandler {
    func decode(_ message: KafkaMessage) throws -> CloudEvent<BenchPayload> {
        try CRMJSON.makeDecoder().decode(CloudEvent<BenchPayload>.self, from: Data(message.value ?? []))
    }

    func apply(_ batch: [CloudEvent<BenchPayload>], in transaction: PostgresTransaction) async throws {
        try await VersionedUpsert.apply(
            table: "bench_rows", key: ["id"],
            rows: batch.map { [("id", $0.data.id), ("body", $0.data.body), ("version", $0.version)] }, in: transaction)
    }
}
