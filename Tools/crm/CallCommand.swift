import ArgumentParser
import Contracts
import Foundation
import Kafka

/// `crm call`: publishes one call record to `crm.telephony.calls.v1`, as a PBX connector would,
/// so the telephony path can be tried without kcat.
struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Publish a call record to crm.telephony.calls.v1 (uses CRM_KAFKA_BROKERS).")

    @Option(help: "The other party's number, in any format.")
    var from: String

    @Option(help: "Our number.")
    var to = "+74951110000"

    @Option(help: "inbound or outbound.")
    var direction = "inbound"

    @Option(help: "The employee's extension.")
    var `extension`: String?

    @Option(help: "answered, missed, busy or failed.")
    var status = "answered"

    @Option(help: "Talk time in seconds for answered calls.")
    var seconds = 120

    @Option(help: "The call id (default: a new one).")
    var callId = "crm-cli-\(UUID().lowercasedText)"

    func validate() throws {
        guard TelephonyCall.Direction(rawValue: direction) != nil else { throw ValidationError("--direction must be inbound or outbound") }
        guard TelephonyCall.Status(rawValue: status) != nil else { throw ValidationError("--status must be answered, missed, busy or failed") }
    }

    func run() async throws {
        let brokers = ProcessInfo.processInfo.environment["CRM_KAFKA_BROKERS"]
        guard let brokers, !brokers.isEmpty else {
            throw ValidationError("CRM_KAFKA_BROKERS is not set: run `source .crm/env` after deploy/local/up")
        }
        let ended = Date()
        let answered = status == "answered"
        let started = ended.addingTimeInterval(answered ? -Double(seconds) - 5 : -20)
        let call = TelephonyCall(
            callId: callId, direction: TelephonyCall.Direction(rawValue: direction)!, from: from, to: to,
            extension: `extension`, startedAt: started, answeredAt: answered ? started.addingTimeInterval(5) : nil,
            endedAt: ended, status: TelephonyCall.Status(rawValue: status)!, recordingUrl: nil)
        let value = String(decoding: try CRMJSON.makeEncoder().encode(call), as: UTF8.self)
        let producer = try KafkaProducer(configuration: .fromEnvironment(ProcessInfo.processInfo.environment))
        let report = try await producer.send(ProducerRecord(topic: Topic.telephonyCalls, key: callId, value: value))
        await producer.close()
        print("published \(callId) to \(report.topic) [partition \(report.partition), offset \(report.offset)]")
        print(value)
    }
}
