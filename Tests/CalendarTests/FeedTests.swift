import Foundation
import HTTPTypes
import Testing
import TestSupport

/// A strict reading of an RFC 5545 feed, line by line: every physical line ends in CRLF, holds
/// at most 75 octets and is valid UTF-8 on its own (folding never splits a character);
/// continuation lines start with one space; every content line is `NAME[;params]:value`;
/// BEGIN/END nest properly; TEXT values use only the escapes `\\ \; \, \n \N`.
struct StrictICalendar {
    struct Component {
        var name: String
        var properties: [(name: String, parameters: String, value: String)] = []

        func values(_ name: String) -> [String] { properties.filter { $0.name == name }.map(\.value) }
        func value(_ name: String) -> String? { values(name).first }
    }

    var calendar = Component(name: "VCALENDAR")
    var events: [Component] = []
    var physicalLines: [String] = []

    struct Invalid: Error, CustomStringConvertible {
        let description: String
    }

    init(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard bytes.count >= 2, bytes.suffix(2) == [13, 10] else { throw Invalid(description: "does not end in CRLF") }
        // Split on CRLF only; a lone CR or LF anywhere is an error.
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 13 {
                guard index + 1 < bytes.count, bytes[index + 1] == 10 else { throw Invalid(description: "lone CR at \(index)") }
                lines.append(current)
                current = []
                index += 2
                continue
            }
            if byte == 10 { throw Invalid(description: "bare LF at \(index)") }
            current.append(byte)
            index += 1
        }
        var logical: [String] = []
        for line in lines {
            guard line.count <= 75 else { throw Invalid(description: "line of \(line.count) octets: \(String(decoding: line, as: UTF8.self))") }
            guard let text = String(validating: line, as: UTF8.self) else {
                throw Invalid(description: "a folded line splits a UTF-8 character: \(line)")
            }
            physicalLines.append(text)
            if text.hasPrefix(" ") || text.hasPrefix("\t") {
                guard !logical.isEmpty else { throw Invalid(description: "continuation without a line") }
                logical[logical.count - 1] += text.dropFirst()
            } else {
                guard !text.isEmpty else { throw Invalid(description: "empty line") }
                logical.append(text)
            }
        }
        var stack: [Component] = []
        for line in logical {
            guard let colon = line.firstIndex(of: ":") else { throw Invalid(description: "no colon: \(line)") }
            let head = line[..<colon]
            let value = String(line[line.index(after: colon)...])
            let name = String(head.split(separator: ";", maxSplits: 1).first ?? "")
            let parameters = head.contains(";") ? String(head.split(separator: ";", maxSplits: 1)[1]) : ""
            guard !name.isEmpty, name.allSatisfy({ ($0.isLetter && $0.isUppercase && $0.isASCII) || $0.isNumber || $0 == "-" }) else {
                throw Invalid(description: "bad property name: \(line)")
            }
            switch name {
            case "BEGIN":
                stack.append(Component(name: value))
            case "END":
                guard let last = stack.popLast(), last.name == value else { throw Invalid(description: "END:\(value) does not close") }
                if value == "VEVENT" {
                    guard stack.last?.name == "VCALENDAR" else { throw Invalid(description: "VEVENT outside VCALENDAR") }
                    events.append(last)
                } else if value == "VCALENDAR" {
                    guard stack.isEmpty else { throw Invalid(description: "VCALENDAR nested") }
                    calendar.properties = last.properties
                }
            default:
                guard !stack.isEmpty else { throw Invalid(description: "property outside a component: \(line)") }
                stack[stack.count - 1].properties.append((name, parameters, value))
            }
        }
        guard stack.isEmpty else { throw Invalid(description: "unclosed \(stack.map(\.name))") }
    }

    /// A TEXT value unescaped; throws on an unescaped `;` or `,` or an unknown escape.
    static func unescape(_ value: String) throws -> String {
        var out = ""
        var iterator = value.makeIterator()
        while let character = iterator.next() {
            switch character {
            case "\\":
                switch iterator.next() {
                case "\\": out.append("\\")
                case ";": out.append(";")
                case ",": out.append(",")
                case "n", "N": out.append("\n")
                default: throw Invalid(description: "bad escape in \(value)")
                }
            case ";", ",": throw Invalid(description: "unescaped \(character) in \(value)")
            default: out.append(character)
            }
        }
        return out
    }

    static func isUTC(_ value: String?) -> Bool {
        guard let value else { return false }
        return value.range(of: #"^\d{8}T\d{6}Z$"#, options: .regularExpression) != nil
    }
}

@Suite struct FeedTests {
    /// The path of the feed URL a feed-token response names.
    static func path(of response: HarnessResponse) -> String? {
        guard let url = feedURL(response), let range = url.range(of: "/v1/calendars/") else { return nil }
        return String(url[range.lowerBound...])
    }

    @Test func theFeedIsStrictRFC5545WithStableUIDsAndGrowingSequence() async throws {
        try await CalendarHarness.run { h in
            let olga = try await h.seedEmployee(name: "Ольга, отдел продаж", timeZone: "Europe/Moscow")
            let acme = try await h.seedCounterparty(name: "ООО «Ромашка»; филиал, Москва")
            let subject = "Очень длинная тема звонка клиенту по поводу поставки оборудования: цены, сроки; условия \\ оплаты"
            let content = "Первая строка, с запятой;\nвторая строка\r\nи третья \\ с обратной косой"
            var planned = EventFixture(subject: subject, responsible: olga, from: at(60), to: at(90), counterpartyId: acme)
            planned.content = content
            let completed = EventFixture(subject: "Done", responsible: olga, from: at(120), to: at(130), state: "completed")
            let cancelled = EventFixture(subject: "Dropped", responsible: olga, from: at(140), to: at(150), state: "cancelled")
            let instant = EventFixture(subject: "Instant", responsible: olga, from: at(200), to: at(200))
            for event in [planned, completed, cancelled, instant] { try await h.apply(event) }

            let issued = try await h.request(.post, "/v1/calendars/\(olga)/feed-token")
            #expect(issued.status == 201, "\(issued.text)")
            let url = try #require(feedURL(issued))
            #expect(url.hasPrefix("http") && url.contains("/v1/calendars/\(olga)/feed.ics?token="), "\(url)")
            let path = try #require(Self.path(of: issued))

            // No bearer token: the feed token is the credential.
            let first = try await h.request(.get, path, role: nil)
            #expect(first.status == 200, "\(first.text)")
            #expect(first.headers[.contentType] == "text/calendar; charset=utf-8")
            let feed = try StrictICalendar(first.text)

            #expect(feed.physicalLines.first == "BEGIN:VCALENDAR")
            #expect(feed.physicalLines.last == "END:VCALENDAR")
            let calendar = feed.calendar
            #expect(calendar.value("VERSION") == "2.0")
            #expect(calendar.value("PRODID")?.isEmpty == false)
            #expect(calendar.value("CALSCALE") == "GREGORIAN")
            #expect(calendar.value("METHOD") == "PUBLISH")
            #expect(try StrictICalendar.unescape(try #require(calendar.value("X-WR-CALNAME"))).contains("Ольга, отдел продаж"))
            #expect(calendar.properties.contains { $0.name == "REFRESH-INTERVAL" && $0.parameters == "VALUE=DURATION" && $0.value.hasPrefix("P") })
            #expect(calendar.value("X-PUBLISHED-TTL")?.hasPrefix("P") == true)

            #expect(feed.events.count == 4)
            let byUID = Dictionary(uniqueKeysWithValues: feed.events.map { ($0.value("UID") ?? "", $0) })
            func event(_ fixture: EventFixture) -> StrictICalendar.Component? {
                byUID.first { $0.key.hasPrefix(fixture.id) }?.value
            }
            for component in feed.events {
                #expect(component.values("UID").count == 1)
                #expect(StrictICalendar.isUTC(component.value("DTSTAMP")))
                #expect(StrictICalendar.isUTC(component.value("DTSTART")))
                #expect(component.value("SEQUENCE").flatMap(Int.init) != nil)
                #expect(component.value("SUMMARY") != nil && component.value("DESCRIPTION") != nil)
                #expect(["CONFIRMED", "CANCELLED"].contains(component.value("STATUS") ?? ""))
            }

            let long = try #require(event(planned))
            #expect(long.value("DTSTART") == "20300304T090000Z")
            #expect(long.value("DTEND") == "20300304T093000Z")
            #expect(long.value("SEQUENCE") == "1")
            #expect(long.value("STATUS") == "CONFIRMED")
            #expect(try StrictICalendar.unescape(try #require(long.value("SUMMARY"))) == subject)
            let description = try StrictICalendar.unescape(try #require(long.value("DESCRIPTION")))
            #expect(description.contains("ООО «Ромашка»; филиал, Москва"))
            #expect(description.contains("phone-call") && description.contains("outgoing") && description.contains("planned"))
            #expect(description.contains("Первая строка, с запятой;\nвторая строка\nи третья \\ с обратной косой"))
            // The Cyrillic subject (2 octets a letter) was folded over several lines.
            let summaryLine = try #require(feed.physicalLines.firstIndex { $0.hasPrefix("SUMMARY:") })
            #expect(feed.physicalLines[summaryLine + 1].hasPrefix(" "))

            #expect(event(completed)?.value("STATUS") == "CONFIRMED")
            #expect(try StrictICalendar.unescape(try #require(event(completed)?.value("DESCRIPTION"))).contains("completed"))
            #expect(event(cancelled)?.value("STATUS") == "CANCELLED")
            // An instant entry has no DTEND (RFC 5545 wants DTEND after DTSTART).
            #expect(event(instant)?.value("DTEND") == nil)

            // Polling an unchanged feed: 304 for its ETag.
            let etag = try #require(first.headers[.eTag])
            let unchanged = try await h.driver.request(.get, path, role: nil, headers: ["If-None-Match": etag])
            #expect(unchanged.status == 304 && unchanged.text.isEmpty)

            // A change: the same UID, a higher SEQUENCE.
            let uid = try #require(long.value("UID"))
            try await h.apply(planned.next { $0.startsAt = at(70); $0.endsAt = at(100) })
            let changed = try await h.driver.request(.get, path, role: nil, headers: ["If-None-Match": etag])
            #expect(changed.status == 200 && changed.headers[.eTag] != etag)
            let second = try StrictICalendar(changed.text)
            let moved = try #require(second.events.first { $0.value("UID") == uid })
            #expect(moved.value("SEQUENCE") == "2")
            #expect(moved.value("DTSTART") == "20300304T091000Z")
        }
    }

    @Test func aNewTokenRevokesTheOldOneAndDeleteRevokes() async throws {
        try await CalendarHarness.run { h in
            let olga = try await h.seedEmployee(name: "Olga")
            try await h.apply(EventFixture(responsible: olga, from: at(60), to: at(90)))
            let first = try #require(Self.path(of: try await h.request(.post, "/v1/calendars/\(olga)/feed-token")))
            #expect(try await h.request(.get, first, role: nil).status == 200)

            // A manager issues a new token for their own calendar: the old one stops working.
            let secondResponse = try await h.request(.post, "/v1/calendars/\(olga)/feed-token", role: .manager, subject: olga)
            #expect(secondResponse.status == 201, "\(secondResponse.text)")
            let second = try #require(Self.path(of: secondResponse))
            #expect(second != first)
            expectProblem(try await h.request(.get, first, role: nil), status: 404)
            #expect(try await h.request(.get, second, role: nil).status == 200)

            // A wrong token, a token of another calendar, no token: the same bare 404.
            let other = try await h.seedEmployee(name: "Sergey")
            let token = String(second[second.range(of: "token=")!.upperBound...])
            expectProblem(try await h.request(.get, "/v1/calendars/\(other)/feed.ics?token=\(token)", role: nil), status: 404)
            expectProblem(try await h.request(.get, "/v1/calendars/\(olga)/feed.ics?token=x\(token.dropFirst())", role: nil), status: 404)
            expectProblem(try await h.request(.get, "/v1/calendars/\(olga)/feed.ics", role: nil), status: 404)

            let revoked = try await h.request(.delete, "/v1/calendars/\(olga)/feed-token")
            #expect(revoked.status == 204, "\(revoked.text)")
            expectProblem(try await h.request(.get, second, role: nil), status: 404)
            expectProblem(try await h.request(.delete, "/v1/calendars/\(olga)/feed-token"), status: 404)
        }
    }

    @Test func anInactiveEmployeesFeedStopsAndTheirRemindersAreSkipped() async throws {
        try await CalendarHarness.run { h in
            let olga = try await h.seedEmployee(name: "Olga")
            let event = EventFixture(responsible: olga, from: at(30), to: at(40))
            try await h.apply(event)
            let path = try #require(Self.path(of: try await h.request(.post, "/v1/calendars/\(olga)/feed-token")))
            #expect(try await h.request(.get, path, role: nil).status == 200)

            try await h.seedEmployee(id: olga, name: "Olga", active: false, version: 2)
            expectProblem(try await h.request(.get, path, role: nil), status: 404)
            expectProblem(try await h.request(.post, "/v1/calendars/\(olga)/feed-token"), status: 409)
            // The calendar itself stays readable.
            #expect(try await entries(h, olga, from: at(0), to: at(60)).ids == [event.id])
            // Her reminder falls due but is not sent.
            h.clock.set(at(20))
            let skipped = try await eventually(timeout: .seconds(20)) { try await h.reminderRows(event.id).map(\.status) == ["skipped"] }
            #expect(skipped)
            _ = try await settledTopic(h, "crm.calendar.reminders.v1", total: 0)
        }
    }

    @Test func theFeedIsRateLimitedPerToken() async throws {
        try await CalendarHarness.run(environment: ["CRM_FEED_RATE_LIMIT": "3"]) { h in
            let olga = try await h.seedEmployee(name: "Olga")
            let path = try #require(Self.path(of: try await h.request(.post, "/v1/calendars/\(olga)/feed-token")))
            for _ in 0..<3 { #expect(try await h.request(.get, path, role: nil).status == 200) }
            let limited = try await h.request(.get, path, role: nil)
            #expect(limited.status == 429, "\(limited.text)")
            #expect(limited.headers[HTTPField.Name("Retry-After")!].flatMap(Int.init) ?? 0 >= 1)
            // Another token has its own budget.
            let other = try await h.seedEmployee(name: "Sergey")
            let otherPath = try #require(Self.path(of: try await h.request(.post, "/v1/calendars/\(other)/feed-token")))
            #expect(try await h.request(.get, otherPath, role: nil).status == 200)
        }
    }
}
