import ArgumentParser
import Contracts
import Foundation
import Kafka

/// `crm dlq list|replay`: the messages consumers gave up on, with their reasons.
struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "List crm.dlq.v1 and replay dead letters to their original topic.",
        subcommands: [List.self, Replay.self])

    /// Reads the whole dead-letter topic with a throw-away group (nothing is committed).
    static func readAll(limit: Int) async throws -> [KafkaMessage] {
        let configuration = KafkaConfiguration.fromEnvironment(ProcessInfo.processInfo.environment)
        let consumer = try KafkaConsumer(configuration: configuration, groupID: "crm-cli-dlq-\(UUID().uuidString)", topics: [Topic.deadLetters])
        var messages: [KafkaMessage] = []
        var quiet = ContinuousClock.now
        // The group's first join takes a few seconds; after the first message, 2 s of silence ends it.
        let deadline = ContinuousClock.now + .seconds(15)
        while messages.count < limit {
            let batch = try await consumer.poll(maxMessages: 500, timeout: .milliseconds(500))
            if batch.isEmpty {
                if !messages.isEmpty && ContinuousClock.now - quiet > .seconds(2) { break }
                if messages.isEmpty && ContinuousClock.now > deadline { break }
                continue
            }
            messages += batch
            quiet = ContinuousClock.now
            if messages.count % 1000 < batch.count { FileHandle.standardError.write(Data("read \(messages.count)…\n".utf8)) }
        }
        await consumer.close()
        return Array(messages.sorted { ($0.partition, $0.offset) < ($1.partition, $1.offset) }.prefix(limit))
    }

    /// `partition:offset` of a dead letter on crm.dlq.v1, how `list` names it and `replay` takes it.
    static func position(_ message: KafkaMessage) -> String { "\(message.partition):\(message.offset)" }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters (uses CRM_KAFKA_BROKERS).")

        @Option(help: "Only those that came from this topic.")
        var topic: String?

        @Option(help: "At most this many.")
        var limit = 1000

        func run() async throws {
            let messages = try await DeadLetterCommand.readAll(limit: limit)
                .filter { topic == nil || $0.header(DeadLetterHeader.topic)?.stringValue == topic }
            if messages.isEmpty { print("no dead letters") }
            for message in messages {
                let origin = [DeadLetterHeader.topic, DeadLetterHeader.partition, DeadLetterHeader.offset]
                    .map { message.header($0)?.stringValue ?? "?" }.joined(separator: "/")
                print("""
                    \(DeadLetterCommand.position(message))\tfrom \(origin)\tkey=\(message.keyString ?? "-")\t\
                    consumer=\(message.header(DeadLetterHeader.consumer)?.stringValue ?? "?")\t\
                    \(message.header(DeadLetterHeader.error)?.stringValue ?? "")
                    """)
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish dead letters again to their original topic, once the cause is fixed.")

        @Option(name: .customLong("at"), help: "A dead letter's partition:offset as `list` prints it (repeatable).")
        var positions: [String] = []

        @Flag(help: "Replay every dead letter (of --topic, when given).")
        var all = false

        @Option(help: "With --all: only those that came from this topic.")
        var topic: String?

        func validate() throws {
            if positions.isEmpty && !all { throw ValidationError("replay needs --at <partition:offset> or --all") }
        }

        func run() async throws {
            let wanted = Set(positions)
            let selected = try await DeadLetterCommand.readAll(limit: 1_000_000).filter { message in
                if all { return topic == nil || message.header(DeadLetterHeader.topic)?.stringValue == topic }
                return wanted.contains(DeadLetterCommand.position(message))
            }
            guard !selected.isEmpty else { throw CommandFailure("no dead letter matched") }
            let records = try selected.map { message -> ProducerRecord in
                guard let original = message.header(DeadLetterHeader.topic)?.stringValue else {
                    throw CommandFailure("the dead letter at \(DeadLetterCommand.position(message)) has no \(DeadLetterHeader.topic) header")
                }
                // The original headers, without what the dead-lettering added.
                let headers = message.headers.filter { !$0.name.hasPrefix("crm_dlq_") }
                return ProducerRecord(topic: original, key: message.key, value: message.value, headers: headers)
            }
            let producer = try KafkaProducer(configuration: .fromEnvironment(ProcessInfo.processInfo.environment))
            let results = await producer.send(records)
            await producer.close()
            let failed = results.filter { (try? $0.get()) == nil }.count
            print("replayed \(records.count - failed) of \(records.count) dead letter(s) to their original topics")
            if failed > 0 { throw CommandFailure("\(failed) could not be published") }
        }
    }
}
