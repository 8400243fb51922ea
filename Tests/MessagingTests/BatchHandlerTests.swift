import Contracts
import Foundation
import Kafka
import Messaging
import Postgres
import Testing
import TestSupport

/// The consumer runtime's set-based path (`BatchMessageHandler`): a whole poll batch in one
/// handler call, with the per-message savepoint pass as the fallback.
@Suite("Consumer runtime: set-based batches")
struct BatchHandlerTests {
    private func note(_ id: String, _ text: String, version: Int64) throws -> [UInt8] {
        let event = CloudEvent(source: "crm-test", type: "crm.note.upserted", subject: id, version: version,
                               data: Note(id: id, text: text))
        return Array(try CRMJSON.makeEncoder().encode(event))
    }

    /// Publishes `records` in one go (so the runtime polls them as one batch), runs a runtime
    /// with `BatchNoteHandler` until `done` holds, then stops it.
    private func consume(
        _ records: [ProducerRecord], kafka: TestKafka, pool: PostgresPool, topic: String, until done: () async throws -> Bool
    ) async throws -> Bool {
        let producer = try KafkaProducer(configuration: kafka.configuration)
        let results = await producer.send(records)
        #expect(results.allSatisfy { if case .success = $0 { true } else { false } })
        let consumer = try KafkaConsumer(configuration: kafka.consumerConfiguration, groupID: "batch-notes-\(topic)", topics: [topic])
        let runtime = ConsumerRuntime(
            consumer: consumer, pool: pool, deadLetterProducer: producer, handler: BatchNoteHandler(),
            configuration: .init(batchSize: 500, batchTimeout: .milliseconds(500), maxAttempts: 3))
        let task = Task { try await runtime.run() }
        let finished = try await eventually(timeout: .seconds(30), done)
        task.cancel()
        _ = try? await task.value
        await producer.close()
        return finished
    }

    private func notes(_ pool: PostgresPool) async throws -> [String] {
        try await pool.query("SELECT id, text, version FROM notes ORDER BY id").map {
            "\(try $0.decode("id", as: String.self))=\(try $0.decode("text", as: String.self))@\(try $0.decode("version", as: Int.self))"
        }
    }

    @Test("a poison message in the middle of a batch: the others are applied, the poison goes to crm.dlq.v1")
    func poisonInTheMiddle() async throws {
        try await TestDatabase.withSchema("batch") { pool, _ in
            try await pool.withConnection { try await $0.executeScript(notesTableSQL) }
            try await TestKafka.with { kafka in
                let topic = TestKafka.uniqueName("batch-poison")
                try await kafka.createTopic(topic, partitions: 1)
                try await kafka.createTopic(Topic.deadLetters, partitions: 1)
                let violating = "bad-\(UUID().uuidString.prefix(6))"
                var records: [ProducerRecord] = []
                for index in 0..<10 {
                    records.append(ProducerRecord(topic: topic, key: Array("n\(index)".utf8), value: try note("n\(index)", "before", version: 1)))
                }
                // Bad input (rejected when decoded) and a message the database refuses (found by the fallback).
                records.append(ProducerRecord(topic: topic, key: Array("p".utf8), value: Array("{not json".utf8)))
                records.append(ProducerRecord(topic: topic, key: Array(violating.utf8), value: try note(violating, "violates", version: 1)))
                for index in 10..<20 {
                    records.append(ProducerRecord(topic: topic, key: Array("n\(index)".utf8), value: try note("n\(index)", "after", version: 1)))
                }
                let done = try await consume(records, kafka: kafka, pool: pool, topic: topic) {
                    try await pool.query("SELECT 1 FROM notes").count == 20
                }
                #expect(done)
                let stored = try await notes(pool)
                #expect(stored.count == 20 && !stored.contains { $0.hasPrefix(violating) }, "\(stored)")
                #expect(try await pool.query("SELECT 1 FROM audit").isEmpty, "the failing message's writes are undone")
                // The set-based attempt failed once; the per-message pass tried it maxAttempts times more.
                #expect(AttemptLog.shared.count(violating) >= 3)

                let dlq = try KafkaConsumer(configuration: kafka.consumerConfiguration, groupID: "dlq-\(topic)", topics: [Topic.deadLetters])
                let dead = try await TestSupport.consume(dlq, count: 3, timeout: .seconds(8))
                await dlq.close()
                #expect(Set(dead.compactMap(\.keyString)) == ["p", violating], "exactly the two poison messages: \(dead.compactMap(\.keyString))")
                let poison = try #require(dead.first { $0.keyString == "p" })
                #expect(poison.valueString == "{not json")
                #expect(poison.header("crm_dlq_offset")?.stringValue == "10")
                #expect(poison.header("crm_dlq_error")?.stringValue?.contains("not a note") == true)
                let failed = try #require(dead.first { $0.keyString == violating })
                #expect(failed.header("crm_dlq_offset")?.stringValue == "11")
                #expect(failed.header("crm_dlq_error")?.stringValue?.contains("23502") == true)
            }
        }
    }

    @Test("two versions of one aggregate in one batch, in either order, and a repeated version: the newest wins")
    func versionsInOneBatch() async throws {
        try await TestDatabase.withSchema("batch") { pool, _ in
            try await pool.withConnection { try await $0.executeScript(notesTableSQL) }
            // Stored before the batch: newer than what the batch brings for "s".
            try await pool.execute("INSERT INTO notes VALUES ('s', 'stored v5', 5)")
            try await TestKafka.with { kafka in
                let topic = TestKafka.uniqueName("batch-versions")
                try await kafka.createTopic(topic, partitions: 1)
                let records = try [
                    ("up", "v1", 1), ("up", "v2", 2),  // ascending
                    ("down", "v2", 2), ("down", "v1", 1),  // descending
                    ("same", "first v3", 3), ("same", "second v3", 3),  // repeated: the first one stays
                    ("s", "v4", 4), ("end", "v1", 1),
                ].map { key, text, version in
                    ProducerRecord(topic: topic, key: Array(key.utf8), value: try note(key, text, version: Int64(version)))
                }
                #expect(try await consume(records, kafka: kafka, pool: pool, topic: topic) {
                    try await pool.query("SELECT 1 FROM notes WHERE id = 'end'").count == 1
                })
                #expect(try await notes(pool) == ["down=v2@2", "end=v1@1", "s=stored v5@5", "same=first v3@3", "up=v2@2"])
            }
        }
    }

    @Test("VersionedUpsert's batch form: one statement, newest per key, older than stored is skipped; returns the rows written")
    func versionedUpsertBatchDirectly() async throws {
        try await TestDatabase.withSchema { pool, _ in
            try await pool.withConnection { try await $0.executeScript(notesTableSQL) }
            func apply(_ rows: [(String, String, Int64)]) async throws -> [Int] {
                try await pool.withTransaction { transaction in
                    try await VersionedUpsert.apply(
                        table: "notes", key: ["id"], rows: rows.map { [("id", $0.0), ("text", $0.1), ("version", $0.2)] },
                        in: transaction)
                }
            }
            #expect(try await apply([("a", "a1", 1), ("b", "b2", 2), ("a", "a3", 3), ("b", "b1", 1)]) == [1, 2])
            #expect(try await apply([("a", "a2", 2), ("b", "b2 again", 2), ("c", "c1", 1)]) == [2])
            #expect(try await apply([]) == [])
            let texts = try await pool.query("SELECT text FROM notes ORDER BY id").map { try $0.decode("text", as: String.self) }
            #expect(texts == ["a3", "b2", "c1"])
            // More rows than one statement's parameters allow are split into several statements.
            let many = (0..<25_000).map { ("k\($0)", "x", Int64(1)) }
            #expect(try await apply(many).count == 25_000)
        }
    }
}
