import Events
import Foundation
import Postgres
import Testing
import TestSupport

/// End to end through the topics: crm-events (in this process, its own schema) turns a missed
/// call into a cancelled call event and a planned call-back for the extension's owner, and the
/// call-back shows in that employee's calendar.
@Suite struct TelephonyCallBackTests {
    @Test func aMissedCallsCallBackAppearsInTheExtensionOwnersCalendar() async throws {
        try await CalendarHarness.run { h in
            let url = try TestDatabase.url()
            let eventsSchema = TestDatabase.uniqueSchema("calev")
            var environment = h.context.environment
            environment["CRM_HTTP_PORT"] = String(try freeLocalPort())
            environment["CRM_CALLBACK_SLA"] = "3600"
            let (events, eventsHost) = try await EventsService.makeApplication(environment: environment, schema: eventsSchema)
            let runner = ApplicationRunner()
            await runner.start(events)
            do {
                let anna = newId()
                try await h.seedEmployee(id: anna, name: "Anna", phoneExtension: "101")
                let acme = try await h.seedCounterparty(name: "Acme", phones: ["+74951234567"])
                // crm-events must know the extension and the number before the call arrives.
                let known = try await eventually(timeout: .seconds(30)) {
                    let employee = try await eventsHost.pool.query("SELECT 1 FROM employees WHERE id = \(UUID(uuidString: anna)!)")
                    let counterparty = try await eventsHost.pool.query("SELECT 1 FROM counterparties WHERE id = \(UUID(uuidString: acme)!)")
                    return !employee.isEmpty && !counterparty.isEmpty
                }
                #expect(known, "crm-events did not project the employee and the counterparty")

                let ended = Date().addingTimeInterval(-5)
                let callId = "pbx-\(newId())"
                let call = """
                    {"callId":\(q(callId)),"direction":"inbound","from":"+7 (495) 123-45-67","to":"+74951110000",\
                    "extension":"101","startedAt":\(q(rfc3339(ended.addingTimeInterval(-20)))),\
                    "endedAt":\(q(rfc3339(ended))),"status":"missed"}
                    """
                try await h.driver.publish(topic: "crm.telephony.calls.v1", key: callId, value: call)

                let from = ended.addingTimeInterval(-3600), to = ended.addingTimeInterval(7200)
                let calendar = try await waitForEntries(h, anna, from: from, to: to, timeout: .seconds(40)) { !$0.entries.isEmpty }
                #expect(calendar.entries.count == 1, "\(calendar.text)")
                let callBack = try #require(calendar.entries.first)
                #expect(callBack.state == "planned" && callBack.direction == "outgoing" && callBack.channel == "phone-call")
                #expect(callBack.subject?.hasPrefix("Call back") == true, "\(callBack.subject ?? "-")")
                #expect(callBack.counterpartyId == acme && callBack.counterpartyName == "Acme")
                #expect(sameInstant(callBack.startsAt, rfc3339(ended)))

                // The missed call itself is a cancelled entry, shown on request.
                let all = try await waitForEntries(h, anna, from: from, to: to, includeCancelled: true) { $0.entries.count == 2 }
                #expect(all.entries.map(\.state) == ["cancelled", "planned"], "\(all.text)")
                #expect(all.entries.first?.direction == "incoming")
            } catch {
                await runner.stop()
                try? await dropSchema(eventsSchema, url: url)
                throw error
            }
            await runner.stop()
            try await dropSchema(eventsSchema, url: url)
        }
    }
}
