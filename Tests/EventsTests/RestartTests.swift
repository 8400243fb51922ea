import Foundation
import Kafka
import Postgres
import Testing
import TestSupport

@Suite("Telephony across a restart")
struct RestartTests {
    @Test("Restart in the middle of a stream of 20 calls (some delivered again): every call becomes exactly one event")
    func restartMidStream() async throws {
        try await Harness.run { h in
            let acme = try await h.seedCounterparty(name: "Acme", phones: ["+74951234567"])
            _ = try await h.seedEmployee(name: "Olga", phoneExtension: "101")
            let formats = ["+7 (495) 123-45-67", "84951234567", "+74951234567", "8 495 123 45 67"]
            let calls = (0..<20).map { index in
                CallRecord.answered(
                    from: formats[index % formats.count], endedSecondsAgo: Double(600 - index * 10),
                    callId: "pbx-restart-\(index)-\(newId())")
            }

            for (index, call) in calls.prefix(10).enumerated() {
                try await publishCall(h, call, cloudEvent: index % 2 == 1)
            }
            // Let the service get part of the way through, then restart it.
            _ = try await waitForEvents(h, "counterpartyId=\(acme)&limit=500", count: 3)
            try await h.restartService()

            for call in calls.suffix(10) {
                try await publishCall(h, call)
            }
            // A connector re-sending part of the stream after the restart changes nothing.
            for call in calls[5..<10] {
                try await publishCall(h, call)
            }

            let page = try await settledEvents(h, "counterpartyId=\(acme)&limit=500", count: 20, timeout: .seconds(40))
            let callIds = page.items.compactMap(\.callId)
            #expect(page.items.count == 20, "\(page.items.count) events for 20 calls")
            #expect(callIds.count == page.items.count, "every event carries its callId")
            #expect(Set(callIds).count == callIds.count, "callIds repeat: \(callIds.sorted())")
            #expect(Set(callIds) == Set(calls.map(\.callId)), "missing: \(Set(calls.map(\.callId)).subtracting(callIds).sorted())")
            #expect(page.items.allSatisfy { $0.state == "completed" && $0.source == "telephony" })
            #expect(Set(page.items.compactMap(\.number)).count == 20, "numbers stay unique across the restart")

            let everything = try await listIds(h, "limit=500&includeDeleted=true")
            #expect(everything.count == 20, "nothing else was created: \(everything.count)")
        }
    }

    @Test("Restart in the middle of a burst of 50,000 calls (part of it delivered again): exactly one event per call")
    func restartMidBurst() async throws {
        try await Harness.run { h in
            let phones = (0..<10).map { "+7495123456\($0)" }
            for (index, phone) in phones.enumerated() {
                try await h.seedCounterparty(name: "Burst \(index)", phones: [phone])
            }
            _ = try await h.seedEmployee(name: "Olga", phoneExtension: "101")
            let total = 50_000
            let run = newId()
            let records = (0..<total).map { index in
                let call = CallRecord.answered(from: phones[index % phones.count], endedSecondsAgo: 600, callId: "pbx-burst-\(run)-\(index)")
                return ProducerRecord(topic: telephonyTopic, key: call.callId, value: call.bare)
            }
            func counts() async throws -> (events: Int, calls: Int) {
                let row = try await h.pool.query("SELECT count(*) AS n, count(DISTINCT call_id) AS d FROM events")[0]
                return (try row.decode("n"), try row.decode("d"))
            }
            // Published as fast as the service takes them, but never more than 9,000 ahead:
            // the embedded broker (librdkafka's mock cluster) keeps about 5 MB per partition
            // and drops the oldest beyond that, which a real cluster's retention never does
            // within a burst. A backlog of thousands is still there for the restart to cut into.
            let publisher = Task {
                for chunk in stride(from: 0, to: total, by: 1_000) {
                    while chunk - ((try? await counts().events) ?? 0) > 8_000 {
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    let results = await h.producer.send(Array(records[chunk..<min(chunk + 1_000, total)]))
                    #expect(results.allSatisfy { if case .success = $0 { true } else { false } })
                }
            }
            // Part of the way through the burst, the service restarts.
            #expect(await eventually(timeout: .seconds(300), interval: .milliseconds(50)) {
                (try? await counts().events) ?? 0 >= 10_000
            })
            let before = try await counts().events
            try await h.restartService()
            // A connector re-sending part of the burst changes nothing.
            try await publisher.value
            _ = await h.producer.send(Array(records[0..<1_000]) + Array(records[(total - 1_000)..<total]))

            let finished = await eventually(timeout: .seconds(600), interval: .seconds(1)) {
                (try? await counts().events) ?? 0 >= total
            }
            try await Task.sleep(for: .seconds(3))
            let after = try await counts()
            #expect(finished, "\(after.events) of \(total) events")
            #expect(before < total, "the restart came in the middle of the burst (\(before) events before it)")
            #expect(after.events == total, "one event per call: \(after.events) events for \(total) calls")
            #expect(after.calls == total, "\(after.calls) distinct callIds")
        }
    }
}
