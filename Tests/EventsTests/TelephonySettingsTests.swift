@testable import Events
import Testing

/// crm-events' own variables are checked before anything starts: a bad value stops start-up
/// with a message naming the variable.
@Suite("Telephony settings")
struct TelephonySettingsTests {
    @Test("CRM_TELEPHONY_CONSUMERS: two members by default (also when empty), any count from 1 to 16")
    func consumerCount() throws {
        #expect(try TelephonySettings(environment: [:], defaultCountryCode: "7").consumers == 2)
        #expect(try TelephonySettings(environment: ["CRM_TELEPHONY_CONSUMERS": ""], defaultCountryCode: "7").consumers == 2)
        for count in [1, 3, 16] {
            let settings = try TelephonySettings(environment: ["CRM_TELEPHONY_CONSUMERS": "\(count)"], defaultCountryCode: "7")
            #expect(settings.consumers == count)
        }
    }

    @Test("CRM_TELEPHONY_CONSUMERS out of range or not a number stops start-up, naming the variable", arguments: ["0", "17", "-1", "two", "2.5", " 4"])
    func badConsumerCount(_ value: String) {
        let error = #expect(throws: TelephonySettings.Invalid.self) {
            try TelephonySettings(environment: ["CRM_TELEPHONY_CONSUMERS": value], defaultCountryCode: "7")
        }
        #expect(error?.description.contains("CRM_TELEPHONY_CONSUMERS") == true)
        #expect(error?.description.contains("'\(value)'") == true)
    }
}
