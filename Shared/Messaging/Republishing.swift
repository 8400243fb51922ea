import Foundation
import Logging
import Postgres

/// Re-emits the current snapshot of every aggregate a service owns through its outbox, so that
/// topics that were lost (a fresh dev broker, a wiped cluster) hold every aggregate again and
/// the projections of other services heal. Snapshots keep their versions: consumers that already
/// hold them ignore them; consumers that lost them apply them.
///
/// Work goes in chunks, each in its own transaction, in key order, reading the rows `FOR SHARE`
/// so a snapshot cannot be enqueued behind a newer one committed meanwhile (lock, then write); `crm republish` prints the
/// position after each chunk, and `--resume` continues from it.
public protocol SnapshotRepublisher: Sendable {
    /// The aggregate families in the order they go out (catalog objects before their values).
    var families: [String] { get }
    /// How many aggregates `family` has (for the progress display).
    func count(_ family: String, in transaction: PostgresTransaction) async throws -> Int
    /// Enqueues the snapshots of up to `limit` aggregates of `family` whose key sorts after
    /// `cursor` (nil: from the start); returns how many and the last key (nil when none were left).
    func republish(
        _ family: String, after cursor: String?, limit: Int, outbox: Outbox, in transaction: PostgresTransaction
    ) async throws -> (count: Int, last: String?)
}

/// Where a republish run is: the family and the last key done.
public struct RepublishPosition: Sendable, Equatable, CustomStringConvertible {
    public var family: String
    public var cursor: String?

    public init(family: String, cursor: String?) {
        self.family = family
        self.cursor = cursor
    }

    /// `family:cursor`, the form `--resume` takes.
    public init?(_ text: String) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        family = String(text[..<colon])
        let rest = String(text[text.index(after: colon)...])
        cursor = rest.isEmpty ? nil : rest
    }

    public var description: String { "\(family):\(cursor ?? "")" }
}

public enum Republishing {
    /// Runs one aggregate's enqueue inside a savepoint. A snapshot stored before the size budgets
    /// existed may be larger than a message may be: it is skipped and reported instead of failing
    /// the chunk (and every later run) for good.
    public static func enqueueOne(
        _ key: String, in transaction: PostgresTransaction, logger: Logger = Logger(label: "crm.republish"),
        _ body: (PostgresTransaction) async throws -> Void
    ) async throws {
        do {
            try await transaction.savepoint { try await body($0) }
        } catch let tooLarge as OutboxMessageTooLarge {
            logger.error("snapshot skipped: too large to publish", metadata: ["key": "\(key)", "error": "\(tooLarge)"])
        }
    }

    /// Runs `republisher` to the end (or from `resume`), reporting after every chunk.
    @discardableResult
    public static func run(
        _ republisher: any SnapshotRepublisher, pool: PostgresPool, outbox: Outbox, chunkSize: Int = 500,
        resume: RepublishPosition? = nil,
        progress: @Sendable (_ position: RepublishPosition, _ done: Int, _ total: Int) -> Void = { _, _, _ in }
    ) async throws -> Int {
        var families = republisher.families
        if let resume, let index = families.firstIndex(of: resume.family) { families = Array(families[index...]) }
        var republished = 0
        for family in families {
            var cursor = resume?.family == family ? resume?.cursor : nil
            let total = try await pool.withTransaction { try await republisher.count(family, in: $0) }
            var done = 0
            while true {
                let chunk = try await pool.withTransaction { transaction in
                    try await republisher.republish(family, after: cursor, limit: chunkSize, outbox: outbox, in: transaction)
                }
                guard let last = chunk.last, chunk.count > 0 else { break }
                cursor = last
                done += chunk.count
                republished += chunk.count
                progress(RepublishPosition(family: family, cursor: last), done, total)
                if chunk.count < chunkSize { break }
            }
        }
        return republished
    }
}
