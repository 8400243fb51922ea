import Foundation

/// Writes RFC 5545 iCalendar text: content lines end in CRLF, are folded at 75 octets (a
/// continuation starts with one space) without splitting a UTF-8 character, and TEXT values
/// are escaped (`\\`, `\;`, `\,`, `\n`).
struct ICalendarWriter {
    private(set) var text = ""

    /// Appends `NAME:value` (or `NAME;params:value`), value already in its final form.
    mutating func line(_ name: String, _ value: String) {
        text += Self.fold(name + ":" + value)
    }

    /// Appends a property with a TEXT value, escaping it.
    mutating func textLine(_ name: String, _ value: String) {
        line(name, Self.escape(value))
    }

    /// TEXT escaping (RFC 5545 §3.3.11): backslash, semicolon, comma, and newlines (CRLF, CR and
    /// LF all become `\n`). Other control characters are not allowed in TEXT and are dropped.
    static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        var previousWasCR = false
        for scalar in value.unicodeScalars {
            defer { previousWasCR = scalar == "\r" }
            switch scalar {
            case "\\": out += "\\\\"
            case ";": out += "\\;"
            case ",": out += "\\,"
            case "\r": out += "\\n"
            case "\n": if !previousWasCR { out += "\\n" }
            case "\t": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F { continue }
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// One content line folded into lines of at most 75 octets (CRLF excluded), each
    /// continuation starting with a space, splitting only between Unicode scalars.
    static func fold(_ line: String) -> String {
        let limit = 75
        var result = ""
        var current = ""
        var currentOctets = 0
        var first = true
        for scalar in line.unicodeScalars {
            let octets = String(scalar).utf8.count
            let room = first ? limit : limit - 1
            if currentOctets + octets > room {
                result += (first ? "" : " ") + current + "\r\n"
                first = false
                current = ""
                currentOctets = 0
            }
            current.unicodeScalars.append(scalar)
            currentOctets += octets
        }
        result += (first ? "" : " ") + current + "\r\n"
        return result
    }

    /// `20261201T070000Z`: a DATE-TIME in UTC (whole seconds).
    static func utc(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(days)
        func pad(_ value: Int64, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(year, 4) + pad(month, 2) + pad(day, 2) + "T" + pad(secondOfDay / 3600, 2) + pad(secondOfDay / 60 % 60, 2)
            + pad(secondOfDay % 60, 2) + "Z"
    }

    /// `PT15M`-style DURATION of whole seconds.
    static func duration(_ seconds: TimeInterval) -> String {
        var rest = Int(seconds.rounded())
        var out = "P"
        let days = rest / 86_400
        rest %= 86_400
        if days > 0 { out += "\(days)D" }
        if rest > 0 || days == 0 {
            out += "T"
            let hours = rest / 3600, minutes = rest / 60 % 60, secs = rest % 60
            if hours > 0 { out += "\(hours)H" }
            if minutes > 0 { out += "\(minutes)M" }
            if secs > 0 || (hours == 0 && minutes == 0) { out += "\(secs)S" }
        }
        return out
    }

    /// Days since 1970-01-01 → proleptic Gregorian (year, month, day).
    private static func civil(_ days: Int64) -> (Int64, Int64, Int64) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// The subscription feed of one employee's calendar.
struct CalendarFeed {
    var employeeName: String
    var timeZone: String
    var refreshInterval: TimeInterval
    var entries: [EntryRow]
    /// DTSTAMP of entries whose event carried no `updatedAt`.
    var generatedAt: Date

    static let productId = "-//CRM Platform//crm-calendar 1.0//EN"

    func render() -> String {
        var writer = ICalendarWriter()
        writer.line("BEGIN", "VCALENDAR")
        writer.line("VERSION", "2.0")
        writer.line("PRODID", Self.productId)
        writer.line("CALSCALE", "GREGORIAN")
        writer.line("METHOD", "PUBLISH")
        writer.textLine("X-WR-CALNAME", employeeName.isEmpty ? "Work calendar" : "\(employeeName) — work calendar")
        writer.textLine("X-WR-TIMEZONE", timeZone)
        writer.line("REFRESH-INTERVAL;VALUE=DURATION", ICalendarWriter.duration(refreshInterval))
        writer.line("X-PUBLISHED-TTL", ICalendarWriter.duration(refreshInterval))
        for entry in entries {
            writer.line("BEGIN", "VEVENT")
            writer.line("UID", "\(entry.eventId.lowercasedText)@crm-calendar")
            writer.line("DTSTAMP", ICalendarWriter.utc(entry.eventUpdatedAt ?? generatedAt))
            if let updated = entry.eventUpdatedAt { writer.line("LAST-MODIFIED", ICalendarWriter.utc(updated)) }
            writer.line("DTSTART", ICalendarWriter.utc(entry.startsAt))
            // RFC 5545 wants DTEND later than DTSTART; an instant entry simply has none.
            if entry.endsAt > entry.startsAt { writer.line("DTEND", ICalendarWriter.utc(entry.endsAt)) }
            writer.line("SEQUENCE", String(entry.version))
            writer.textLine("SUMMARY", entry.subject)
            writer.textLine("DESCRIPTION", description(of: entry))
            writer.line("STATUS", entry.state == "cancelled" ? "CANCELLED" : "CONFIRMED")
            writer.line("TRANSP", entry.state == "cancelled" ? "TRANSPARENT" : "OPAQUE")
            writer.line("END", "VEVENT")
        }
        writer.line("END", "VCALENDAR")
        return writer.text
    }

    /// Counterparty, channel, direction and state, then the event's content.
    private func description(of entry: EntryRow) -> String {
        var lines: [String] = [entry.number]
        if let name = entry.counterpartyName, !name.isEmpty { lines.append("Counterparty: \(name)") }
        lines.append("Channel: \(entry.channel)")
        lines.append("Direction: \(entry.direction)")
        lines.append("State: \(entry.state)")
        if let content = entry.content, !content.isEmpty {
            lines.append("")
            lines.append(content)
        }
        return lines.joined(separator: "\n")
    }
}
