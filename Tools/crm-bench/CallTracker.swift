import Foundation
import Histogram

/// When each call was published and when its event, calendar entry and report update were first
/// seen, with one HdrHistogram (microseconds) per hop. Calls are numbered in publish order.
actor CallTracker {
    enum Hop: CaseIterable, Sendable {
        case event, calendar, report

        var label: String {
            switch self {
            case .event: "publish → event committed"
            case .calendar: "publish → calendar entry"
            case .report: "publish → report update"
            }
        }

        var shortName: String {
            switch self {
            case .event: "events"
            case .calendar: "calendar entries"
            case .report: "report updates"
            }
        }
    }

    private let total: Int
    private var publishedAt: [ContinuousClock.Instant?]
    private(set) var published = 0
    private var eventIDs: [UUID?]
    private var seen: [Hop: [Bool]] = [:]
    private var counts: [Hop: Int] = [:]
    /// Below this call number every call has been seen at that hop.
    private var lowestPending: [Hop: Int] = [:]
    private var histograms: [Hop: Histogram<UInt64>] = [:]
    private(set) var firstPublish: ContinuousClock.Instant?
    private(set) var lastSeen: [Hop: ContinuousClock.Instant] = [:]

    init(calls: Int) {
        total = calls
        publishedAt = Array(repeating: nil, count: calls)
        eventIDs = Array(repeating: nil, count: calls)
        for hop in Hop.allCases {
            seen[hop] = Array(repeating: false, count: calls)
            counts[hop] = 0
            lowestPending[hop] = 0
            // Up to one hour, three significant digits.
            histograms[hop] = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        }
    }

    func didPublish(_ calls: Range<Int>, at instant: ContinuousClock.Instant) {
        if firstPublish == nil { firstPublish = instant }
        for call in calls { publishedAt[call] = instant }
        published = max(published, calls.upperBound)
    }

    /// Up to `limit` published calls not seen at `hop` yet, oldest first; for the later hops only
    /// calls whose event is known (their ids are what those services key by).
    func pending(_ hop: Hop, limit: Int) -> [(call: Int, eventID: UUID?)] {
        var result: [(Int, UUID?)] = []
        var call = lowestPending[hop]!
        let flags = seen[hop]!
        while call < published && result.count < limit {
            if !flags[call] {
                if hop == .event {
                    result.append((call, nil))
                } else if let id = eventIDs[call] {
                    result.append((call, id))
                }
            }
            call += 1
        }
        return result
    }

    /// The wall clock at one instant of the continuous clock, to place PostgreSQL's commit
    /// timestamps (wall clock, same machine) on the clock the publish times are kept in.
    private let origin = (instant: ContinuousClock.now, epoch: Date().timeIntervalSince1970)

    /// Calls seen at `hop` by a query at `instant`. `committedAt` (seconds since 1970, one per
    /// call, nil where unknown) is when the row's transaction committed, from
    /// `pg_xact_commit_timestamp`: then the latency is exact rather than bounded by when the
    /// query happened to look.
    func didSee(
        _ hop: Hop, calls: [Int], eventIDs ids: [UUID]? = nil, committedAt: [Double?]? = nil, at instant: ContinuousClock.Instant
    ) {
        for (position, call) in calls.enumerated() where !seen[hop]![call] {
            seen[hop]![call] = true
            counts[hop]! += 1
            if let ids { eventIDs[call] = ids[position] }
            var when = instant
            if let epoch = committedAt?[position] {
                when = min(instant, origin.instant + .microseconds(Int64((epoch - origin.epoch) * 1_000_000)))
                exactCounts[hop, default: 0] += 1
            }
            if let sent = publishedAt[call] {
                let micros = max(0, (when - sent).inSeconds * 1_000_000)
                histograms[hop]!.record(UInt64(micros))
            }
            lastSeen[hop] = max(lastSeen[hop] ?? when, when)
        }
        var low = lowestPending[hop]!
        while low < total && seen[hop]![low] { low += 1 }
        lowestPending[hop] = low
    }

    /// Calls whose latency at a hop came from a commit timestamp.
    private var exactCounts: [Hop: Int] = [:]

    /// True when every latency recorded at `hop` is exact (commit timestamps were available).
    func isExact(_ hop: Hop) -> Bool { counts[hop]! > 0 && exactCounts[hop, default: 0] == counts[hop]! }

    func isComplete(_ hop: Hop) -> Bool { counts[hop]! == total }

    func count(_ hop: Hop) -> Int { counts[hop] ?? 0 }

    private(set) var acknowledged: ContinuousClock.Instant?

    /// How many pending calls the next detection query asks about, per hop: 1,000 (a bounded
    /// statement, enough for any paced rate), doubling up to 20,000 while a burst is caught up
    /// with (a query finding more than half of what it asked about), so the count seen keeps up
    /// with the commits although the watcher looks seldom.
    private var windows: [Hop: Int] = [:]

    func detectionWindow(_ hop: Hop) -> Int { windows[hop] ?? 1_000 }

    func didFind(_ found: Int, at hop: Hop) {
        windows[hop] = min(20_000, max(1_000, found * 2))
    }

    /// The longest a commit could have waited to be seen: what each latency may overstate.
    private(set) var widestDetectionGap = Duration.milliseconds(50)

    func didDetect(every gap: Duration) { widestDetectionGap = max(widestDetectionGap, gap) }

    func didAcknowledge(at instant: ContinuousClock.Instant) { acknowledged = instant }

    /// Publish → the broker's acknowledgement, per call: the part of every latency spent before
    /// any service could see the call (on the dev broker, the mock cluster).
    private var acknowledgements = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)

    func didAcknowledge(_ calls: Range<Int>, at instant: ContinuousClock.Instant) {
        for call in calls {
            guard let sent = publishedAt[call] else { continue }
            acknowledgements.record(UInt64(max(0, (instant - sent).inSeconds * 1_000_000)))
        }
    }

    var acknowledgementSummary: LatencySummary { LatencySummary(acknowledgements, count: Int(acknowledgements.totalCount)) }

    /// From the first publish until the broker acknowledged the last call.
    var publishSeconds: Double? {
        guard let firstPublish, let acknowledged else { return nil }
        return (acknowledged - firstPublish).inSeconds
    }

    /// From the first publish until the last call committed at `hop` (or was seen, where the
    /// commit time is unknown); nil unless all were.
    func seconds(until hop: Hop) -> Double? {
        guard isComplete(hop), let firstPublish, let last = lastSeen[hop] else { return nil }
        return (last - firstPublish).inSeconds
    }

    func summary(_ hop: Hop) -> LatencySummary { LatencySummary(histograms[hop]!, count: counts[hop]!) }
}

struct LatencySummary: Sendable {
    var count: Int
    var p50: Double
    var p95: Double
    var p99: Double
    var max: Double

    /// Percentiles in milliseconds of a histogram kept in microseconds.
    init(_ histogram: Histogram<UInt64>, count: Int) {
        func milliseconds(_ percentile: Double) -> Double { Double(histogram.valueAtPercentile(percentile)) / 1000 }
        self.count = count
        p50 = milliseconds(50)
        p95 = milliseconds(95)
        p99 = milliseconds(99)
        max = Double(histogram.maxRecorded) / 1000
    }
}
