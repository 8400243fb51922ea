import Foundation
import Kafka
import Testing
import TestSupport

@Suite("Kafka producer and consumer")
struct ProduceConsumeTests {
    @Test("messages go through the embedded cluster with keys and headers")
    func produceAndConsume() async throws {
        try await TestKafka.with { kafka in
            let topic = TestKafka.uniqueName("roundtrip")
            try await kafka.createTopic(topic, partitions: 3)
            let producer = try KafkaProducer(configuration: kafka.configuration)
            let report = try await producer.send(ProducerRecord(
                topic: topic, key: "k1", value: "{\"hello\":1}", headers: [KafkaHeader(name: "ce_type", string: "test")]))
            #expect(report.topic == topic)
            #expect(report.offset >= 0)

            let consumer = try KafkaConsumer(configuration: kafka.consumerConfiguration, groupID: "g-\(topic)", topics: [topic])
            let messages = try await consume(consumer, count: 1)
            #expect(messages.count == 1)
            #expect(messages.first?.keyString == "k1")
            #expect(messages.first?.valueString == "{\"hello\":1}")
            #expect(messages.first?.header("ce_type")?.stringValue == "test")
            await consumer.close()
            await producer.close()
        }
    }

    @Test("a produce that hits injected request errors is still delivered exactly once")
    func injectedErrorsDeliverOnce() async throws {
        try await TestKafka.with { kafka in
            let cluster = try #require(kafka.cluster, "fault injection needs the embedded cluster")
            let topic = TestKafka.uniqueName("faults")
            try await kafka.createTopic(topic, partitions: 1)
            let producer = try KafkaProducer(configuration: kafka.configuration)
            try await producer.send(ProducerRecord(topic: topic, key: "warm-up", value: "0"))

            await cluster.pushRequestErrors(apiKey: KafkaProtocol.produceAPI, errors: [
                KafkaProtocol.notLeaderForPartition, KafkaProtocol.requestTimedOut,
                KafkaProtocol.notEnoughReplicas, KafkaProtocol.requestTimedOut,
            ])
            let records = (1...20).map { ProducerRecord(topic: topic, key: "k", value: "\($0)") }
            let results = await producer.send(records)
            #expect(results.allSatisfy { (try? $0.get()) != nil })

            let consumer = try KafkaConsumer(configuration: kafka.consumerConfiguration, groupID: "g-\(topic)", topics: [topic])
            let messages = try await consume(consumer, count: 21, timeout: .seconds(20))
            let values = messages.compactMap(\.valueString)
            #expect(values == ["0"] + (1...20).map(String.init), "every message once, in order")
            // Nothing more arrives: no duplicates hiding behind the count.
            #expect(try await consumer.poll(maxMessages: 10, timeout: .seconds(1)).isEmpty)
            await consumer.close()
            await producer.close()
        }
    }

    @Test("prepare loads a topic's leaders ahead of the first send, and fails when no broker answers")
    func prepareLoadsLeaders() async throws {
        try await TestKafka.with { kafka in
            let cluster = try #require(kafka.cluster)
            let topic = TestKafka.uniqueName("prepared")
            try await kafka.createTopic(topic, partitions: 3)
            let producer = try KafkaProducer(configuration: kafka.configuration)
            try await producer.prepare(topics: [topic])
            let report = try await producer.send(ProducerRecord(topic: topic, key: "k", value: "first"))
            #expect(report.topic == topic)
            await producer.close()

            let unprepared = try KafkaProducer(configuration: kafka.configuration)
            for broker in 1...3 { try await cluster.setBrokerDown(Int32(broker)) }
            await #expect(throws: KafkaError.self) {
                try await unprepared.prepare(topics: [topic], timeout: .seconds(1))
            }
            await unprepared.close(timeout: .seconds(1))
        }
    }

    @Test("a failed delivery is reported, not swallowed")
    func deliveryFailureIsReported() async throws {
        try await TestKafka.with { kafka in
            let topic = TestKafka.uniqueName("timeout")
            try await kafka.createTopic(topic, partitions: 1)
            var configuration = kafka.configuration
            configuration.properties["message.timeout.ms"] = "1500"
            let producer = try KafkaProducer(configuration: configuration)
            for broker in 1...3 { try await kafka.cluster?.setBrokerDown(Int32(broker)) }
            await #expect(throws: KafkaError.self) {
                try await producer.send(ProducerRecord(topic: topic, key: "k", value: "lost?"))
            }
            await producer.close(timeout: .seconds(1))
        }
    }

    @Test("bad client configuration is a clear error")
    func badConfigurationIsAnError() throws {
        let configuration = KafkaConfiguration(bootstrapServers: "127.0.0.1:1", properties: ["no.such.property": "1"])
        do {
            _ = try KafkaProducer(configuration: configuration)
            Issue.record("an unknown property should be refused")
        } catch let error as KafkaError {
            #expect(error.message.contains("no.such.property"))
        }
    }

    @Test("CRM_KAFKA_* variables pass through to librdkafka")
    func environmentPassThrough() {
        let configuration = KafkaConfiguration.fromEnvironment([
            "CRM_KAFKA_BROKERS": "b1:9092,b2:9092",
            "CRM_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "CRM_KAFKA_SASL_MECHANISMS": "PLAIN",
            "CRM_OTHER": "ignored",
        ])
        #expect(configuration.properties == [
            "bootstrap.servers": "b1:9092,b2:9092",
            "security.protocol": "SASL_SSL",
            "sasl.mechanisms": "PLAIN",
        ])
    }
}

@Suite("Producer shutdown")
struct ProducerShutdownTests {
    @Test("closing the producer fails a send that is still waiting for an unreachable broker, instead of hanging")
    func closeFailsPendingSends() async throws {
        try await TestKafka.with { kafka in
            let cluster = try #require(kafka.cluster)
            let topic = TestKafka.uniqueName("closing")
            try await kafka.createTopic(topic, partitions: 1)
            let producer = try KafkaProducer(configuration: kafka.configuration)
            for broker in 1...3 { try await cluster.setBrokerDown(Int32(broker)) }
            let pending = Task { await producer.send([ProducerRecord(topic: topic, key: "k", value: "v")]) }
            try await Task.sleep(for: .milliseconds(500))
            let started = ContinuousClock.now
            await producer.close(timeout: .seconds(1))
            let results = await pending.value
            #expect(ContinuousClock.now - started < .seconds(10), "close is bounded")
            #expect(results.count == 1)
            if case .success = results[0] { Issue.record("the send cannot have succeeded with every broker down") }
        }
    }

    @Test("cancelling a task that waits for an unreachable broker ends its send at once, with a failure")
    func cancelledSendReturns() async throws {
        try await TestKafka.with { kafka in
            let cluster = try #require(kafka.cluster)
            let topic = TestKafka.uniqueName("cancelled")
            try await kafka.createTopic(topic, partitions: 1)
            let producer = try KafkaProducer(configuration: kafka.configuration)
            for broker in 1...3 { try await cluster.setBrokerDown(Int32(broker)) }
            let pending = Task { await producer.send([ProducerRecord(topic: topic, key: "k", value: "v")]) }
            try await Task.sleep(for: .milliseconds(300))
            let started = ContinuousClock.now
            pending.cancel()
            let results = await pending.value
            #expect(ContinuousClock.now - started < .seconds(2))
            #expect(results.count == 1)
            if case .success = results[0] { Issue.record("cannot have succeeded") }
            await producer.close(timeout: .seconds(1))
        }
    }
}
