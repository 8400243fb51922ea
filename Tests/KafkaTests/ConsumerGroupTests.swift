import Foundation
import Kafka
import Testing
import TestSupport

@Suite("Kafka consumer groups")
struct ConsumerGroupTests {
    @Test("a consumer restarted after a committed batch resumes after it and loses nothing")
    func restartResumesAfterCommit() async throws {
        try await TestKafka.with { kafka in
            let topic = TestKafka.uniqueName("resume")
            try await kafka.createTopic(topic, partitions: 1)
            let producer = try KafkaProducer(configuration: kafka.configuration)
            _ = await producer.send((1...10).map { ProducerRecord(topic: topic, key: "k", value: "\($0)") })
            let group = "g-\(topic)"

            let first = try KafkaConsumer(configuration: kafka.consumerConfiguration, groupID: group, topics: [topic])
            var firstBatch = try await consume(first, count: 4, commit: false)
            firstBatch = Array(firstBatch.prefix(4))
            try await first.commit(firstBatch)
            await first.close()
            #expect(firstBatch.compactMap(\.valueString) == ["1", "2", "3", "4"])

            _ = await producer.send((11...15).map { ProducerRecord(topic: topic, key: "k", value: "\($0)") })
            let second = try KafkaConsumer(configuration: kafka.consumerConfiguration, groupID: group, topics: [topic])
            let rest = try await consume(second, count: 11)
            #expect(rest.compactMap(\.valueString) == (5...15).map(String.init))
            await second.close()
            await producer.close()
        }
    }

    @Test("an uncommitted batch is delivered again after a restart")
    func uncommittedBatchIsReplayed() async throws {
        try await TestKafka.with { kafka in
            let topic = TestKafka.uniqueName("replay")
            try await kafka.createTopic(topic, partitions: 1)
            let producer = try KafkaProducer(configuration: kafka.configuration)
            _ = await producer.send((1...3).map { ProducerRecord(topic: topic, key: "k", value: "\($0)") })
            let group = "g-\(topic)"
            let first = try KafkaConsumer(configuration: kafka.consumerConfiguration, groupID: group, topics: [topic])
            #expect(try await consume(first, count: 3, commit: false).count == 3)
            await first.close()
            let second = try KafkaConsumer(configuration: kafka.consumerConfiguration, groupID: group, topics: [topic])
            #expect(try await consume(second, count: 3).compactMap(\.valueString) == ["1", "2", "3"])
            await second.close()
            await producer.close()
        }
    }

    @Test("a group of two splits the partitions and survives one member leaving")
    func groupSplitsAndSurvivesLeave() async throws {
        try await TestKafka.with { kafka in
            let topic = TestKafka.uniqueName("group")
            try await kafka.createTopic(topic, partitions: 4)
            let group = "g-\(topic)"
            let producer = try KafkaProducer(configuration: kafka.configuration)
            let a = try KafkaConsumer(configuration: kafka.consumerConfiguration, groupID: group, topics: [topic])
            let b = try KafkaConsumer(configuration: kafka.consumerConfiguration, groupID: group, topics: [topic])

            // Both poll until the group settled with each holding part of the topic.
            var received: [String: Int] = [:]
            // A commit refused during a rebalance means the next owner reads those messages again
            // (at least once); the runtime's version checks make that harmless. Track them.
            var refusedCommits = Set<String>()
            func drain(_ consumer: KafkaConsumer) async throws {
                let batch = try await consumer.poll(maxMessages: 100, timeout: .milliseconds(200))
                for message in batch { received[message.valueString ?? "", default: 0] += 1 }
                do {
                    try await consumer.commit(batch)
                } catch is KafkaError {
                    refusedCommits.formUnion(batch.compactMap(\.valueString))
                }
            }
            let split = try await eventually(timeout: .seconds(30)) {
                try await drain(a)
                try await drain(b)
                let (ownedByA, ownedByB) = (try await a.assignment(), try await b.assignment())
                return !ownedByA.isEmpty && !ownedByB.isEmpty && ownedByA.count + ownedByB.count == 4
                    && Set(ownedByA).isDisjoint(with: Set(ownedByB))
            }
            #expect(split, "both members should own partitions")

            _ = await producer.send((1...40).map { ProducerRecord(topic: topic, key: "key-\($0)", value: "\($0)") })
            _ = try await eventually(timeout: .seconds(20)) {
                try await drain(a)
                try await drain(b)
                return received.count == 40
            }
            #expect(received.count == 40)

            await b.close()
            _ = await producer.send((41...80).map { ProducerRecord(topic: topic, key: "key-\($0)", value: "\($0)") })
            let tookOver = try await eventually(timeout: .seconds(30)) {
                try await drain(a)
                return received.count == 80
            }
            #expect(tookOver, "the remaining member should take over every partition")
            #expect(try await a.assignment().count == 4)
            let repeated = Set(received.filter { $0.value > 1 }.keys)
            #expect(repeated.isSubset(of: refusedCommits), "only messages whose commit was refused come again")
            await a.close()
            await producer.close()
        }
    }
}
