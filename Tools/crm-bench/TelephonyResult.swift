import Foundation

/// The figures of one telephony run, printed as the report.
struct TelephonyResult {
    var calls: Int
    var publishFailures: Int
    var hops: [CallTracker.Hop]
    var summaries: [CallTracker.Hop: LatencySummary]
    /// Publish → the broker's acknowledgement.
    var acknowledgements: LatencySummary
    var publishSeconds: Double?
    /// First publish until the last event committed; nil when not every event arrived.
    var ingestSeconds: Double?
    var memory: [(service: String, peakMegabytes: Double, lastMegabytes: Double)]
    /// Cores used from the first publish until the watcher finished.
    var cpu: CPUUse
    /// The longest interval between two looks at the database (an event is seen at most this late).
    var detectionGap: Duration
    /// Every latency came from a commit timestamp (`track_commit_timestamp`), not from when the
    /// watcher looked.
    var exact: Bool
    var timedOut: Bool

    /// Every call was published and seen at every hop before the deadline.
    var isComplete: Bool {
        !timedOut && publishFailures == 0 && hops.allSatisfy { (summaries[$0]?.count ?? 0) >= calls }
    }

    var callsPerSecond: Double? { ingestSeconds.map { Double(calls) / max($0, 0.001) } }

    /// One latency row: the label in a 27-character column, then the percentiles.
    private static func latencyLine(_ label: String, _ summary: LatencySummary) -> String {
        "  " + label.padding(toLength: 27, withPad: " ", startingAt: 0)
            + String(format: " p50 %7.1f ms  p95 %7.1f ms  p99 %7.1f ms  max %7.1f ms", summary.p50, summary.p95, summary.p99, summary.max)
    }

    func print(rate: Double?) {
        if let publishSeconds {
            Swift.print(String(format: "  published %d calls, acknowledged by the broker within %.2f s (%.0f calls/s)%@", calls, publishSeconds,
                               Double(calls) / max(publishSeconds, 0.001),
                               publishFailures > 0 ? ", \(publishFailures) refused by the broker" : ""))
        }
        if let callsPerSecond, let ingestSeconds {
            Swift.print(String(format: "  ingest: %.0f calls/s until the last event committed (%.1f s after the first publish)",
                               callsPerSecond, ingestSeconds))
        }
        Swift.print(Self.latencyLine("publish → broker ack", acknowledgements) + "  (before any service sees the call)")
        for hop in hops {
            guard let summary = summaries[hop] else { continue }
            let missing = summary.count < calls ? " — only \(summary.count) of \(calls) seen" : ""
            Swift.print(Self.latencyLine(hop.label, summary) + missing)
        }
        let precision = exact
            ? "from commit timestamps: exact"
            : String(format: "each is an upper bound within %.0f ms", detectionGap.inSeconds * 1000)
        Swift.print(rate == nil ? "  (a burst: latencies are mostly queueing; \(precision))" : "  (\(precision))")
        if timedOut { Swift.print("  timed out waiting for the pipeline: the figures cover what arrived") }
        if memory.isEmpty {
            Swift.print("  RSS: no service pids found (run against deploy/local/up, or pass --state-directory)")
        } else {
            Swift.print("  RSS peak (end): " + memory.map { String(format: "%@ %.0f MB (%.0f)", $0.service, $0.peakMegabytes, $0.lastMegabytes) }
                .joined(separator: ", "))
        }
        if !cpu.processes.isEmpty {
            let machine = cpu.machine.map { String(format: "machine busy %.2f of %d", $0, ProcessInfo.processInfo.activeProcessorCount) } ?? ""
            let bench = cpu.benchSessions.map { String(format: " (the bench's own sessions %.2f)", $0) } ?? ""
            Swift.print("  CPU from the first publish to the end, in cores: \(machine)")
            Swift.print("    " + cpu.processes.map { String(format: "%@ %.2f", $0.name, $0.cores) + ($0.name == "PostgreSQL" ? bench : "") }
                .joined(separator: ", "))
        }
    }
}

/// Resident memory of the stack's processes, from `/proc/<pid>/status`, with the pids
/// deploy/local/up records in `.crm/pids/<name>.pid`.
final class MemorySampler: @unchecked Sendable {
    // Sampled from the watcher task only; the lock keeps `peaks()` safe from elsewhere.
    private let lock = NSLock()
    let processes: [(name: String, pid: Int32)]
    private var peak: [String: Double] = [:]
    private var last: [String: Double] = [:]

    init(pidDirectory: String) {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: pidDirectory)) ?? []
        processes = files.filter { $0.hasSuffix(".pid") }.sorted().compactMap { file in
            let path = (pidDirectory as NSString).appendingPathComponent(file)
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                  let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                  Self.residentMegabytes(pid) != nil
            else { return nil }
            return (String(file.dropLast(".pid".count)), pid)
        }
    }

    func sample() {
        lock.withLock {
            for process in processes {
                guard let megabytes = Self.residentMegabytes(process.pid) else { continue }
                peak[process.name] = max(peak[process.name] ?? 0, megabytes)
                last[process.name] = megabytes
            }
        }
    }

    func peaks() -> [(service: String, peakMegabytes: Double, lastMegabytes: Double)] {
        lock.withLock {
            processes.compactMap { process in
                guard let peak = peak[process.name] else { return nil }
                return (process.name, peak, last[process.name] ?? peak)
            }
        }
    }

    /// `VmRSS` of a live process in MB; nil when it is gone.
    static func residentMegabytes(_ pid: Int32) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kilobytes = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first.flatMap { Double($0) }
            return kilobytes.map { $0 / 1024 }
        }
        return nil
    }
}

/// Set by the LISTEN task when a service committed something; taken by the watcher.
final class NotificationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var raised = false

    func set() { lock.withLock { raised = true } }

    /// Whether it was set since the last call.
    func take() -> Bool {
        lock.withLock {
            defer { raised = false }
            return raised
        }
    }
}
