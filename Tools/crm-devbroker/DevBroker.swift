import ArgumentParser
import Dispatch
import Foundation
import Kafka
import Logging
import Messaging

/// Runs the embedded Kafka-protocol cluster for local development: creates every topic of
/// TOPICS.md, prints the bootstrap addresses (and writes them to a file for scripts), and stops
/// cleanly on SIGTERM or SIGINT.
@main
struct DevBroker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crm-devbroker",
        abstract: "Run an in-memory Kafka-protocol cluster (librdkafka's mock cluster) with the CRM topics.")

    @Option(help: "Number of brokers.")
    var brokers = 3

    @Option(help: "Partitions per topic (default: CRM_TOPIC_PARTITIONS, else 6).")
    var partitions = ProcessInfo.processInfo.environment["CRM_TOPIC_PARTITIONS"].flatMap(Int.init) ?? 6

    @Option(help: "Write the bootstrap addresses to this file once the cluster is up.")
    var bootstrapFile: String?

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        let logger = Logger(label: "crm-devbroker")
        let cluster = try EmbeddedKafkaCluster(brokers: brokers, logger: logger)
        let topics = TopicCatalogue.specs(partitions: partitions, replicationFactor: min(3, brokers))
        try await cluster.createTopics(topics)

        print("crm-devbroker: \(brokers) brokers, \(topics.count) topics, bootstrap \(cluster.bootstrapServers)")
        if let bootstrapFile {
            // Written last and atomically: its presence tells scripts the cluster is ready.
            try cluster.bootstrapServers.write(toFile: bootstrapFile, atomically: true, encoding: .utf8)
        }

        await waitForTerminationSignal()
        logger.info("stopping")
        if let bootstrapFile { try? FileManager.default.removeItem(atPath: bootstrapFile) }
        await cluster.shutdown()
    }
}

/// Suspends until SIGTERM or SIGINT arrives (delivered through dispatch sources, not a handler).
func waitForTerminationSignal() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let queue = DispatchQueue(label: "crm-devbroker.signals")
        let resumed = ResumeOnce(continuation)
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler { resumed.resume() }
            source.resume()
            SignalSources.keep(source)
        }
    }
}

private final class ResumeOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<Void, Never>?

    init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = continuation }

    func resume() {
        lock.lock()
        let pending = continuation
        continuation = nil
        lock.unlock()
        pending?.resume()
    }
}

/// Keeps signal sources alive for the life of the process.
private enum SignalSources {
    nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = []
    static func keep(_ source: any DispatchSourceSignal) { sources.append(source) }
}
