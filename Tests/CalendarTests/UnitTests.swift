@testable import CalendarService
import Foundation
import Testing

/// The pure parts: iCalendar folding and escaping, interval arithmetic, settings.
@Suite struct ICalendarWriterTests {
    @Test func foldsAt75OctetsWithoutSplittingCharacters() throws {
        let value = String(repeating: "Ж", count: 100) + "😀" + String(repeating: "a", count: 80)
        let folded = ICalendarWriter.fold("SUMMARY:" + value)
        #expect(folded.hasSuffix("\r\n"))
        let lines = folded.components(separatedBy: "\r\n").dropLast()
        #expect(lines.count > 3)
        for (index, line) in lines.enumerated() {
            #expect(line.utf8.count <= 75, "line \(index) has \(line.utf8.count) octets")
            if index > 0 { #expect(line.hasPrefix(" ")) }
        }
        let unfolded = lines.enumerated().map { $0.offset == 0 ? String($0.element) : String($0.element.dropFirst()) }.joined()
        #expect(unfolded == "SUMMARY:" + value)
        // A line of exactly 75 octets is not folded.
        let exact = "X:" + String(repeating: "a", count: 73)
        #expect(ICalendarWriter.fold(exact) == exact + "\r\n")
        #expect(ICalendarWriter.fold(exact + "b").components(separatedBy: "\r\n") == [exact, " b", ""])
    }

    @Test func escapesTextValues() {
        #expect(ICalendarWriter.escape(#"a,b;c\d"#) == #"a\,b\;c\\d"#)
        #expect(ICalendarWriter.escape("one\ntwo\r\nthree\rfour") == #"one\ntwo\nthree\nfour"#)
        #expect(ICalendarWriter.escape("tab\tbell\u{07}") == "tab\tbell")
    }

    @Test func formatsUTCAndDurations() {
        #expect(ICalendarWriter.utc(Date(timeIntervalSince1970: 1_898_841_600)) == "20300304T080000Z")
        #expect(ICalendarWriter.utc(Date(timeIntervalSince1970: 951_782_400)) == "20000229T000000Z")
        #expect(ICalendarWriter.utc(Date(timeIntervalSince1970: -1)) == "19691231T235959Z")
        #expect(ICalendarWriter.duration(900) == "PT15M")
        #expect(ICalendarWriter.duration(3600) == "PT1H")
        #expect(ICalendarWriter.duration(86_400 + 90) == "P1DT1M30S")
        #expect(ICalendarWriter.duration(86_400) == "P1D")
    }
}

@Suite struct IntervalTests {
    let base = Date(timeIntervalSince1970: 0)
    func item(_ start: Double, _ end: Double) -> Intervals.Item {
        Intervals.Item(id: UUID(), start: base.addingTimeInterval(start), end: base.addingTimeInterval(end))
    }

    @Test func touchingNestedDisjointAndInstants() {
        let a = item(0, 10), b = item(10, 20), c = item(12, 15), d = item(30, 40), instantInside = item(35, 35), instantAtStart = item(30, 30)
        let found = Intervals.conflicts([d, c, b, a, instantInside, instantAtStart], limit: 100)
        #expect(!found.truncated)
        #expect(found.conflicts.map { [$0.first, $0.second] } == [[b.id, c.id], [d.id, instantInside.id]])
        #expect(found.conflicts.first?.from == base.addingTimeInterval(12) && found.conflicts.first?.to == base.addingTimeInterval(15))
        #expect(Intervals.conflicts([a, b, c], limit: 0).truncated)
    }

    @Test func busyMergesOverlappingAndTouchingAndClips() {
        let busy = Intervals.busy(
            [item(0, 10), item(10, 20), item(12, 15), item(30, 40), item(35, 35), item(50, 60)],
            from: base.addingTimeInterval(5), to: base.addingTimeInterval(55))
        #expect(busy.map { [$0.start.timeIntervalSince1970, $0.end.timeIntervalSince1970] } == [[5, 20], [30, 40], [50, 55]])
    }
}

@Suite struct SettingsTests {
    @Test func readsDurationsAndRefusesBadValues() throws {
        let settings = try CalendarSettings(environment: ["CRM_REMINDER_LEAD": "30m", "CRM_FEED_PAST_DAYS": "7"])
        #expect(settings.reminderLead == 1800 && settings.feedPastDays == 7 && settings.feedFutureDays == 180)
        #expect(try CalendarSettings(environment: [:]).reminderLead == 900)
        #expect(throws: CalendarSettings.Invalid.self) { try CalendarSettings(environment: ["CRM_REMINDER_LEAD": "0"]) }
        #expect(throws: CalendarSettings.Invalid.self) { try CalendarSettings(environment: ["CRM_REMINDER_LEAD": "soon"]) }
        #expect(throws: CalendarSettings.Invalid.self) { try CalendarSettings(environment: ["CRM_FEED_RATE_LIMIT": "0"]) }
        #expect(throws: CalendarSettings.Invalid.self) { try CalendarSettings(environment: ["CRM_CALENDAR_PUBLIC_URL": "ftp://x"]) }
    }
}
