import Contracts
import Foundation
import Kafka
import ServiceKit
import Testing
import TestSupport

/// The seed's survey: planned quality-assessment calls in a project, answered with an enum and an
/// integer score set as event attributes and completed one by one; the project report is exact
/// after every step.
@Suite("Project reports: the survey", .serialized)
struct SurveyTests {
    @Test("counts, completion rate, avg/min/max and distribution are exact after each step")
    func surveyStepByStep() async throws {
        try await Harness.run { harness, _ in
            let anna = newId()
            let project = newId()
            let other = newId()
            try await harness.publishCatalog(Topic.employees, "employee", id: anna, name: "Anna")
            try await harness.publishCatalog(Topic.projects, "project", id: project, name: "Quality survey")
            try await harness.publishCatalog(Topic.projects, "project", id: other, name: "Other project")
            try await harness.publishAttributeSet(kind: "event", version: 1, [
                AttributeSpec(key: "answer", type: "enum", options: ["Satisfied", "Neutral", "Dissatisfied"]),
                AttributeSpec(key: "score", type: "integer"),
            ])
            try await harness.waitAttributeSet(kind: "event", version: 1)
            try await harness.waitFact("project_facts", project, version: 1)
            try await harness.waitFact("project_facts", other, version: 1)
            try await harness.waitFact("employee_facts", anna, version: 1)

            // An empty project is listed with zeros.
            let list = try await harness.get("/v1/reports/projects", as: ProjectList.self)
            let empty = list.items.first { $0.projectId == project }
            #expect(empty?.events == .init(total: 0, planned: 0, completed: 0, cancelled: 0))
            #expect(empty?.completionRate == 0)

            var calls: [EventSnapshot] = []
            for _ in 0..<4 {
                let call = EventSnapshot(projectId: project, counterpartyId: nil, responsibleId: anna)
                calls.append(call)
                try await harness.publishEvent(call)
            }
            for call in calls { try await harness.waitFact("event_facts", call.id, version: 1) }
            let report = try await harness.projectReport(project)
            #expect(report.name == "Quality survey")
            #expect(report.events.total == 4)
            #expect(report.events.byState == ["planned": 4, "completed": 0, "cancelled": 0])
            #expect(report.events.byChannel["phone-call"] == 4)
            #expect(report.events.byResponsible == [.init(employeeId: anna, name: "Anna", total: 4, completed: 0)])
            #expect(report.completionRate == 0)
            #expect(report.attributes.isEmpty)
            #expect(report.timeline.count == 90)

            // Answer and complete the calls one by one.
            let now = Date()
            let answers: [(String, Int)] = [("Satisfied", 5), ("Neutral", 3), ("Satisfied", 4)]
            for (index, (answer, score)) in answers.enumerated() {
                try await harness.publishValues(kind: "event", id: calls[index].id, version: 1, [
                    "answer": .string(answer), "score": .number(Double(score)),
                ])
                calls[index].version = 2
                calls[index].state = "completed"
                calls[index].completedAt = now
                try await harness.publishEvent(calls[index])
                try await harness.waitValues(kind: "event", calls[index].id, version: 1)
                try await harness.waitFact("event_facts", calls[index].id, version: 2)

                let report1 = try await harness.projectReport(project)
                let done = index + 1
                let scores = answers.prefix(done).map(\.1)
                #expect(report1.events.byState == ["planned": 4 - done, "completed": done, "cancelled": 0])
                #expect(report1.completionRate == Double(done) / 4)
                #expect(report1.events.byResponsible == [.init(employeeId: anna, name: "Anna", total: 4, completed: done)])
                let score = report1.attributes["score"]
                #expect(score?.type == "integer")
                #expect(score?.count == done)
                #expect(number(score?.avg).map { abs($0 - Double(scores.reduce(0, +)) / Double(done)) < 0.0001 } == true)
                #expect(number(score?.min) == Double(scores.min()!))
                #expect(number(score?.max) == Double(scores.max()!))
                var scoreDistribution: [String: Int] = [:]
                var answerDistribution: [String: Int] = [:]
                for (answer, score) in answers.prefix(done) {
                    scoreDistribution[String(score), default: 0] += 1
                    answerDistribution[answer, default: 0] += 1
                }
                let expectedScores = scoreDistribution
                let expectedAnswers = answerDistribution
                #expect(score?.distribution == expectedScores)
                #expect(report1.attributes["answer"]?.type == "enum")
                #expect(report1.attributes["answer"]?.count == done)
                #expect(report1.attributes["answer"]?.distribution == expectedAnswers)
                #expect(report1.attributes["answer"]?.avg == nil)
                #expect(report1.timeline.last?.completed == done)
            }

            // The fourth call is cancelled.
            calls[3].version = 2
            calls[3].state = "cancelled"
            try await harness.publishEvent(calls[3])
            try await harness.waitFact("event_facts", calls[3].id, version: 2)
            let report2 = try await harness.projectReport(project)
            #expect(report2.events.byState == ["planned": 0, "completed": 3, "cancelled": 1])
            #expect(report2.completionRate == 0.75)

            // Re-answered: the second call's score 3 becomes 1.
            try await harness.publishValues(kind: "event", id: calls[1].id, version: 2, ["answer": .string("Dissatisfied"), "score": .number(1)])
            try await harness.waitValues(kind: "event", calls[1].id, version: 2)
            let report3 = try await harness.projectReport(project)
            #expect(report3.attributes["score"]?.distribution == ["5": 1, "1": 1, "4": 1])
            #expect(number(report3.attributes["score"]?.min) == 1)
            #expect(number(report3.attributes["score"]?.avg).map { abs($0 - 10.0 / 3) < 0.0001 } == true)
            #expect(report3.attributes["answer"]?.distribution == ["Satisfied": 2, "Dissatisfied": 1])

            // Reopened: completed drops, the answers stay.
            calls[0].version = 3
            calls[0].state = "planned"
            try await harness.publishEvent(calls[0])
            try await harness.waitFact("event_facts", calls[0].id, version: 3)
            let report4 = try await harness.projectReport(project)
            #expect(report4.events.byState == ["planned": 1, "completed": 2, "cancelled": 1])
            #expect(report4.completionRate == 0.5)
            #expect(report4.attributes["score"]?.count == 3)
            #expect(report4.timeline.last?.completed == 2)

            // Moved to another project: its contribution moves along.
            calls[2].version = 3
            calls[2].projectId = other
            try await harness.publishEvent(calls[2])
            try await harness.waitFact("event_facts", calls[2].id, version: 3)
            let report5 = try await harness.projectReport(project)
            #expect(report5.events.total == 3)
            #expect(report5.attributes["score"]?.distribution == ["5": 1, "1": 1])
            #expect(number(report5.attributes["score"]?.max) == 5)
            let moved = try await harness.projectReport(other)
            #expect(moved.events.total == 1)
            #expect(moved.events.byState["completed"] == 1)
            #expect(moved.attributes["answer"]?.distribution == ["Satisfied": 1])
            #expect(number(moved.attributes["score"]?.avg) == 4)

            // Deleted: gone from every figure.
            calls[1].version = 3
            calls[1].deleted = true
            try await harness.publishEvent(calls[1])
            try await harness.waitFact("event_facts", calls[1].id, version: 3)
            let report6 = try await harness.projectReport(project)
            #expect(report6.events.total == 2)
            #expect(report6.events.byState == ["planned": 1, "completed": 0, "cancelled": 1])
            #expect(report6.completionRate == 0)
            #expect(report6.attributes["score"]?.distribution == ["5": 1])
            #expect(report6.attributes["answer"]?.distribution == ["Satisfied": 1])

            let list2 = try await harness.get("/v1/reports/projects", as: ProjectList.self)
            let listed = list2.items.first { $0.projectId == project }
            #expect(listed?.events == .init(total: 2, planned: 1, completed: 0, cancelled: 1))

            // A deleted project leaves the list and its report is 404.
            try await harness.publishCatalog(Topic.projects, "project", id: other, name: "Other project", version: 2, deleted: true)
            try await harness.waitFact("project_facts", other, version: 2)
            let list3 = try await harness.get("/v1/reports/projects", as: ProjectList.self)
            #expect(!list3.items.contains { $0.projectId == other })
            let gone = try await harness.request(.get, "/v1/reports/projects/\(other)", role: .viewer)
            #expect(gone.status == 404)

            let differences = try await harness.differences()
            #expect(differences.isEmpty, "\(differences)")
        }
    }
}

func number(_ value: JSONValue?) -> Double? {
    switch value {
    case .number(let number)?: number
    case .string(let text)?: Double(text)
    default: nil
    }
}
