import Contracts
import Foundation
import Kafka
import Messaging
import Testing

/// How consumers read a topic's typed payload: a message that is not one is a permanent failure
/// (so it goes to the DLQ) whose reason names the topic and the offending field.
@Suite("Typed payloads of consumed messages")
struct TypedMessageTests {
    static func message(_ topic: String, _ value: String) -> KafkaMessage {
        KafkaMessage(topic: topic, partition: 0, offset: 7, key: nil, value: Array(value.utf8), headers: [], timestamp: nil)
    }

    static func envelope(type: String, data: String) -> String {
        """
        {"specversion":"1.0","id":"m-1","source":"crm-attributes","type":"\(type)","subject":"s",\
        "time":"2026-12-01T07:15:02.123Z","datacontenttype":"application/json","version":4,"data":\(data)}
        """
    }

    @Test("a catalog snapshot: id, deletion by mark or type, the envelope's version and the fields")
    func catalogSnapshot() throws {
        let id = "6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11"
        let upsert = Self.message(Topic.employees, Self.envelope(
            type: "crm.employee.upserted", data: #"{"id":"\#(id)","version":4,"name":"Olga","phoneExtension":"101"}"#))
        let read = try upsert.catalogSnapshot(EmployeeFields.self)
        #expect(read.id == UUID(uuidString: id) && read.version == 4 && !read.deleted)
        #expect(read.fields.name == "Olga" && read.fields.phoneExtension == "101" && read.fields.timeZone == nil)
        let deletion = Self.message(Topic.employees, Self.envelope(
            type: "crm.employee.deleted", data: #"{"id":"\#(id)","version":5}"#))
        #expect(try deletion.catalogSnapshot(EmployeeFields.self).deleted)
    }

    @Test("bad input: not JSON, no envelope, no id, a member of the wrong type — each a permanent failure naming why")
    func badInput() throws {
        let cases: [(String, String)] = [
            ("{not json", "not a CloudEvent snapshot of crm.counterparties.v1"),
            (#"{"id":"6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11"}"#, "specversion is missing"),
            (Self.envelope(type: "crm.counterparty.upserted", data: #"{"version":1,"name":"Acme"}"#), "data.id is missing"),
            (Self.envelope(type: "crm.counterparty.upserted", data: #"{"id":"6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11","version":1,"phones":"+7495"}"#),
             "data.phones"),
        ]
        for (value, reason) in cases {
            let error = try #require(throws: PermanentFailure.self) {
                try Self.message(Topic.counterparties, value).catalogSnapshot(CounterpartyFields.self)
            }
            #expect(error.reason.contains(reason), "\(error.reason)")
        }
        let event = Self.message(Topic.events, Self.envelope(type: "crm.event.created", data: #"{"id":"6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11","version":1}"#))
        let error = try #require(throws: PermanentFailure.self) { try event.cloudEvent(of: EventSnapshot.self) }
        #expect(error.reason.contains("crm.events.v1") && error.reason.contains("data.number is missing"), "\(error.reason)")
    }
}
