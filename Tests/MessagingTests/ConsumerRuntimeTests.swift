import Contracts
import Foundation
import Kafka
import Messaging
import Postgres
import Testing
import TestSupport

@Suite("Consumer runtime")
struct ConsumerRuntimeTests {
    private func note(_ id: String, _ text: String, version: Int64) throws -> [UInt8] {
        let event = CloudEvent(source: "crm-test", type: "crm.note.upserted", subject: id, version: version,
                               data: Note(id: id, text: text))
        return Array(try CRMJSON.makeEncoder().encode(event))
    }

    /// Runs a runtime over `topic` until `done` holds, then stops it.
    private func runConsumer(
        kafka: TestKafka, pool: PostgresPool, topic: String, until done: () async throws -> Bool
    ) async throws -> Bool {
        let consumer = try KafkaConsumer(configuration: kafka.consumerConfiguration, groupID: "notes-\(topic)", topics: [topic])
        let dlqProducer = try KafkaProducer(configuration: kafka.configuration)
        let runtime = ConsumerRuntime(
            consumer: consumer, pool: pool, deadLetterProducer: dlqProducer, handler: NoteHandler(),
            configuration: .init(batchSize: 50, batchTimeout: .milliseconds(300), maxAttempts: 3))
        let task = Task { try await runtime.run() }
        let finished = try await eventually(timeout: .seconds(30), done)
        task.cancel()
        _ = try? await task.value
        await dlqProducer.close()
        return finished
    }

    @Test("a poison message goes to crm.dlq.v1 with its headers; the batch's good messages are kept")
    func poisonMessageIsDeadLettered() async throws {
        try await TestDatabase.withSchema("consumer") { pool, _ in
            try await pool.withConnection { try await $0.executeScript(notesTableSQL) }
            try await TestKafka.with { kafka in
                let topic = TestKafka.uniqueName("notes")
                try await kafka.createTopic(topic, partitions: 1)
                try await kafka.createTopic(Topic.deadLetters, partitions: 1)
                let producer = try KafkaProducer(configuration: kafka.configuration)
                let violating = "bad-\(UUID().uuidString.prefix(6))"
                _ = await producer.send([
                    ProducerRecord(topic: topic, key: Array("a".utf8), value: try note("a", "first", version: 1)),
                    ProducerRecord(topic: topic, key: Array("p".utf8), value: Array("{not json".utf8)),
                    ProducerRecord(topic: topic, key: Array(violating.utf8), value: try note(violating, "violates", version: 1)),
                    ProducerRecord(topic: topic, key: Array("b".utf8), value: try note("b", "after", version: 1)),
                ])
                let done = try await runConsumer(kafka: kafka, pool: pool, topic: topic) {
                    try await pool.query("SELECT 1 FROM notes").count == 2
                }
                #expect(done)
                let stored = try await pool.query("SELECT id, text FROM notes ORDER BY id")
                    .map { try "\($0.decode("id", as: String.self))=\($0.decode("text", as: String.self))" }
                #expect(stored == ["a=first", "b=after"], "the failing message's own writes are undone")
                #expect(AttemptLog.shared.count(violating) == 3, "a failing message is retried up to maxAttempts")

                let dlq = try KafkaConsumer(configuration: kafka.consumerConfiguration, groupID: "dlq-reader-\(topic)", topics: [Topic.deadLetters])
                let dead = try await consume(dlq, count: 2)
                #expect(dead.count == 2)
                let poison = try #require(dead.first { $0.keyString == "p" })
                #expect(poison.valueString == "{not json")
                #expect(poison.header("crm_dlq_topic")?.stringValue == topic)
                #expect(poison.header("crm_dlq_partition")?.stringValue == "0")
                #expect(poison.header("crm_dlq_offset")?.stringValue == "1")
                #expect(poison.header("crm_dlq_consumer")?.stringValue == "notes-\(topic)")
                #expect(poison.header("crm_dlq_error")?.stringValue?.contains("not a note") == true)
                let failed = try #require(dead.first { $0.keyString == violating })
                #expect(failed.header("crm_dlq_offset")?.stringValue == "2")
                #expect(failed.header("crm_dlq_error")?.stringValue?.contains("23502") == true)
                await dlq.close()
                await producer.close()
            }
        }
    }

    @Test("a transient database error (lock timeout) is retried without counting attempts: nothing is dead-lettered")
    func transientErrorIsNotDeadLettered() async throws {
        try await TestDatabase.withSchema("consumer") { pool, _ in
            try await pool.withConnection { try await $0.executeScript(notesTableSQL) }
            try await TestKafka.with { kafka in
                let topic = TestKafka.uniqueName("transient")
                try await kafka.createTopic(topic, partitions: 1)
                try await kafka.createTopic(Topic.deadLetters, partitions: 1)
                let key = "locked-\(UUID().uuidString.prefix(6))"
                // Hold the row the handler needs for longer than maxAttempts × lock_timeout.
                let holder = try await PostgresConnection.connect(url: try TestDatabase.url(), searchPath: pool.configuration.searchPath)
                try await holder.execute("BEGIN")
                try await holder.execute("SELECT 1 FROM locks WHERE id = 1 FOR UPDATE")
                let producer = try KafkaProducer(configuration: kafka.configuration)
                try await producer.send(ProducerRecord(topic: topic, key: Array(key.utf8), value: try note(key, "waits for a lock", version: 1)))
                // Let go only once the handler has failed more often than maxAttempts (3).
                let release = Task {
                    _ = await eventually(timeout: .seconds(40)) { AttemptLog.shared.count(key) >= 5 }
                    try await holder.execute("COMMIT")
                }
                let done = try await runConsumer(kafka: kafka, pool: pool, topic: topic) {
                    try await pool.query("SELECT 1 FROM notes WHERE id = \(key)").count == 1
                }
                try await release.value
                await holder.close()
                #expect(done, "the message was applied once the lock was free")
                #expect(AttemptLog.shared.count(key) > 3, "it was tried more often than maxAttempts without being dead-lettered")
                let dlq = try KafkaConsumer(configuration: kafka.consumerConfiguration, groupID: "dlq-\(topic)", topics: [Topic.deadLetters])
                let dead = try await consume(dlq, count: 1, timeout: .seconds(4))
                #expect(!dead.contains { $0.keyString == key }, "nothing was dead-lettered")
                await dlq.close()
                await producer.close()
            }
        }
    }

    @Test("an older version never overwrites a newer one")
    func olderVersionNeverWins() async throws {
        try await TestDatabase.withSchema("consumer") { pool, _ in
            try await pool.withConnection { try await $0.executeScript(notesTableSQL) }
            try await TestKafka.with { kafka in
                let topic = TestKafka.uniqueName("versions")
                try await kafka.createTopic(topic, partitions: 1)
                let producer = try KafkaProducer(configuration: kafka.configuration)
                _ = await producer.send([
                    ProducerRecord(topic: topic, key: Array("x".utf8), value: try note("x", "v2", version: 2)),
                    ProducerRecord(topic: topic, key: Array("x".utf8), value: try note("x", "v1", version: 1)),
                    ProducerRecord(topic: topic, key: Array("x".utf8), value: try note("x", "v2 again", version: 2)),
                    ProducerRecord(topic: topic, key: Array("y".utf8), value: try note("y", "v1", version: 1)),
                    ProducerRecord(topic: topic, key: Array("y".utf8), value: try note("y", "v3", version: 3)),
                    ProducerRecord(topic: topic, key: Array("z".utf8), value: try note("z", "end", version: 1)),
                ])
                #expect(try await runConsumer(kafka: kafka, pool: pool, topic: topic) {
                    try await pool.query("SELECT 1 FROM notes WHERE id = 'z'").count == 1
                })
                let rows = try await pool.query("SELECT id, text, version FROM notes ORDER BY id")
                let state = try rows.map { "\(try $0.decode("id", as: String.self)):\(try $0.decode("text", as: String.self)):\(try $0.decode("version", as: Int.self))" }
                #expect(state == ["x:v2:2", "y:v3:3", "z:end:1"])
                await producer.close()
            }
        }
    }

    @Test("VersionedUpsert applies newer and ignores older or equal snapshots")
    func versionedUpsertDirectly() async throws {
        try await TestDatabase.withSchema { pool, _ in
            try await pool.withConnection { try await $0.executeScript(notesTableSQL) }
            func apply(_ text: String, _ version: Int64) async throws -> Bool {
                try await pool.withTransaction { transaction in
                    try await VersionedUpsert.apply(
                        table: "notes", key: ["id"], columns: [("id", "n"), ("text", text), ("version", version)],
                        in: transaction)
                }
            }
            #expect(try await apply("five", 5))
            #expect(try await apply("four", 4) == false)
            #expect(try await apply("five again", 5) == false)
            #expect(try await apply("six", 6))
            #expect(try await pool.query("SELECT text FROM notes")[0].decode("text", as: String.self) == "six")
        }
    }
}

@Suite("Dead-letter replay")
struct DeadLetterReplayTests {
    @Test("a dead letter replayed after its cause was fixed is applied, without the crm_dlq_* headers")
    func replayAfterFix() async throws {
        try await TestDatabase.withSchema("consumer") { pool, _ in
            try await pool.withConnection { try await $0.executeScript(notesTableSQL) }
            try await TestKafka.with { kafka in
                let topic = TestKafka.uniqueName("replay")
                try await kafka.createTopic(topic, partitions: 1)
                try await kafka.createTopic(Topic.deadLetters, partitions: 1)
                let producer = try KafkaProducer(configuration: kafka.configuration)
                let key = "fixable-\(UUID().uuidString.prefix(6))"
                let event = CloudEvent(source: "crm-test", type: "crm.note.upserted", subject: key, version: 1,
                                       data: Note(id: key, text: "violates"))
                try await producer.send(ProducerRecord(topic: topic, key: Array(key.utf8), value: Array(try CRMJSON.makeEncoder().encode(event))))
                let consumer = try KafkaConsumer(configuration: kafka.consumerConfiguration, groupID: "notes-\(topic)", topics: [topic])
                let runtime = ConsumerRuntime(
                    consumer: consumer, pool: pool, deadLetterProducer: producer, handler: NoteHandler(),
                    configuration: .init(batchSize: 50, batchTimeout: .milliseconds(300), maxAttempts: 2))
                let task = Task { try await runtime.run() }
                // It fails (the audit row violates NOT NULL) and is dead-lettered.
                let dead = try await DeadLetters.readAll(configuration: kafka.consumerConfiguration, firstMessageWithin: .seconds(30))
                let letter = try #require(dead.first { $0.keyString == key })
                #expect(try await pool.query("SELECT 1 FROM notes WHERE id = \(key)").isEmpty)
                // The cause is fixed; the operator replays that one dead letter.
                try await pool.execute("ALTER TABLE audit ALTER COLUMN text DROP NOT NULL")
                let original = try #require(DeadLetters.original(of: letter))
                #expect(original.topic == topic)
                #expect(!original.headers.contains { $0.name.hasPrefix("crm_dlq_") })
                let outcome = await DeadLetters.replay([letter], with: producer)
                #expect(outcome.replayed == 1 && outcome.failed == 0)
                #expect(await eventually(timeout: .seconds(30)) {
                    (try? await pool.query("SELECT 1 FROM notes WHERE id = \(key)").count) == 1
                })
                task.cancel()
                _ = try? await task.value
                await producer.close()
            }
        }
    }
}
