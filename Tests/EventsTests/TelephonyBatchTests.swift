import Foundation
import Kafka
import Testing
import TestSupport

/// Call records published together reach the service as one poll batch, which the telephony
/// handler applies set-based (one query per step for the whole batch).
@Suite("Telephony: set-based batches")
struct TelephonyBatchTests {
    @Test("A burst with a repeated callId and two poison messages in the middle: one event per callId, the poison in crm.dlq.v1")
    func burstWithDuplicatesAndPoison() async throws {
        try await Harness.run { h in
            let acme = try await h.seedCounterparty(name: "Acme", phones: ["+74951234567"])
            let olga = try await h.seedEmployee(name: "Olga", phoneExtension: "101")
            _ = try await h.seedEmployee(name: "Sergey", phoneExtension: "102")
            let formats = ["+7 (495) 123-45-67", "84951234567", "8 495 123 45 67"]
            let answered = (0..<20).map { index in
                CallRecord.answered(from: formats[index % formats.count], endedSecondsAgo: Double(900 - index * 10), callId: "pbx-burst-\(index)-\(newId())")
            }
            let missed = CallRecord.unanswered(from: "+74951234567", endedSecondsAgo: 30)
            // The same callId again, from another extension: the first record of it wins.
            var repeated = answered[3]
            repeated.extension = "102"
            let poison = ("garbage-\(newId())", "this is not json {")
            let noCallId = ("no-call-id-\(newId())", #"{"direction":"inbound","status":"answered"}"#)

            var records = answered.prefix(10).map { ProducerRecord(topic: telephonyTopic, key: $0.callId, value: $0.bare) }
            records.append(ProducerRecord(topic: telephonyTopic, key: poison.0, value: poison.1))
            records.append(ProducerRecord(topic: telephonyTopic, key: repeated.callId, value: repeated.cloudEvent))
            records.append(ProducerRecord(topic: telephonyTopic, key: missed.callId, value: missed.bare))
            records.append(ProducerRecord(topic: telephonyTopic, key: noCallId.0, value: noCallId.1))
            records += answered.suffix(10).map { ProducerRecord(topic: telephonyTopic, key: $0.callId, value: $0.bare) }
            records.append(ProducerRecord(topic: telephonyTopic, key: answered[7].callId, value: answered[7].bare))
            let results = await h.producer.send(records)
            #expect(results.allSatisfy { if case .success = $0 { true } else { false } })

            // 20 answered calls, the missed call and its call-back.
            let page = try await settledEvents(h, "counterpartyId=\(acme)&limit=500", count: 22, timeout: .seconds(40))
            #expect(page.items.count == 22, "\(page.items.count) events")
            let callIds = page.items.compactMap(\.callId)
            #expect(callIds.count == 21, "the call-back carries no callId")
            #expect(Set(callIds) == Set(answered.map(\.callId) + [missed.callId]))
            let first = try #require(eventOfCall(page, repeated.callId))
            #expect(first.responsibleId == olga, "the first record of a repeated callId was applied")
            #expect(Set(page.items.compactMap(\.number)).count == 22, "every event has its own number")

            let missedEvent = try #require(eventOfCall(page, missed.callId))
            #expect(missedEvent.state == "cancelled")
            let back = try #require(callBack(in: page, basedOn: missedEvent.id), "the call-back names the missed call as its basis")
            #expect(back.state == "planned")
            #expect(back.responsibleId == olga)

            let dead = try await readTopic(h, "crm.dlq.v1", count: 3, timeout: .seconds(8))
            #expect(Set(dead.compactMap(\.key)) == [poison.0, noCallId.0], "exactly the poison: \(dead.map { $0.key ?? "-" })")
            #expect(try await listIds(h, "includeDeleted=true&limit=500").count == 22, "nothing else was created")
        }
    }
}
