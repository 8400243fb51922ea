import ArgumentParser
import Contracts
import Foundation

/// The JSON coding of the hottest message, an event snapshot in its CloudEvent envelope (every
/// telephony call writes one, three services read each), by Foundation's coders with CRMJSON's
/// settings and by `CRMJSONEncoder`/`CRMJSONDecoder`. Runs in this process; prints figures.
struct JSONBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "json", abstract: "Encoding and decoding of an event envelope: Foundation's coders vs CRM's.")

    @Option(help: "Envelopes per measurement.")
    var count = 50_000

    func run() throws {
        let envelope = Self.envelope()
        let text = try CRMJSON.makeEncoder().encode(envelope)
        let bytes = Array(text)
        print("crm-json: \(count) envelopes of \(bytes.count) bytes (CloudEvent<EventSnapshot> of a telephony call)")
        let encoder = CRMJSON.makeEncoder(), fastEncoder = CRMJSONEncoder()
        let decoder = CRMJSON.makeDecoder(), fastDecoder = CRMJSONDecoder()
        let foundationEncode = try measure { _ = try encoder.encode(envelope) }
        let fastEncode = try measure { _ = try fastEncoder.encode(envelope) }
        let foundationDecode = try measure { _ = try decoder.decode(CloudEvent<EventSnapshot>.self, from: text) }
        let fastDecode = try measure { _ = try fastDecoder.decode(CloudEvent<EventSnapshot>.self, from: bytes) }
        print(Self.line("encode", foundation: foundationEncode, fast: fastEncode))
        print(Self.line("decode", foundation: foundationDecode, fast: fastDecode))
    }

    /// Envelopes per second.
    private func measure(_ body: () throws -> Void) throws -> Double {
        for _ in 0..<min(count, 1_000) { try body() }  // warm caches and metadata
        let clock = ContinuousClock()
        let elapsed = try clock.measure { for _ in 0..<count { try body() } }
        return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    private static func line(_ what: String, foundation: Double, fast: Double) -> String {
        "  \(what): Foundation \(Int(foundation)) /s, CRM \(Int(fast)) /s (\(String(format: "%.1f", fast / foundation))×)"
    }

    private static func envelope() -> CloudEvent<EventSnapshot> {
        let now = Date()
        let call = CallDetails(
            callId: "pbx-1-88412", direction: "inbound", from: "+74951234567", to: "+74951110000", extension: "101",
            status: "answered", startedAt: now, answeredAt: now, endedAt: now, durationSeconds: 95, recordingUrl: nil)
        let event = EventSnapshot(
            id: UUID(), number: "EV-000123", channel: "phone-call", direction: "incoming", state: "completed",
            subject: "Incoming call from +74951234567", content: nil, counterpartyId: UUID(), contactId: nil, dealId: nil,
            projectId: nil, responsibleId: UUID(), startsAt: now, endsAt: now, basis: nil, authorId: nil, createdAt: now,
            updatedAt: now, completedAt: now, cancelledAt: nil, cancelReason: nil, source: "telephony", call: call,
            unmatched: false, deleted: false, version: 1)
        return CloudEvent(source: "crm-events", type: "crm.event.created", subject: event.id.lowercasedText, version: 1, data: event)
    }
}
