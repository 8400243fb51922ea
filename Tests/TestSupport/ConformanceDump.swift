import Foundation
import Kafka
import Messaging

/// Message conformance (docs/asyncapi.yaml): with `CRM_CONFORMANCE_DIR` set, a test's broker is
/// read back before it goes away and every message on the contract topics is written there as
/// a JSON line; `deploy/local/conformance/validate_messages.py` then checks each one against its
/// JSON Schema. Reading the broker rather than hooking the producers keeps production code free
/// of test hooks and sees exactly what consumers would see. Only with the embedded cluster: a
/// shared real cluster holds other tests' messages too.
public enum ConformanceDump {
    static var directory: URL? {
        guard let path = ProcessInfo.processInfo.environment["CRM_CONFORMANCE_DIR"], !path.isEmpty else { return nil }
        return URL(fileURLWithPath: path, isDirectory: true)
    }

    /// One line per message: topic, partition, offset, key, headers and value as text.
    struct Line: Encodable {
        var topic: String
        var partition: Int32
        var offset: Int64
        var key: String?
        var headers: [String: String]
        var value: String?
        /// Which test instance published it (the schema name), for finding the test.
        var instance: String
    }

    public static func dump(_ kafka: TestKafka, instance: String) async throws {
        guard let directory, kafka.cluster != nil else { return }
        let topics = TopicCatalogue.specs().map(\.name)
        let messages = try await DeadLetters.readAll(
            configuration: kafka.consumerConfiguration, topics: topics, quiet: .seconds(1), firstMessageWithin: .seconds(10))
        guard !messages.isEmpty else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var text = Data()
        for message in messages {
            var headers: [String: String] = [:]
            for header in message.headers { headers[header.name] = header.value.map { String(decoding: $0, as: UTF8.self) } ?? "" }
            let line = Line(
                topic: message.topic, partition: message.partition, offset: message.offset, key: message.keyString,
                headers: headers, value: message.valueString, instance: instance)
            text.append(try encoder.encode(line))
            text.append(UInt8(ascii: "\n"))
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try text.write(to: directory.appendingPathComponent("messages-\(instance)-\(UUID().uuidString.prefix(8)).jsonl"))
    }
}
