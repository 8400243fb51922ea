import Contracts
import Foundation
import HTTPTypes
import Hummingbird
import Postgres
import ServiceKit

/// The HTTP API of crm-calendar (API.md, section crm-calendar).
///
/// Reading a calendar: admins and viewers any, managers their own (the token's `sub` is their
/// employee id); integrations none. Feed tokens: admins any, managers their own. The feed itself
/// needs only its token.
struct CalendarRoutes: Sendable {
    static let readers: Set<Role> = [.admin, .manager, .viewer]
    static let tokenIssuers: Set<Role> = [.admin, .manager]

    let pool: PostgresPool
    let store: CalendarStore
    let settings: CalendarSettings
    let defaultPort: Int
    let limiter: FeedRateLimiter
    let now: @Sendable () -> Date

    func register(on router: Router<CRMRequestContext>) {
        let calendars = router.group("v1/calendars")

        calendars.get(":employeeId/entries") { request, context in
            let employee = try Self.readable(context)
            let parameters = Self.parameters(request)
            var errors: [FieldError] = []
            let includeCancelled = Self.flag(parameters, "includeCancelled", errors: &errors)
            let range = try Self.range(parameters, errors: errors)
            let at = now()
            return try await pool.withTransaction { transaction in
                let info = try await store.employee(employee, in: transaction)
                let rows = try await store.entries(
                    of: employee, from: range.from, to: range.to,
                    states: includeCancelled ? ["planned", "completed", "cancelled"] : ["planned", "completed"],
                    limit: CalendarStore.maxEntries, in: transaction)
                try Self.refuseIfTooMany(rows)
                return EntriesResponse(
                    employeeId: employee.lowercasedText, timeZone: info.timeZone,
                    entries: rows.map { CalendarEntry($0, now: at) })
            }
        }

        calendars.get(":employeeId/overdue") { _, context in
            let employee = try Self.readable(context)
            let at = now()
            return try await pool.withTransaction { transaction in
                _ = try await store.employee(employee, in: transaction)
                let rows = try await store.overdue(of: employee, now: at, in: transaction)
                return OverdueResponse(employeeId: employee.lowercasedText, entries: rows.map { CalendarEntry($0, now: at) })
            }
        }

        calendars.get(":employeeId/conflicts") { request, context in
            let employee = try Self.readable(context)
            let range = try Self.range(Self.parameters(request), errors: [])
            return try await pool.withTransaction { transaction in
                _ = try await store.employee(employee, in: transaction)
                let rows = try await store.entries(
                    of: employee, from: range.from, to: range.to, states: ["planned"], limit: CalendarStore.maxEntries,
                    in: transaction)
                try Self.refuseIfTooMany(rows)
                let items = rows.map { Intervals.Item(id: $0.eventId, start: $0.startsAt, end: $0.endsAt) }
                let found = Intervals.conflicts(items, limit: CalendarStore.maxEntries)
                if found.truncated {
                    throw Problem.unprocessable(errors: [FieldError(
                        field: "to", message: "the range holds more than \(CalendarStore.maxEntries) conflicts; choose a shorter range")])
                }
                return ConflictsResponse(
                    employeeId: employee.lowercasedText,
                    conflicts: found.conflicts.map {
                        .init(eventIds: [$0.first.lowercasedText, $0.second.lowercasedText], from: $0.from, to: $0.to)
                    })
            }
        }

        calendars.get(":employeeId/free-busy") { request, context in
            let employee = try Self.readable(context)
            let range = try Self.range(Self.parameters(request), errors: [])
            return try await pool.withTransaction { transaction in
                _ = try await store.employee(employee, in: transaction)
                let rows = try await store.entries(
                    of: employee, from: range.from, to: range.to, states: ["planned", "completed"],
                    limit: CalendarStore.maxEntries, in: transaction)
                try Self.refuseIfTooMany(rows)
                let busy = Intervals.busy(
                    rows.map { Intervals.Item(id: $0.eventId, start: $0.startsAt, end: $0.endsAt) }, from: range.from, to: range.to)
                return FreeBusyResponse(
                    employeeId: employee.lowercasedText, busy: busy.map { .init(start: $0.start, end: $0.end) })
            }
        }

        calendars.get(":employeeId/reminders") { request, context in
            let employee = try Self.readable(context)
            let range = try Self.range(Self.parameters(request), errors: [])
            return try await pool.withTransaction { transaction in
                _ = try await store.employee(employee, in: transaction)
                let reminders = try await store.reminders(of: employee, from: range.from, to: range.to, in: transaction)
                guard reminders.count <= CalendarStore.maxReminders else {
                    throw Problem.unprocessable(errors: [FieldError(
                        field: "to", message: "the range holds more than \(CalendarStore.maxReminders) reminders; choose a shorter range")])
                }
                return RemindersResponse(employeeId: employee.lowercasedText, reminders: reminders)
            }
        }

        calendars.post(":employeeId/feed-token") { request, context in
            let (employee, principal) = try Self.tokenOwner(context)
            let at = now()
            let token = try await pool.withTransaction { transaction in
                let info = try await store.employee(employee, in: transaction)
                guard info.active, !info.deleted else {
                    throw Problem.conflict("The employee is not active; their calendar cannot be subscribed to.")
                }
                // Serialise issuing per employee: the row lock is the employee's token row.
                return try await FeedTokens.issue(for: employee, by: principal.subject, at: at, in: transaction)
            }
            let url = "\(baseURL(request))/v1/calendars/\(employee.lowercasedText)/feed.ics?token=\(token)"
            var response = try Self.json(FeedTokenResponse(url: url), status: .created)
            response.headers[.cacheControl] = "no-store"
            return response
        }

        calendars.delete(":employeeId/feed-token") { _, context in
            let (employee, _) = try Self.tokenOwner(context)
            let revoked = try await pool.withTransaction { transaction in
                _ = try await store.employee(employee, in: transaction)
                return try await FeedTokens.revoke(for: employee, in: transaction)
            }
            guard revoked else { throw Problem.notFound("The employee has no feed token.") }
            return Response(status: .noContent)
        }

        // Public (see CalendarService.publicPaths): the token is the only credential, and every
        // failure is the same bare 404, so the feed tells nothing about ids or tokens.
        calendars.get(":employeeId/feed.ics") { request, context in
            guard let text = context.parameters.get("employeeId"), let employee = UUID(uuidString: text),
                let token = request.uri.queryParameters.get("token"), FeedTokens.isWellFormed(token)
            else { throw Problem.notFound() }
            let at = now()
            let feed = try await pool.withTransaction { transaction -> CalendarFeed in
                guard try await FeedTokens.isValid(token, for: employee, in: transaction) else { throw Problem.notFound() }
                // Only valid tokens get a bucket, so junk tokens cannot grow the limiter's state.
                if let retryAfter = await limiter.take(FeedTokens.hash(token)) {
                    throw Problem(
                        status: .tooManyRequests, detail: "Too many feed requests; try again later.",
                        headers: [.retryAfter: String(retryAfter)])
                }
                let info = try await store.employee(employee, in: transaction)
                guard info.active, !info.deleted else { throw Problem.notFound() }
                let rows = try await store.entries(
                    of: employee, from: at.addingTimeInterval(-Double(settings.feedPastDays) * 86_400),
                    to: at.addingTimeInterval(Double(settings.feedFutureDays) * 86_400),
                    states: ["planned", "completed", "cancelled"], limit: CalendarStore.maxEntries, in: transaction)
                return CalendarFeed(
                    employeeName: info.name ?? "", timeZone: info.timeZone, refreshInterval: settings.feedRefreshInterval,
                    entries: Array(rows.prefix(CalendarStore.maxEntries)), generatedAt: at)
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/calendar; charset=utf-8"
            headers[.contentDisposition] = #"inline; filename="calendar.ics""#
            headers[.cacheControl] = "private, max-age=\(Int(settings.feedRefreshInterval))"
            // Subscribers poll: an unchanged feed answers 304 to a matching If-None-Match.
            let body = feed.render()
            let tag = CalendarFeed.entityTag(of: body)
            headers[.eTag] = tag
            if let wanted = request.headers[.ifNoneMatch],
                wanted == "*" || wanted.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == tag }) {
                headers[.contentType] = nil
                return Response(status: .notModified, headers: headers)
            }
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
        }
    }

    // MARK: - Helpers

    /// The employee of the path, if the caller may read their calendar.
    private static func readable(_ context: CRMRequestContext) throws -> UUID {
        let principal = try context.require(anyOf: readers)
        let employee = try employeeId(context)
        if principal.isAdmin || principal.has(.viewer) { return employee }
        guard principal.subject.lowercased() == employee.lowercasedText else {
            throw Problem.forbidden("Managers may read only their own calendar.")
        }
        return employee
    }

    /// The employee of the path, if the caller may issue or revoke their feed token.
    private static func tokenOwner(_ context: CRMRequestContext) throws -> (UUID, Principal) {
        let principal = try context.require(anyOf: tokenIssuers)
        let employee = try employeeId(context)
        if principal.isAdmin { return (employee, principal) }
        guard principal.subject.lowercased() == employee.lowercasedText else {
            throw Problem.forbidden("Managers may manage only their own calendar feed.")
        }
        return (employee, principal)
    }

    private static func employeeId(_ context: CRMRequestContext) throws -> UUID {
        guard let id = UUID(uuidString: try context.parameters.require("employeeId")) else {
            throw Problem.notFound("No employee with id \(try context.parameters.require("employeeId")).")
        }
        return id
    }

    private static func parameters(_ request: Request) -> [String: String] {
        var parameters: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { parameters[String(key)] = String(value) }
        return parameters
    }

    private static func flag(_ parameters: [String: String], _ name: String, errors: inout [FieldError]) -> Bool {
        switch parameters[name] {
        case nil, "", "false": return false
        case "true": return true
        default:
            errors.append(FieldError(field: name, message: "must be true or false"))
            return false
        }
    }

    /// The range, or one 422 listing its errors together with `errors` found before.
    private static func range(_ parameters: [String: String], errors: [FieldError]) throws -> TimeRange {
        let range: TimeRange
        do {
            range = try TimeRange(parameters)
        } catch let problem as Problem {
            throw Problem.unprocessable(errors: errors + problem.errors)
        }
        guard errors.isEmpty else { throw Problem.unprocessable(errors: errors) }
        return range
    }

    private static func refuseIfTooMany(_ rows: [EntryRow]) throws {
        guard rows.count > CalendarStore.maxEntries else { return }
        throw Problem.unprocessable(errors: [FieldError(
            field: "to", message: "the range holds more than \(CalendarStore.maxEntries) entries; choose a shorter range")])
    }

    /// `CRM_CALENDAR_PUBLIC_URL`, else `http://<Host>` of the request (when it is a plain host
    /// name or address with an optional port), else this instance's local address.
    private func baseURL(_ request: Request) -> String {
        if let url = settings.publicURL { return url }
        if let host = request.head.authority, !host.isEmpty, host.utf8.count <= 255,
            host.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || ".-:[]".unicodeScalars.contains($0) }),
            host.unicodeScalars.allSatisfy(\.isASCII) {
            return "http://\(host)"
        }
        return "http://127.0.0.1:\(defaultPort)"
    }

    private static func json(_ value: some Encodable, status: HTTPResponse.Status) throws -> Response {
        let body = try CRMJSON.makeEncoder().encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

// MARK: - Response bodies

struct EntriesResponse: ResponseEncodable, Sendable {
    var employeeId: String
    var timeZone: String
    var entries: [CalendarEntry]
}

struct OverdueResponse: ResponseEncodable, Sendable {
    var employeeId: String
    var entries: [CalendarEntry]
}

struct ConflictsResponse: ResponseEncodable, Sendable {
    struct Conflict: Encodable, Sendable {
        var eventIds: [String]
        var from: Date
        var to: Date
    }

    var employeeId: String
    var conflicts: [Conflict]
}

struct FreeBusyResponse: ResponseEncodable, Sendable {
    struct Interval: Encodable, Sendable {
        var start: Date
        var end: Date
    }

    var employeeId: String
    var busy: [Interval]
}

struct RemindersResponse: ResponseEncodable, Sendable {
    var employeeId: String
    var reminders: [CalendarStore.Reminder]
}

struct FeedTokenResponse: Encodable, Sendable {
    var url: String
}
