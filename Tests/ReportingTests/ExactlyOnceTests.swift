import Contracts
import Foundation
import Kafka
import Postgres
import ServiceKit
import Testing
import TestSupport

/// Exactly once in effect: replays, duplicates and older versions change nothing; a second
/// instance on an empty schema rebuilds the same figures; a long random history with duplicates
/// and reordering ends equal to an independent recomputation.
@Suite("Exactly once in effect", .serialized)
struct ExactlyOnceTests {
    @Test("the same batch twice and older versions after newer ones change nothing")
    func replaysChangeNothing() async throws {
        try await Harness.run { harness, _ in
            let world = SegmentTests.World()
            try await world.seed(harness)
            let project = newId()
            try await harness.publishCatalog(Topic.projects, "project", id: project, name: "Replay")
            var call = EventSnapshot(projectId: project, counterpartyId: world.a)
            try await harness.publishEvent(call)
            try await harness.publishValues(kind: "event", id: call.id, version: 1, ["score": .number(3)])
            try await harness.publishAttributeSet(kind: "event", version: 1, [AttributeSpec(key: "score", type: "integer")])
            call.version = 2
            call.state = "completed"
            call.completedAt = Date()
            try await harness.publishEvent(call)
            try await harness.waitFact("event_facts", call.id, version: 2)
            try await harness.waitValues(kind: "event", call.id, version: 1)
            try await harness.waitAttributeSet(kind: "event", version: 1)

            let segmentsBefore = try await harness.segments("vip")
            let projectBefore = try await harness.projectReport(project)
            #expect(projectBefore.events.byState["completed"] == 1)

            // The whole seed again, plus older versions of what changed.
            try await world.seed(harness)
            var older = call
            older.version = 1
            older.state = "planned"
            try await harness.publishEvent(older)
            try await harness.publishEvent(call)
            try await harness.publishValues(kind: "event", id: call.id, version: 1, ["score": .number(3)])
            try await harness.publishValues(kind: "counterparty", id: world.a, version: 1, ["vip": .bool(false)])
            try await harness.publishCatalog(Topic.projects, "project", id: project, name: "Replay (old)")
            // A marker published after them, in the same partition as the older event version.
            var marker = call
            marker.version = 3
            try await harness.publishEvent(marker)
            try await harness.waitFact("event_facts", call.id, version: 3)
            try await Task.sleep(for: .seconds(2))

            let segmentsAfter = try await harness.segments("vip")
            let projectAfter = try await harness.projectReport(project)
            #expect(segmentsAfter == segmentsBefore)
            #expect(projectAfter.figures == projectBefore.figures)
            #expect(projectAfter.name == "Replay")
            let differences = try await harness.differences()
            #expect(differences.isEmpty, "\(differences)")
        }
    }

    @Test("a second instance on an empty schema with a fresh group rebuilds the same reports")
    func rebuildEqualsLive() async throws {
        try await Harness.run { harness, context in
            let world = SegmentTests.World()
            try await world.seed(harness)
            let project = newId()
            try await harness.publishCatalog(Topic.projects, "project", id: project, name: "Rebuild")
            try await harness.publishAttributeSet(kind: "event", version: 1, [AttributeSpec(key: "score", type: "integer")])
            var ids: [String] = []
            for index in 0..<6 {
                let call = EventSnapshot(state: index % 2 == 0 ? "completed" : "planned", projectId: project,
                                         counterpartyId: [world.a, world.b, world.c][index % 3], completedAt: Date())
                ids.append(call.id)
                try await harness.publishEvent(call)
                try await harness.publishValues(kind: "event", id: call.id, version: 1, ["score": .number(Double(index + 1))])
            }
            try await harness.publishValues(kind: "counterparty", id: world.a, version: 2, ["vip": .bool(false)])
            for id in ids {
                try await harness.waitFact("event_facts", id, version: 1)
                try await harness.waitValues(kind: "event", id, version: 1)
            }
            try await harness.waitValues(kind: "counterparty", world.a, version: 2)
            try await harness.waitAttributeSet(kind: "event", version: 1)
            let liveSegments = try await harness.segments("vip")
            let liveProject = try await harness.projectReport(project)
            let liveList = try await harness.get("/v1/reports/projects", as: ProjectList.self)

            try await Harness.second(context) { rebuilt in
                let caughtUp = try await eventually(timeout: .seconds(60), interval: .milliseconds(500)) {
                    let response = try await rebuilt.request(.get, "/v1/reports/projects/\(project)", role: .viewer)
                    guard response.status == 200, let report = try? decode(ProjectReport.self, response.text) else { return false }
                    let segments = try await rebuilt.request(.get, "/v1/reports/segments/counterparty/vip", role: .viewer)
                    guard segments.status == 200, let segmentReport = try? decode(SegmentReport.self, segments.text) else { return false }
                    return report.figures == liveProject.figures && segmentReport == liveSegments
                }
                #expect(caughtUp, "the rebuilt instance did not reach the live figures")
                let list = try await rebuilt.get("/v1/reports/projects", as: ProjectList.self)
                #expect(list.items == liveList.items)
                let differences = try await rebuilt.differences()
                #expect(differences.isEmpty, "\(differences)")
            }
        }
    }

    @Test("a random history with duplicates and reordering equals an independent recomputation")
    func randomHistory() async throws {
        try await Harness.run { harness, _ in
            var random = SeededRandom(seed: 20261201)
            var model = HistoryModel(random: &random)
            try await harness.publishAttributeSet(kind: "counterparty", version: 1, [
                AttributeSpec(key: "vip", type: "boolean"), AttributeSpec(key: "tier", type: "enum", options: ["gold", "silver"]),
            ])
            try await harness.publishAttributeSet(kind: "event", version: 1, [AttributeSpec(key: "score", type: "integer")])
            for (index, project) in model.projects.enumerated() {
                try await harness.publishCatalog(Topic.projects, "project", id: project, name: "Project \(index)")
            }
            for (index, counterparty) in model.counterparties.enumerated() {
                try await harness.publishCatalog(Topic.counterparties, "counterparty", id: counterparty, name: "Counterparty \(index)")
            }
            let messages = model.generate(changes: 2500, random: &random)
            for message in messages {
                switch message {
                case .event(let event): try await harness.publishEvent(event)
                case .order(let order): try await harness.publishOrder(order)
                case .values(let kind, let id, let version, let values):
                    try await harness.publishValues(kind: kind, id: id, version: version, values)
                }
            }
            // Wait until every object holds its newest version.
            let final = model
            let applied = try await eventually(timeout: .seconds(120), interval: .milliseconds(500)) {
                let events = try await harness.pool.query("SELECT id::text AS id, version FROM event_facts")
                let orders = try await harness.pool.query("SELECT id::text AS id, version FROM order_facts")
                let values = try await harness.pool.query("SELECT kind || ':' || object_id AS id, version FROM value_facts")
                var held: [String: Int] = [:]
                for row in events + orders + values {
                    held[try row.decode("id", as: String.self)] = try row.decode("version", as: Int.self)
                }
                return held == final.newestVersions
            }
            #expect(applied, "the consumer did not apply the whole history")

            let expected = final.recompute()
            for (project, figures) in expected.projects {
                let report = try await harness.projectReport(project)
                #expect(report.events.total == figures.total, "project \(project)")
                #expect(report.events.byState == figures.byState, "project \(project)")
                #expect(report.events.byChannel == figures.byChannel, "project \(project)")
                #expect(report.attributes["score"]?.count ?? 0 == figures.scores.count, "project \(project)")
                #expect(report.attributes["score"]?.distribution ?? [:] == figures.scoreDistribution, "project \(project)")
            }
            for attribute in ["vip", "tier"] {
                let report = try await harness.segments(attribute)
                for (value, figures) in expected.segments[attribute] ?? [:] {
                    let segment = report.segment(value)
                    #expect(segment?.counterparties == figures.counterparties, "\(attribute) \(value)")
                    #expect(segment?.events.total == figures.events.total, "\(attribute) \(value)")
                    #expect(segment?.events.byState == figures.events.byState, "\(attribute) \(value)")
                    #expect(segment?.events.byChannel == figures.events.byChannel, "\(attribute) \(value)")
                    #expect(segment?.customerOrders == figures.customer, "\(attribute) \(value)")
                    #expect(segment?.supplierOrders == figures.supplier, "\(attribute) \(value)")
                    #expect(sameInstantOrBothNil(segment?.lastEventAt, figures.lastEventAt), "\(attribute) \(value)")
                }
                let total = report.segments.map(\.counterparties).reduce(0, +)
                #expect(total == final.counterparties.count)
            }
            let differences = try await harness.differences()
            #expect(differences.isEmpty, "\(differences.prefix(20))")
        }
    }
}

extension ExactlyOnceTests {
    /// `ingest_events` (one statement for a run of event snapshots) against what one call per
    /// snapshot leaves: the same facts and figures for snapshots of one event in any order,
    /// equal versions included (the first in batch order wins), and moves through projects.
    @Test("a batch of event snapshots applied as a set leaves what applying them one by one leaves")
    func setBasedEventsEqualPerRow() async throws {
        try await Harness.run { harness, _ in
            let (p1, p2, p3, counterparty, event) = (UUID(), UUID(), UUID(), UUID(), UUID())
            func fact(_ version: Int, _ project: UUID?, _ state: String, deleted: Bool = false) -> JSONValue {
                .object([
                    "id": .string(event.lowercasedText), "version": .number(Double(version)),
                    "project_id": project.map { .string($0.lowercasedText) } ?? .null,
                    "counterparty_id": .string(counterparty.lowercasedText), "responsible_id": .null, "channel": .string("phone-call"),
                    "state": .string(state), "deleted": .bool(deleted), "sort_at": .string("2026-12-01T10:00:00Z"),
                    "completed_day": state == "completed" ? .string("2026-12-01") : .null,
                ])
            }
            let batches: [[JSONValue]] = [
                [fact(1, p1, "planned"), fact(2, p2, "completed"), fact(2, p3, "cancelled")],  // equal versions: first wins
                [fact(4, p3, "planned"), fact(3, p1, "completed")],  // older after newer: nothing
                [fact(5, p1, "completed", deleted: true), fact(6, p2, "planned")],
                // Out of its project, alone in its batch (the batch has no project now, its prior
                // has): the project's figures must still drop. Then back into one.
                [fact(7, nil, "completed")],
                [fact(8, p3, "completed")],
            ]
            func figures() async throws -> String {
                let rows = try await harness.pool.query("""
                    SELECT coalesce((SELECT string_agg(concat_ws(':', project_id = \(p1), project_id = \(p2), project_id = \(p3), total, planned, completed, cancelled), ',' ORDER BY project_id = \(p1) DESC, project_id = \(p2) DESC) FROM project_stats WHERE total <> 0), '')
                        || '|' || coalesce((SELECT concat_ws(':', total, planned, completed, cancelled) FROM counterparty_stats WHERE counterparty_id = \(counterparty)), '')
                        || '|' || coalesce((SELECT concat_ws(':', version, project_id = \(p2), state) FROM event_facts WHERE id = \(event)), '') AS figures
                    """)
                return try rows[0].decode("figures", as: String.self)
            }
            var expected: [String] = []
            for batch in batches {
                for snapshot in batch {
                    try await harness.pool.execute("SELECT ingest_event(jsonb_populate_record(NULL::event_facts, \(try PostgresJSON(crmEncoding: snapshot))::jsonb))")
                }
                expected.append(try await figures())
            }
            try await harness.pool.execute("DELETE FROM event_facts WHERE id = \(event)")
            try await harness.pool.execute("DELETE FROM project_stats WHERE project_id IN (\(p1), \(p2), \(p3))")
            try await harness.pool.execute("DELETE FROM project_days WHERE project_id IN (\(p1), \(p2), \(p3))")
            try await harness.pool.execute("DELETE FROM counterparty_stats WHERE counterparty_id = \(counterparty)")
            var actual: [String] = []
            for batch in batches {
                try await harness.pool.execute("SELECT ingest_events(\(try PostgresJSON(crmEncoding: JSONValue.array(batch)))::jsonb)")
                actual.append(try await figures())
            }
            #expect(actual == expected)
            #expect(expected[0].hasSuffix("|2:t:completed"), "\(expected[0])")
            #expect(expected[3].hasPrefix("|"), "no project has figures once the event left them: \(expected[3])")
        }
    }

    @Test("the consumer stopped and started mid-stream loses nothing and counts nothing twice")
    func restartMidStream() async throws {
        try await Harness.run { harness, _ in
            let world = SegmentTests.World()
            try await world.seed(harness)
            let project = newId()
            try await harness.publishCatalog(Topic.projects, "project", id: project, name: "Restart")
            var calls: [EventSnapshot] = []
            for index in 0..<300 {
                let call = EventSnapshot(
                    state: index % 3 == 0 ? "completed" : "planned", projectId: project,
                    counterpartyId: [world.a, world.b, world.c, world.d][index % 4], completedAt: Date())
                calls.append(call)
                try await harness.publishEvent(call)
                if index == 150 { try await harness.restart() }
            }
            for call in calls { try await harness.waitFact("event_facts", call.id, version: 1) }
            let report = try await harness.projectReport(project)
            #expect(report.events.total == 300)
            #expect(report.events.byState == ["planned": 200, "completed": 100, "cancelled": 0])
            let segments = try await harness.segments("vip")
            #expect(segments.segment(.bool(true))?.events.total == 2 + 150)
            let differences = try await harness.differences()
            #expect(differences.isEmpty, "\(differences)")
        }
    }
}

func sameInstantOrBothNil(_ a: String?, _ b: Date?) -> Bool {
    guard let b else { return a == nil }
    return sameInstant(a, rfc3339(b))
}
