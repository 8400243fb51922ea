import Contracts
import Foundation
import HTTPTypes
import Kafka
import Messaging
import Reporting
import ServiceKit
import Testing
import TestSupport

/// CSV, the authorization matrix, bad input on the topics and the report topics.
@Suite("Reporting API and topics", .serialized)
struct ApiTests {
    @Test("CSV for every report: a header row and one row per item or segment")
    func csvShapes() async throws {
        try await Harness.run { harness, _ in
            let world = SegmentTests.World()
            try await world.seed(harness)
            let project = newId()
            try await harness.publishCatalog(Topic.projects, "project", id: project, name: "Survey, \"2026\"")
            let call = EventSnapshot(projectId: project, counterpartyId: world.a)
            try await harness.publishEvent(call)
            try await harness.waitFact("event_facts", call.id, version: 1)
            try await harness.waitFact("project_facts", project, version: 1)
            let csv = ["Accept": "text/csv"]

            let list = try await harness.request(.get, "/v1/reports/projects", role: .viewer, headers: csv)
            #expect(list.status == 200)
            #expect(list.headers[.contentType]?.hasPrefix("text/csv") == true)
            let listLines = lines(list.text)
            #expect(listLines.first == "projectId,name,total,planned,completed,cancelled,completionRate")
            #expect(listLines.count == 2)
            #expect(listLines.last == "\(project),\"Survey, \"\"2026\"\"\",1,1,0,0,0")

            let detail = try await harness.request(.get, "/v1/reports/projects/\(project)", role: .viewer, headers: csv)
            let detailLines = lines(detail.text)
            #expect(detailLines.first == "section,key,name,value")
            #expect(detailLines.contains("byState,planned,,1"))
            #expect(detailLines.contains("byChannel,phone-call,,1"))
            #expect(detailLines.filter { $0.hasPrefix("timeline,") }.count == 90)

            let segments = try await harness.request(.get, "/v1/reports/segments/counterparty/vip", role: .viewer, headers: csv)
            let segmentLines = lines(segments.text)
            #expect(segmentLines.first == "value,counterparties,eventsTotal,planned,completed,cancelled,phone-call,email,meeting,message,other,lastEventAt,customerOrders,customerTotals,supplierOrders,supplierTotals")
            #expect(segmentLines.count == 4)
            #expect(segmentLines.dropFirst().map { String($0.prefix { $0 != "," }) } == ["null", "false", "true"])
            let vipLine = segmentLines.last ?? ""
            #expect(vipLine.hasPrefix("true,2,3,2,1,0,2,1,0,0,0,"))
            #expect(vipLine.hasSuffix(",2,EUR 5.25; RUB 1000.00,1,USD 10.50"))

            let members = try await harness.request(.get, "/v1/reports/segments/counterparty/vip/true/members", role: .viewer, headers: csv)
            let memberLines = lines(members.text)
            #expect(memberLines.first?.hasPrefix("counterpartyId,name,eventsTotal,") == true)
            #expect(memberLines.count == 3)

            // A paged CSV names the next page in a Link header; the query is encoded again, so
            // a value with a space, `>` or `&` cannot break the header.
            let paged = try await harness.request(
                .get, "/v1/reports/segments/counterparty/vip/true/members?limit=1&note=a%20b%3E%26c", role: .viewer, headers: csv)
            #expect(lines(paged.text).count == 2)
            let link = paged.headers[HTTPField.Name("Link")!] ?? ""
            #expect(link.hasPrefix("</v1/reports/segments/counterparty/vip/true/members?"), "\(link)")
            #expect(link.contains("note=a%20b%3E%26c"), "\(link)")
            #expect(link.contains("cursor="), "\(link)")
            #expect(link.hasSuffix(">; rel=\"next\""), "\(link)")
            let target = link.drop { $0 != "<" }.dropFirst().prefix { $0 != ">" }
            #expect(!target.isEmpty && !target.contains(" "), "\(link)")

            let consistency = try await harness.request(.get, "/v1/reports/consistency", role: .admin, headers: csv)
            #expect(lines(consistency.text) == ["aggregate,key,expected,actual"])
        }
    }

    @Test("viewers, managers and admins read; integrations get 403; no token 401; consistency is for admins")
    func authorizationMatrix() async throws {
        try await Harness.run { harness, _ in
            let world = SegmentTests.World()
            try await world.seed(harness)
            let project = newId()
            try await harness.publishCatalog(Topic.projects, "project", id: project, name: "Matrix")
            try await harness.waitFact("project_facts", project, version: 1)
            let reads = [
                "/v1/reports/projects", "/v1/reports/projects/\(project)", "/v1/reports/segments/counterparty/vip",
                "/v1/reports/segments/counterparty/vip/true/members",
            ]
            for path in reads {
                for role in [Role.viewer, .manager, .admin] {
                    let response = try await harness.request(.get, path, role: role)
                    #expect(response.status == 200, "\(role) GET \(path)")
                }
                let integration = try await harness.request(.get, path, role: .integration)
                #expect(integration.status == 403, "integration GET \(path)")
                let anonymous = try await harness.request(.get, path, role: nil)
                #expect(anonymous.status == 401, "anonymous GET \(path)")
            }
            for role in [Role.viewer, .manager, .integration] {
                let response = try await harness.request(.get, "/v1/reports/consistency", role: role)
                #expect(response.status == 403, "\(role) GET consistency")
            }
            let admin = try await harness.request(.get, "/v1/reports/consistency", role: .admin)
            #expect(admin.status == 200)
            let write = try await harness.request(.post, "/v1/reports/projects", role: .admin, json: "{}")
            #expect(write.status == 404 || write.status == 405)
        }
    }

    @Test("a poison message goes to crm.dlq.v1 with its reason and the partition moves on")
    func poisonMessages() async throws {
        try await Harness.run { harness, _ in
            let id = newId()
            try await harness.publish(topic: Topic.events, key: id, value: "{not json")
            var bad = EventSnapshot(id: id)
            bad.state = "exploded"
            try await harness.publishEvent(bad)
            var good = EventSnapshot(id: id)
            good.version = 2
            try await harness.publishEvent(good)
            try await harness.waitFact("event_facts", id, version: 2)

            let dead = try await harness.messages(on: Topic.deadLetters, count: 2)
            #expect(dead.count == 2)
            #expect(dead.allSatisfy { $0.header(DeadLetterHeader.topic)?.stringValue == Topic.events })
            #expect(dead.allSatisfy { $0.keyString == id })
            let reasons = dead.compactMap { $0.header(DeadLetterHeader.error)?.stringValue }.joined(separator: " | ")
            #expect(reasons.contains("CloudEvent"))
            #expect(reasons.contains("state"))
            let differences = try await harness.differences()
            #expect(differences.isEmpty, "\(differences)")
        }
    }

    @Test("project and segment figures are published on their topics, coalesced, the last equal to the report")
    func reportTopics() async throws {
        try await Harness.run { harness, _ in
            let world = SegmentTests.World()
            try await world.seed(harness)
            let project = newId()
            try await harness.publishCatalog(Topic.projects, "project", id: project, name: "Published")
            var call = EventSnapshot(projectId: project, counterpartyId: world.a)
            let changes = 12
            for version in 1...changes {
                call.version = version
                call.state = version % 2 == 0 ? "completed" : "planned"
                call.completedAt = Date()
                try await harness.publishEvent(call)
            }
            try await harness.waitFact("event_facts", call.id, version: changes)
            let report = try await harness.projectReport(project)

            let projectMessages = try await harness.messages(on: Topic.reportsProjects, count: 100, timeout: .seconds(8))
                .filter { $0.keyString == project }
            // The project fact and 12 event versions: at most one snapshot per batch, at least one.
            #expect(!projectMessages.isEmpty)
            #expect(projectMessages.count <= changes + 1)
            #expect(projectMessages.allSatisfy { $0.header("ce_type")?.stringValue == "crm.report.project-stats" })
            let last = try #require(projectMessages.last)
            let envelope = try CRMJSON.makeDecoder().decode(CloudEvent<ProjectReport>.self, from: Data(last.value ?? []))
            #expect(envelope.data.figures == report.figures)
            // Versions grow with every publication (they follow the clock, so a rebuild never goes back).
            let versions = try projectMessages.map { try CRMJSON.makeDecoder().decode(CloudEvent<ProjectReport>.self, from: Data($0.value ?? [])).version }
            #expect(versions == versions.sorted() && Set(versions).count == versions.count, "\(versions)")

            let segmentMessages = try await harness.messages(on: Topic.reportsSegments, count: 100, timeout: .seconds(8))
            let keys = Set(segmentMessages.compactMap(\.keyString))
            #expect(keys.isSuperset(of: ["counterparty:vip:true", "counterparty:vip:false", "counterparty:vip:null"]))
            let vipMessages = segmentMessages.filter { $0.keyString == "counterparty:vip:true" }
            let lastVip = try #require(vipMessages.last)
            let vip = try CRMJSON.makeDecoder().decode(CloudEvent<Segment>.self, from: Data(lastVip.value ?? []))
            let segments = try await harness.segments("vip")
            #expect(vip.data == segments.segment(.bool(true)))
        }
    }
}

extension ApiTests {
    @Test("crm republish reporting puts every project's and segment's current figures on the topics again")
    func republish() async throws {
        try await Harness.run { harness, context in
            let world = SegmentTests.World()
            try await world.seed(harness)
            let project = newId()
            try await harness.publishCatalog(Topic.projects, "project", id: project, name: "Republished")
            try await harness.waitFact("project_facts", project, version: 1)
            let before = try await harness.messages(on: Topic.reportsProjects, count: 100, timeout: .seconds(6))
                .filter { $0.keyString == project }.count
            #expect(before >= 1)

            let republisher = ReportingService.republisher()
            #expect(republisher.families == ["projects", "segments"])
            let outbox = Outbox(schema: context.schema)
            let projects = try await harness.pool.withTransaction { transaction in
                try await republisher.republish("projects", after: nil, limit: 100, outbox: outbox, in: transaction)
            }
            #expect(projects.count == 1)
            #expect(projects.last == project)
            let segments = try await harness.pool.withTransaction { transaction in
                try await republisher.republish("segments", after: nil, limit: 100, outbox: outbox, in: transaction)
            }
            #expect(segments.count == 3)  // vip: not set, false, true

            let after = try await harness.messages(on: Topic.reportsProjects, count: 100, timeout: .seconds(8))
                .filter { $0.keyString == project }
            #expect(after.count == before + 1)
            let last = try #require(after.last)
            let envelope = try CRMJSON.makeDecoder().decode(CloudEvent<ProjectReport>.self, from: Data(last.value ?? []))
            let previous = try after.dropLast().map { try CRMJSON.makeDecoder().decode(CloudEvent<ProjectReport>.self, from: Data($0.value ?? [])).version }
            #expect(previous.allSatisfy { $0 < envelope.version }, "the republished snapshot has the highest version")
            #expect(envelope.data.name == "Republished")
        }
    }
}

func lines(_ text: String) -> [String] {
    text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
}
