import Contracts
import Foundation
import Testing

/// The JSON Schemas of docs/schemas/ and the payload types of Contracts agree: the schemas'
/// examples decode into the types, and encoded values of the types carry exactly the members
/// the schemas list. The full JSON Schema validation of the same values (formats, patterns,
/// enums, nullability) is done by deploy/local/conformance/validate_messages.py from the
/// `payload-samples.jsonl` this suite writes into `CRM_CONFORMANCE_DIR`.
@Suite("Contracts payloads agree with docs/schemas")
struct SchemaAgreementTests {
    static let schemas = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/schemas")

    static func schema(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: schemas.appendingPathComponent(name))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(name) is not a JSON object")
    }

    /// How each schema's examples are read: into the type that topic's producers and consumers use.
    static let readers: [String: @Sendable (Data) throws -> Void] = [
        "counterparty.json": { _ = try CRMJSON.makeDecoder().decode(CounterpartySnapshot.self, from: $0) },
        "contact.json": { _ = try CRMJSON.makeDecoder().decode(ContactSnapshot.self, from: $0) },
        "employee.json": { _ = try CRMJSON.makeDecoder().decode(EmployeeSnapshot.self, from: $0) },
        "project.json": { _ = try CRMJSON.makeDecoder().decode(ProjectSnapshot.self, from: $0) },
        "deal.json": { _ = try CRMJSON.makeDecoder().decode(DealSnapshot.self, from: $0) },
        "product.json": { _ = try CRMJSON.makeDecoder().decode(ProductSnapshot.self, from: $0) },
        "attribute-set.json": { _ = try CRMJSON.makeDecoder().decode(AttributeSet.self, from: $0) },
        "attribute-values.json": { _ = try CRMJSON.makeDecoder().decode(AttributeValues.self, from: $0) },
        "event.json": { _ = try CRMJSON.makeDecoder().decode(EventSnapshot.self, from: $0) },
        "order.json": { _ = try CRMJSON.makeDecoder().decode(OrderSnapshot.self, from: $0) },
        "calendar-entry.json": { _ = try CRMJSON.makeDecoder().decode(CalendarEntrySnapshot.self, from: $0) },
        "calendar-reminder.json": { _ = try CRMJSON.makeDecoder().decode(ReminderDue.self, from: $0) },
        "project-stats.json": { _ = try CRMJSON.makeDecoder().decode(ProjectReportSnapshot.self, from: $0) },
        "segment-stats.json": { _ = try CRMJSON.makeDecoder().decode(SegmentReportSnapshot.self, from: $0) },
        "telephony-call.json": { _ = try TelephonyCall.decode(from: Array($0)) },
        "cloudevent.json": { _ = try CRMJSON.makeDecoder().decode(CloudEvent<JSONValue>.self, from: $0) },
    ]

    @Test("every payload schema has a Contracts type, and its examples decode into it")
    func examplesDecode() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.schemas.path).filter { $0.hasSuffix(".json") }
        #expect(Set(files) == Set(Self.readers.keys).union(["common.json"]), "schemas without a type, or types without a schema")
        for (file, read) in Self.readers.sorted(by: { $0.key < $1.key }) {
            let examples = try #require(try Self.schema(file)["examples"] as? [Any], "\(file) has no examples")
            #expect(!examples.isEmpty)
            for (index, example) in examples.enumerated() {
                let data = try JSONSerialization.data(withJSONObject: example)
                #expect(throws: Never.self, "\(file) examples[\(index)]") { try read(data) }
            }
        }
    }

    @Test("encoded values carry every required member and only members the schema lists")
    func membersAgree() throws {
        for sample in try Samples.all() {
            let schema = try Self.schema(sample.schema)
            let properties = Set((schema["properties"] as? [String: Any] ?? [:]).keys)
            let required = Set(schema["required"] as? [String] ?? [])
            let object = try #require(try JSONSerialization.jsonObject(with: sample.json()) as? [String: Any], "\(sample.name)")
            let members = Set(object.keys)
            #expect(required.isSubset(of: members), "\(sample.name): missing \(required.subtracting(members).sorted())")
            #expect(members.isSubset(of: properties), "\(sample.name): not in \(sample.schema): \(members.subtracting(properties).sorted())")
        }
    }

    @Test("encoded values decode back into their types unchanged")
    func roundTrip() throws {
        let decoder = CRMJSON.makeDecoder()
        let encoder = CRMJSON.makeEncoder()
        let event = Samples.event(telephony: true)
        let eventAgain = try decoder.decode(EventSnapshot.self, from: encoder.encode(event))
        #expect(try encoder.encode(eventAgain) == encoder.encode(event))
        let order = Samples.order()
        #expect(try encoder.encode(decoder.decode(OrderSnapshot.self, from: encoder.encode(order))) == encoder.encode(order))
        let counterparty = Samples.catalog(CounterpartyFields(name: "Acme", phones: ["+74951234567"]))
        let again = try decoder.decode(CounterpartySnapshot.self, from: encoder.encode(counterparty))
        #expect(again.fields == counterparty.fields && again.id == counterparty.id && again.attributes == counterparty.attributes)
        #expect(try decoder.decode(CalendarEntrySnapshot.self, from: encoder.encode(Samples.entry(removed: true))) == Samples.entry(removed: true))
        #expect(try decoder.decode(AttributeSet.self, from: encoder.encode(Samples.attributeSet)) == Samples.attributeSet)
    }

    @Test("readers accept a partial catalog snapshot but not one without its id")
    func lenientReaders() throws {
        let decoder = CRMJSON.makeDecoder()
        let partial = #"{"id":"6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11","version":1,"name":"Acme"}"#
        let snapshot = try decoder.decode(CounterpartySnapshot.self, from: Data(partial.utf8))
        #expect(snapshot.fields.name == "Acme" && snapshot.deleted == false && snapshot.fields.phones == nil)
        #expect(throws: DecodingError.self) {
            try decoder.decode(CounterpartySnapshot.self, from: Data(#"{"version":1,"name":"Acme"}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try decoder.decode(EmployeeSnapshot.self, from: Data(#"{"id":"x","version":1}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try decoder.decode(EventSnapshot.self, from: Data(#"{"id":"6f1c2f0e-8d3b-4c1a-9e55-2b7d4a1c0f11","version":1}"#.utf8))
        }
    }

    /// Handed to the Python validator (deploy/local/test) for the full JSON Schema check.
    @Test("writes the encoded samples for the JSON Schema validator")
    func writeSamples() throws {
        guard let path = ProcessInfo.processInfo.environment["CRM_CONFORMANCE_DIR"], !path.isEmpty else { return }
        let directory = URL(fileURLWithPath: path, isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var lines = ""
        for sample in try Samples.all() {
            let value = String(decoding: try sample.json(), as: UTF8.self)
            let name = String(decoding: try JSONEncoder().encode(sample.name), as: UTF8.self)
            lines += #"{"name":\#(name),"schema":"\#(sample.schema)","value":\#(value)}"# + "\n"
        }
        try lines.write(to: directory.appendingPathComponent("payload-samples.jsonl"), atomically: true, encoding: .utf8)
    }
}
