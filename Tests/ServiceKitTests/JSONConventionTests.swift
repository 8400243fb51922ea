import Contracts
import Foundation
import ServiceKit
import Testing

@Suite("JSON conventions and RFC 3339")
struct JSONConventionTests {
    static let instant = Date(timeIntervalSince1970: 1_796_109_302.123)  // 2026-12-01T07:15:02.123Z

    @Test("Dates encode as UTC with milliseconds")
    func encodesUTCMilliseconds() throws {
        #expect(RFC3339.string(from: Self.instant) == "2026-12-01T07:15:02.123Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59.000Z")
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00.000Z")
        let json = String(decoding: try CRMJSON.makeEncoder().encode(["at": Self.instant]), as: UTF8.self)
        #expect(json == #"{"at":"2026-12-01T07:15:02.123Z"}"#)
    }

    @Test(
        "RFC 3339 parses with any offset, with or without a fraction",
        arguments: [
            ("2026-12-01T07:15:02.123Z", 1_796_109_302.123),
            ("2026-12-01T10:15:02.123+03:00", 1_796_109_302.123),
            ("2026-12-01T01:45:02.123-05:30", 1_796_109_302.123),
            ("2026-12-01t07:15:02.123z", 1_796_109_302.123),
            ("2026-12-01T07:15:02Z", 1_796_109_302),
            ("2026-12-01T07:15:02.5+00:00", 1_796_109_302.5),
            ("2026-12-01T07:15:02.123456789Z", 1_796_109_302.123456789),
        ])
    func parses(text: String, seconds: Double) throws {
        let date = try #require(RFC3339.date(from: text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 0.000_001)
    }

    @Test(
        "Anything else is refused",
        arguments: [
            "2026-12-01T07:15:02", "2026-12-01 07:15:02Z", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z",
            "2026-12-01T24:00:00Z", "2026-12-01T07:15:02.Z", "2026-12-01T07:15:02+0300", "2026-12-01", "",
            "2026-12-01T07:15:02Zjunk",
        ])
    func refuses(text: String) {
        #expect(RFC3339.date(from: text) == nil)
    }

    @Test("The decoder reads what the encoder writes")
    func roundTrip() throws {
        struct Event: Codable, Equatable {
            var startsAt: Date
        }
        let data = try CRMJSON.makeEncoder().encode(Event(startsAt: Self.instant))
        let decoded = try CRMJSON.makeDecoder().decode(Event.self, from: data)
        #expect(abs(decoded.startsAt.timeIntervalSince(Self.instant)) < 0.000_5)
    }
}
