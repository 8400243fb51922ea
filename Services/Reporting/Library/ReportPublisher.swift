import Contracts
import Foundation
import Logging
import Messaging
import Postgres

/// Publishes the project and segment figures on `crm.reports.projects.v1` and
/// `crm.reports.segments.v1` through the outbox: one snapshot per key the batch changed
/// (coalesced), written in the batch transaction, so a report message exists exactly when its
/// change committed.
struct ReportPublisher: Sendable {
    let outbox: Outbox
    var logger = Logger(label: ReportingService.name)

    static let eventType = ["projects": "crm.report.project-stats", "segments": "crm.report.segment-stats"]
    static let topic = ["projects": Topic.reportsProjects, "segments": Topic.reportsSegments]

    func publishDirty(in transaction: PostgresTransaction) async throws {
        let rows = try await transaction.query("SELECT topic, message_key, version, doc FROM take_dirty_reports()")
        let decoder = CRMJSON.makeDecoder()
        for row in rows {
            let kind = try row.decode("topic", as: String.self)
            let key = try row.decode("message_key", as: String.self)
            let version = try row.decode("version", as: Int64.self)
            let doc = try row.decode("doc", as: String.self)
            guard let topic = Self.topic[kind], let type = Self.eventType[kind] else { continue }
            let data = try decoder.decode(JSONValue.self, from: Data(doc.utf8))
            let event = CloudEvent(source: ReportingService.name, type: type, subject: key, version: version, data: data)
            do {
                try await outbox.enqueue(event, topic: topic, key: key, in: transaction)
            } catch let error as OutboxMessageTooLarge {
                // A project with very many distinct attribute values: its figures go out without
                // the per-attribute breakdown (which the HTTP report still has) rather than
                // stalling the batch.
                logger.error("report snapshot too large; published without attributes", metadata: [
                    "key": "\(key)", "error": "\(error)",
                ])
                guard case .object(var reduced) = data else { throw error }
                reduced["attributes"] = .object([:])
                reduced["attributesOmitted"] = .bool(true)
                let smaller = CloudEvent(source: ReportingService.name, type: type, subject: key, version: version, data: JSONValue.object(reduced))
                do {
                    try await outbox.enqueue(smaller, topic: topic, key: key, in: transaction)
                } catch is OutboxMessageTooLarge {
                    // Still too large (e.g. thousands of responsible employees): the breakdowns go
                    // too. The totals always fit; the HTTP report keeps everything.
                    if case .object(var events) = reduced["events"] ?? .null {
                        events["byResponsible"] = .array([])
                        reduced["events"] = .object(events)
                    }
                    reduced["timeline"] = .array([])
                    reduced["breakdownsOmitted"] = .bool(true)
                    let minimal = CloudEvent(
                        source: ReportingService.name, type: type, subject: key, version: version, data: JSONValue.object(reduced))
                    try await outbox.enqueue(minimal, topic: topic, key: key, in: transaction)
                }
            }
        }
    }
}
