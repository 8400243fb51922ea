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

    func publishDirty(in transaction: PostgresTransaction) async throws {
        let rows = try await transaction.query("SELECT topic, message_key, version, doc FROM take_dirty_reports()")
        for row in rows {
            let kind = try row.decode("topic", as: String.self)
            let key = try row.decode("message_key", as: String.self)
            let version = try row.decode("version", as: Int64.self)
            let doc = try row.decode("doc", as: PostgresJSON.self)
            // The documents SQL builds are read into the topics' typed payloads (Contracts), so
            // what goes out has exactly the contract's members.
            switch kind {
            case "projects":
                try await publish(
                    try doc.decode(ProjectReportSnapshot.self, decoder: CRMJSON.makeDecoder()), key: key, version: version,
                    in: transaction)
            case "segments":
                let figures = try doc.decode(SegmentReportSnapshot.self, decoder: CRMJSON.makeDecoder())
                try await outbox.enqueue(
                    CloudEvent(source: ReportingService.name, type: SegmentReportSnapshot.eventType, subject: key, version: version, data: figures),
                    topic: Topic.reportsSegments, key: key, in: transaction)
            default:
                continue
            }
        }
    }

    private func publish(_ report: ProjectReportSnapshot, key: String, version: Int64, in transaction: PostgresTransaction) async throws {
        func event(_ data: ProjectReportSnapshot) -> CloudEvent<ProjectReportSnapshot> {
            CloudEvent(source: ReportingService.name, type: ProjectReportSnapshot.eventType, subject: key, version: version, data: data)
        }
        do {
            try await outbox.enqueue(event(report), topic: Topic.reportsProjects, key: key, in: transaction)
        } catch let error as OutboxMessageTooLarge {
            // A project with very many distinct attribute values: its figures go out without
            // the per-attribute breakdown (which the HTTP report still has) rather than
            // stalling the batch.
            logger.error("report snapshot too large; published without attributes", metadata: [
                "key": "\(key)", "error": "\(error)",
            ])
            var reduced = report
            reduced.omitAttributes()
            do {
                try await outbox.enqueue(event(reduced), topic: Topic.reportsProjects, key: key, in: transaction)
            } catch is OutboxMessageTooLarge {
                // Still too large (e.g. thousands of responsible employees): the breakdowns go
                // too. The totals always fit; the HTTP report keeps everything.
                reduced.omitBreakdowns()
                try await outbox.enqueue(event(reduced), topic: Topic.reportsProjects, key: key, in: transaction)
            }
        }
    }
}
