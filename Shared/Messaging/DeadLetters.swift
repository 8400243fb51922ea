import Contracts
import Foundation
import Kafka

/// Reading `crm.dlq.v1` and sending dead letters back where they came from, once their cause is
/// fixed (`crm dlq list|replay`).
public enum DeadLetters {
    /// `partition:offset` of a dead letter on `crm.dlq.v1`: how `crm dlq list` names it.
    public static func position(_ message: KafkaMessage) -> String { "\(message.partition):\(message.offset)" }

    /// Reads the whole dead-letter topic (or `topics`) with a throw-away group (it commits
    /// nothing), in partition and offset order, until it has been quiet for `quiet` after the
    /// last message.
    public static func readAll(
        configuration: KafkaConfiguration, topics: [String] = [Topic.deadLetters], limit: Int = 1_000_000,
        quiet: Duration = .seconds(2), firstMessageWithin: Duration = .seconds(15), progress: (Int) -> Void = { _ in }
    ) async throws -> [KafkaMessage] {
        let consumer = try KafkaConsumer(
            configuration: configuration, groupID: "crm-dlq-reader-\(UUID().uuidString)", topics: topics)
        var messages: [KafkaMessage] = []
        var lastArrival = ContinuousClock.now
        // A group's first join takes a few seconds, so the first message may take a while.
        let deadline = ContinuousClock.now + firstMessageWithin
        while messages.count < limit {
            let batch = try await consumer.poll(maxMessages: 500, timeout: .milliseconds(500))
            if batch.isEmpty {
                if !messages.isEmpty && ContinuousClock.now - lastArrival > quiet { break }
                if messages.isEmpty && ContinuousClock.now > deadline { break }
                continue
            }
            messages += batch
            lastArrival = ContinuousClock.now
            progress(messages.count)
        }
        await consumer.close()
        return Array(messages.sorted { ($0.topic, $0.partition, $0.offset) < ($1.topic, $1.partition, $1.offset) }.prefix(limit))
    }

    /// The original message of a dead letter: its topic from `crm_dlq_topic`, its key, value and
    /// headers without the `crm_dlq_*` ones the dead-lettering added. Nil without an origin.
    public static func original(of message: KafkaMessage) -> ProducerRecord? {
        guard let topic = message.header(DeadLetterHeader.topic)?.stringValue, !topic.isEmpty else { return nil }
        return ProducerRecord(
            topic: topic, key: message.key, value: message.value, headers: message.headers.filter { !$0.name.hasPrefix("crm_dlq_") })
    }

    /// Publishes the originals of `messages` again; returns how many the broker acknowledged.
    public static func replay(_ messages: [KafkaMessage], with producer: KafkaProducer) async -> (replayed: Int, failed: Int) {
        let records = messages.compactMap(original(of:))
        let refused = await producer.send(records).filter { (try? $0.get()) == nil }.count
        // Dead letters without an origin cannot be replayed: they count as failed.
        return (records.count - refused, refused + messages.count - records.count)
    }
}
