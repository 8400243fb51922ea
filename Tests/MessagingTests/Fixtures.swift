import Contracts
import Foundation
import Kafka
import Messaging
import Postgres
import TestSupport

struct Note: Codable, Sendable, Equatable {
    var id: String
    var text: String
}

/// Starts a relay for the schema's outbox in a task; cancel the task to stop it.
func startRelay(
    schema: String, pool: PostgresPool, producer: KafkaProducer,
    configuration: OutboxRelay.Configuration = .init(batchSize: 100, pollInterval: .milliseconds(200), standbyInterval: .milliseconds(200))
) -> Task<Void, any Error> {
    let relay = OutboxRelay(outbox: Outbox(schema: schema), pool: pool, producer: producer, configuration: configuration)
    return Task { try await relay.run() }
}

func enqueueNote(_ note: Note, version: Int64, topic: String, schema: String, in transaction: PostgresTransaction) async throws {
    let event = CloudEvent(source: "crm-test", type: "crm.note.upserted", subject: note.id, version: version, data: note)
    try await Outbox(schema: schema).enqueue(event, topic: topic, key: note.id, in: transaction)
}

func decodeNote(_ message: KafkaMessage) throws -> CloudEvent<Note> {
    try CRMJSON.makeDecoder().decode(CloudEvent<Note>.self, from: Data(message.value ?? []))
}

/// A handler that stores notes by version; poison values throw.
struct NoteHandler: MessageHandler {
    func handle(_ message: KafkaMessage, in transaction: PostgresTransaction) async throws {
        let event: CloudEvent<Note>
        do {
            event = try decodeNote(message)
        } catch {
            throw PermanentFailure("not a note: \(error)")
        }
        // Counts attempts outside the savepoint's reach? No: attempts are recorded in memory.
        AttemptLog.shared.record(event.data.id)
        try await VersionedUpsert.apply(
            table: "notes", key: ["id"],
            columns: [("id", event.data.id), ("text", event.data.text), ("version", event.version)],
            in: transaction)
        // Waits for a row a test holds locked; the short lock_timeout makes that a transient
        // failure (55P03) until the test lets go.
        if event.data.text == "waits for a lock" {
            try await transaction.execute("SET LOCAL lock_timeout = '200ms'")
            try await transaction.execute("SELECT 1 FROM locks WHERE id = 1 FOR UPDATE")
        }
        // A CHECK constraint rejects this text after the row was written: the savepoint undoes it.
        if event.data.text == "violates" {
            try await transaction.execute("INSERT INTO audit (text) VALUES (\(String?.none))")
        }
    }
}

let notesTableSQL = """
    CREATE TABLE notes (id text PRIMARY KEY, text text NOT NULL, version bigint NOT NULL);
    CREATE TABLE audit (text text NOT NULL);
    CREATE TABLE locks (id int PRIMARY KEY);
    INSERT INTO locks VALUES (1);
    """

/// How many times the handler saw each note id.
final class AttemptLog: @unchecked Sendable {
    static let shared = AttemptLog()
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    func record(_ id: String) {
        lock.lock()
        counts[id, default: 0] += 1
        lock.unlock()
    }

    func count(_ id: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return counts[id] ?? 0
    }
}

/// The set-based form of `NoteHandler`: a batch of notes in one multi-row versioned upsert.
/// A note "violates" makes the whole statement fail (so the runtime falls back to one message
/// at a time, where only that note fails); "not a note" values are rejected when decoded.
struct BatchNoteHandler: BatchMessageHandler {
    func decode(_ message: KafkaMessage) throws -> CloudEvent<Note> {
        do {
            return try decodeNote(message)
        } catch {
            throw PermanentFailure("not a note: \(error)")
        }
    }

    func apply(_ batch: [CloudEvent<Note>], in transaction: PostgresTransaction) async throws {
        for event in batch { AttemptLog.shared.record(event.data.id) }
        try await VersionedUpsert.apply(
            table: "notes", key: ["id"],
            rows: batch.map { [("id", $0.data.id), ("text", $0.data.text), ("version", $0.version)] }, in: transaction)
        if batch.contains(where: { $0.data.text == "violates" }) {
            try await transaction.execute("INSERT INTO audit (text) VALUES (\(String?.none))")
        }
    }
}
