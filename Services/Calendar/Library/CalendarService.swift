import Contracts
import Foundation
import Messaging
import Postgres
import ServiceKit
import ServiceLifecycle

/// crm-calendar: each employee's work calendar built from `crm.events.v1`, reminders, and an
/// iCalendar subscription feed.
public enum CalendarService {
    public static let name = "crm-calendar"
    public static let schema = "calendar"
    public static let defaultHTTPPort = 8084
    /// The feed is served without a bearer token; its own token authenticates it.
    public static let publicPaths = ["/v1/calendars/*/feed.ics"]

    public static func migrations() throws -> [Migration] {
        guard let directory = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw MigrationsMissing()
        }
        return try Migration.load(from: directory)
    }

    /// Prepares the host and builds the application: the projection consumer
    /// (`crm.events.v1`, `crm.employees.v1`, `crm.counterparties.v1`) and the reminder scheduler
    /// run as background services next to the outbox relay.
    ///
    /// - Parameter now: the clock of overdue checks, reminders and the feed; tests inject one.
    public static func makeApplication(
        environment: [String: String] = ProcessInfo.processInfo.environment, schema: String = schema,
        backgroundServices: Bool = true, now: @escaping @Sendable () -> Date = { Date() }
    ) async throws -> (CRMApplication, ServiceHost) {
        // Read our own variables first, so a bad value fails before anything connects.
        let settings = try CalendarSettings(environment: environment)
        let host = try await ServiceHost.prepare(
            serviceName: name, schema: schema, defaultHTTPPort: defaultHTTPPort, migrations: try migrations(),
            environment: environment)
        var consumers: [ConsumerRuntime] = []
        var work: [any Service] = []
        var health: [ComponentHealth] = []
        if backgroundServices {
            let projection = try host.consumer(
                group: "\(name).projection", topics: CalendarProjectionHandler.topics,
                handler: CalendarProjectionHandler(outbox: host.outbox, reminderLead: settings.reminderLead, now: now))
            consumers.append(projection)
            let scheduler = ReminderScheduler(
                pool: host.pool, outbox: host.outbox, lead: settings.reminderLead, pollInterval: settings.reminderPollInterval,
                now: now, logger: host.logger, projectionCaughtUp: projection.caughtUp)
            work.append(scheduler)
            health.append(scheduler.health)
        }
        let routes = CalendarRoutes(
            pool: host.pool, store: CalendarStore(), settings: settings, defaultPort: host.configuration.httpPort,
            limiter: FeedRateLimiter(requestsPerMinute: settings.feedRateLimit), now: now)
        let application = try await host.application(
            consumers: consumers, publicPaths: publicPaths, extraServices: work, extraHealth: health,
            backgroundServices: backgroundServices, openAPI: try OpenAPIDocument(resourceIn: .module)
        ) { router in
            routes.register(on: router)
        }
        return (application, host)
    }

    struct MigrationsMissing: Error, CustomStringConvertible {
        var description: String { "the crm-calendar migrations are missing from the bundle" }
    }
}

/// The variables of crm-calendar (besides the shared ones of `ServiceConfiguration`):
/// - `CRM_REMINDER_LEAD`: how long before an entry's start its reminder is due (default 15m).
/// - `CRM_REMINDER_POLL_INTERVAL`: how often the scheduler looks for due reminders (default 1s).
/// - `CRM_FEED_PAST_DAYS` / `CRM_FEED_FUTURE_DAYS`: the feed's window (default 30 / 180 days).
/// - `CRM_FEED_REFRESH_INTERVAL`: `REFRESH-INTERVAL`/`X-PUBLISHED-TTL` of the feed (default 15m).
/// - `CRM_FEED_RATE_LIMIT`: feed requests per token and minute (default 60).
/// - `CRM_CALENDAR_PUBLIC_URL`: the base URL in feed links (default: from the request's `Host`).
/// Durations are seconds or a number with `s`, `m`, `h` or `d` (`90s`, `15m`, `1h`).
public struct CalendarSettings: Sendable {
    public var reminderLead: TimeInterval = 15 * 60
    public var reminderPollInterval: TimeInterval = 1
    public var feedPastDays = 30
    public var feedFutureDays = 180
    public var feedRefreshInterval: TimeInterval = 15 * 60
    public var feedRateLimit = 60
    public var publicURL: String?

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    public init(environment: [String: String]) throws {
        func value(_ name: String) -> String? {
            guard let text = environment[name]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
            return text
        }
        func duration(_ name: String, allowZero: Bool = false, max: TimeInterval) throws -> TimeInterval? {
            guard let text = value(name) else { return nil }
            guard let seconds = Self.parseDuration(text), seconds >= 0, allowZero || seconds > 0, seconds <= max else {
                throw Invalid(description: "\(name) must be a duration such as 900, 15m or 1h (at most \(Int(max)) s), not '\(text)'")
            }
            return seconds
        }
        func integer(_ name: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let text = value(name) else { return nil }
            guard let number = Int(text), range.contains(number) else {
                throw Invalid(description: "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
            }
            return number
        }
        // A reminder fires only while its entry has not started, so the lead must be positive (and
        // should exceed the poll interval, or reminders are picked up after the start: missed).
        if let lead = try duration("CRM_REMINDER_LEAD", max: 7 * 86_400) { reminderLead = lead }
        if let poll = try duration("CRM_REMINDER_POLL_INTERVAL", max: 3600) { reminderPollInterval = poll }
        guard reminderPollInterval < reminderLead else {
            throw Invalid(description: "CRM_REMINDER_POLL_INTERVAL must be shorter than CRM_REMINDER_LEAD, or every reminder would be found only after its start")
        }
        if let days = try integer("CRM_FEED_PAST_DAYS", 0...3660) { feedPastDays = days }
        if let days = try integer("CRM_FEED_FUTURE_DAYS", 1...3660) { feedFutureDays = days }
        if let refresh = try duration("CRM_FEED_REFRESH_INTERVAL", max: 7 * 86_400) {
            guard refresh >= 60 else { throw Invalid(description: "CRM_FEED_REFRESH_INTERVAL must be at least one minute") }
            feedRefreshInterval = refresh
        }
        if let limit = try integer("CRM_FEED_RATE_LIMIT", 1...100_000) { feedRateLimit = limit }
        if let url = value("CRM_CALENDAR_PUBLIC_URL") {
            guard let parsed = URL(string: url), let scheme = parsed.scheme, ["http", "https"].contains(scheme), parsed.host != nil else {
                throw Invalid(description: "CRM_CALENDAR_PUBLIC_URL must be an http(s) URL such as https://crm.example.com/calendar, not '\(url)'")
            }
            publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
        }
    }

    /// `900`, `90s`, `15m`, `1h`, `2d` → seconds.
    static func parseDuration(_ text: String) -> TimeInterval? {
        let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        let unit = text.last.flatMap { units[$0] }
        guard let amount = Double(unit == nil ? text : String(text.dropLast())), amount.isFinite else { return nil }
        return amount * (unit ?? 1)
    }
}
