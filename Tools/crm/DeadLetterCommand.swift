import ArgumentParser
import Contracts
import Foundation
import Kafka
import Messaging

/// `crm dlq list|replay`: the messages consumers gave up on, with their reasons.
struct DeadLetterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "List crm.dlq.v1 and replay dead letters to their original topic (uses CRM_KAFKA_BROKERS).",
        subcommands: [List.self, Replay.self])

    static func readAll(limit: Int) async throws -> [KafkaMessage] {
        try await DeadLetters.readAll(
            configuration: .fromEnvironment(ProcessInfo.processInfo.environment), limit: limit
        ) { count in
            if count % 1000 < 500 { FileHandle.standardError.write(Data("read \(count) dead letters…\n".utf8)) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters with their origin and reason.")

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
                    \(DeadLetters.position(message))\tfrom \(origin)\tkey=\(message.keyString ?? "-")\t\
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
                return wanted.contains(DeadLetters.position(message))
            }
            guard !selected.isEmpty else { throw CommandFailure("no dead letter matched") }
            let producer = try KafkaProducer(configuration: .fromEnvironment(ProcessInfo.processInfo.environment))
            let outcome = await DeadLetters.replay(selected, with: producer)
            await producer.close()
            print("replayed \(outcome.replayed) of \(selected.count) dead letter(s) to their original topics")
            if outcome.failed > 0 { throw CommandFailure("\(outcome.failed) could not be published") }
        }
    }
}
