import Contracts
import Foundation

/// CSV forms of the reports (RFC 4180: comma-separated, CRLF line ends, fields quoted when they
/// hold a comma, quote or line break): a header row, then one row per item or segment.
enum CSV {
    static let states = ["planned", "completed", "cancelled"]
    static let channels = ["phone-call", "email", "meeting", "message", "other"]

    static func projects(_ items: [JSONValue]) -> String {
        var rows = [["projectId", "name", "total", "planned", "completed", "cancelled", "completionRate"]]
        for item in items {
            let events = item["events"]
            rows.append([
                text(item["projectId"]), text(item["name"]), text(events?["total"]), text(events?["planned"]),
                text(events?["completed"]), text(events?["cancelled"]), text(item["completionRate"]),
            ])
        }
        return render(rows)
    }

    /// One row per figure of the project report: `section,key,name,value`, e.g.
    /// `byState,completed,,3`, `byResponsible,<employee id>,<name>,5`, `attribute.score,avg,,4.5`,
    /// `attribute.answer,distribution,Satisfied,2`, `timeline,2026-12-01,,4`.
    static func project(_ report: [String: JSONValue]) -> String {
        var rows = [["section", "key", "name", "value"]]
        let project = text(report["projectId"])
        let events = report["events"]
        rows.append(["project", project, text(report["name"]), text(events?["total"])])
        rows.append(["completionRate", "", "", text(report["completionRate"])])
        for state in states { rows.append(["byState", state, "", text(events?["byState"]?[state])]) }
        for channel in channels { rows.append(["byChannel", channel, "", text(events?["byChannel"]?[channel])]) }
        for responsible in events?["byResponsible"]?.arrayValue ?? [] {
            rows.append(["byResponsible", text(responsible["employeeId"]), text(responsible["name"]), text(responsible["total"])])
            rows.append(["byResponsibleCompleted", text(responsible["employeeId"]), text(responsible["name"]), text(responsible["completed"])])
        }
        for (key, figures) in (report["attributes"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            let section = "attribute.\(key)"
            rows.append([section, "type", "", text(figures["type"])])
            rows.append([section, "count", "", text(figures["count"])])
            for member in ["avg", "min", "max"] where figures[member].map({ !$0.isNull }) ?? false {
                rows.append([section, member, "", text(figures[member])])
            }
            for (value, count) in (figures["distribution"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                rows.append([section, "distribution", value, text(count)])
            }
        }
        for day in report["timeline"]?.arrayValue ?? [] {
            rows.append(["timeline", text(day["date"]), "", text(day["completed"])])
        }
        return render(rows)
    }

    static let figureHeader = ["eventsTotal"] + states + channels
        + ["lastEventAt", "customerOrders", "customerTotals", "supplierOrders", "supplierTotals"]

    static func segments(_ segments: [JSONValue]) -> String {
        var rows = [["value", "counterparties"] + figureHeader]
        for segment in segments {
            rows.append([text(segment["value"], null: "null"), text(segment["counterparties"])] + figures(segment))
        }
        return render(rows)
    }

    static func members(_ items: [JSONValue]) -> String {
        var rows = [["counterpartyId", "name"] + figureHeader]
        for item in items {
            rows.append([text(item["counterpartyId"]), text(item["name"])] + figures(item))
        }
        return render(rows)
    }

    static func differences(_ items: [JSONValue]) -> String {
        var rows = [["aggregate", "key", "expected", "actual"]]
        for item in items {
            rows.append([text(item["aggregate"]), text(item["key"]), compact(item["expected"]), compact(item["actual"])])
        }
        return render(rows)
    }

    private static func figures(_ item: JSONValue) -> [String] {
        let events = item["events"]
        return [text(events?["total"])]
            + states.map { text(events?["byState"]?[$0]) }
            + channels.map { text(events?["byChannel"]?[$0]) }
            + [text(item["lastEventAt"]),
               text(item["customerOrders"]?["count"]), totals(item["customerOrders"]?["totals"]),
               text(item["supplierOrders"]?["count"]), totals(item["supplierOrders"]?["totals"])]
    }

    /// `RUB 1250.00; USD 10.00` — one sum per currency, never mixed.
    private static func totals(_ value: JSONValue?) -> String {
        (value?.objectValue ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key) \(text($0.value))" }.joined(separator: "; ")
    }

    private static func compact(_ value: JSONValue?) -> String {
        guard let value, let data = try? CRMJSON.makeEncoder().encode(value) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    static func text(_ value: JSONValue?, null: String = "") -> String {
        switch value {
        case .none, .null?: return null
        case .string(let text)?: return text
        case .bool(let flag)?: return flag ? "true" : "false"
        case .number(let number)?:
            if number.rounded() == number, abs(number) < 9.0e15 { return String(Int64(number)) }
            return String(number)
        case let other?: return compact(other)
        }
    }

    static func render(_ rows: [[String]]) -> String {
        rows.map { $0.map(field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    private static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension JSONValue {
    subscript(_ key: String) -> JSONValue? { objectValue?[key] }
}
