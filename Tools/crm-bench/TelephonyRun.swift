import CalendarService
import Contracts
import Events
import Foundation
import Kafka
import Messaging
import Postgres
import Reporting

/// One measurement: publish the calls, watch the databases for what they caused, sample memory.
struct TelephonyRun {
    let calls: Int
    let rate: Double?
    let missedPercent: Int
    let settings: TelephonyBenchSettings
    let timeout: Duration
    /// Progress lines on standard error while the run goes (not for the warm-up).
    var progress = true
    /// Makes this run's call ids unique on a stack that keeps earlier runs' events.
    let runID = UUID().uuidString.prefix(8).lowercased()

    /// How long the later hops may stand still once every event committed.
    private static let stallLimit = Duration.seconds(20)

    func measure(people: BenchPeople) async throws -> TelephonyResult {
        let tracker = CallTracker(calls: calls)
        let pool = PostgresPool(.init(url: settings.databaseURL, maxConnections: 2, applicationName: "crm-bench"))
        let hops: [CallTracker.Hop]
        let commitTimes: Bool
        let backend: Int32
        do {
            hops = try await measuredHops(pool)
            let row = try await pool.query(
                "SELECT current_setting('track_commit_timestamp') = 'on' AS on, pg_backend_pid() AS pid")[0]
            commitTimes = try row.decode("on", as: Bool.self)
            backend = try row.decode("pid", as: Int32.self)
        } catch {
            await pool.close()
            throw error
        }
        let memory = MemorySampler(pidDirectory: settings.pidDirectory)
        let payloads = try callPayloads(people: people)
        // CRM_KAFKA_* pass through as for the services (TLS/SASL for a real cluster, `debug`).
        var kafka = KafkaConfiguration.fromEnvironment(ProcessInfo.processInfo.environment)
        kafka.properties["bootstrap.servers"] = settings.brokers
        let producer = try KafkaProducer(configuration: kafka)
        try await producer.prepare(topics: [Topic.telephonyCalls])
        let notified = NotificationFlag()
        let channels = [EventsService.schema, CalendarService.schema, ReportingService.schema].map { Outbox(schema: $0).channel }
        let listener = Task {
            for await _ in PostgresListener.listen(url: settings.databaseURL, channels: channels) { notified.set() }
        }
        let deadline = ContinuousClock.now + timeout
        let cpu = ProcessCPU(Self.cpuTracked(memory: memory, backend: backend))
        let watcher = Task {
            try await watch(hops, tracker: tracker, pool: pool, commitTimes: commitTimes, notified: notified, memory: memory, deadline: deadline)
        }
        let publishFailures: Int
        do {
            publishFailures = try await publish(payloads, producer: producer, tracker: tracker)
            try await watcher.value
        } catch {
            watcher.cancel()
            listener.cancel()
            await producer.close()
            await pool.close()
            throw error
        }
        let cpuUse = CPUUse(
            processes: cpu.coresSinceStart(), benchSessions: try? await Self.benchSessionCores(pool, over: cpu.elapsedSeconds),
            machine: cpu.machineCoresSinceStart())
        listener.cancel()
        await producer.close()
        await pool.close()
        var exact = true
        for hop in hops where await !tracker.isExact(hop) { exact = false }
        return TelephonyResult(
            calls: calls, publishFailures: publishFailures, hops: hops,
            summaries: await summaries(hops, tracker), acknowledgements: await tracker.acknowledgementSummary,
            publishSeconds: await tracker.publishSeconds,
            ingestSeconds: await tracker.seconds(until: .event),
            memory: memory.peaks(), cpu: cpuUse, detectionGap: await tracker.widestDetectionGap,
            exact: exact, timedOut: ContinuousClock.now >= deadline)
    }

    private func summaries(_ hops: [CallTracker.Hop], _ tracker: CallTracker) async -> [CallTracker.Hop: LatencySummary] {
        var summaries: [CallTracker.Hop: LatencySummary] = [:]
        for hop in hops { summaries[hop] = await tracker.summary(hop) }
        return summaries
    }

    /// The stack's processes (from the pid files), PostgreSQL (the postmaster of the bench's own
    /// session, when it runs on this machine) and the bench itself.
    private static func cpuTracked(memory: MemorySampler, backend: Int32) -> [ProcessCPU.Tracked] {
        var tracked = memory.processes.map { ProcessCPU.Tracked(name: $0.name, pid: $0.pid, withChildren: false) }
        if let postmaster = ProcessCPU.postmaster(ofBackend: backend) {
            tracked.append(.init(name: "PostgreSQL", pid: postmaster, withChildren: true))
        }
        tracked.append(.init(name: "crm-bench", pid: getpid(), withChildren: false))
        return tracked
    }

    /// Cores the bench's own database sessions (its watcher's lookups) used, on average, over
    /// the run: they live exactly as long as the run's pool.
    private static func benchSessionCores(_ pool: PostgresPool, over seconds: Double) async throws -> Double? {
        let rows = try await pool.query("SELECT pid FROM pg_stat_activity WHERE application_name = 'crm-bench'")
        let pids = try rows.map { try $0.decode("pid", as: Int32.self) }
        let used = pids.compactMap { ProcessCPU.cpuSeconds($0, includingReaped: false) }
        return used.isEmpty ? nil : used.reduce(0, +) / seconds
    }

    /// The event hop always; the calendar and report hops where those services' tables exist.
    private func measuredHops(_ pool: PostgresPool) async throws -> [CallTracker.Hop] {
        var hops: [CallTracker.Hop] = [.event]
        if try await TableProbe.exists("\(CalendarService.schema).entries", in: pool) { hops.append(.calendar) }
        if try await TableProbe.exists("\(ReportingService.schema).event_facts", in: pool) { hops.append(.report) }
        return hops
    }

    /// Bare call objects (TOPICS.md allows them), encoded before the clock starts.
    private func callPayloads(people: BenchPeople) throws -> [ProducerRecord] {
        let encoder = CRMJSON.makeEncoder()
        let now = Date()
        return try (0..<calls).map { index in
            let missed = index % 100 < missedPercent
            let started = now.addingTimeInterval(-120)
            let call = TelephonyCall(
                callId: callID(index), direction: .inbound,
                from: people.phones[index % people.phones.count], to: "+15550000000",
                extension: people.extensions[index % people.extensions.count],
                startedAt: started, answeredAt: missed ? nil : started.addingTimeInterval(5),
                endedAt: started.addingTimeInterval(missed ? 30 : 95), status: missed ? .missed : .answered,
                recordingUrl: nil)
            return ProducerRecord(topic: Topic.telephonyCalls, key: Array(call.callId.utf8), value: Array(try encoder.encode(call)))
        }
    }

    /// Enqueues the calls (all at once, or paced) and returns how many the broker refused.
    private func publish(_ records: [ProducerRecord], producer: KafkaProducer, tracker: CallTracker) async throws -> Int {
        var refusedKeys = RefusedKeys()
        var pending: [Task<Int, Never>] = []
        let start = ContinuousClock.now
        var next = 0
        while next < records.count {
            let due: Int
            if let rate {
                due = min(records.count, Int((ContinuousClock.now - start).inSeconds * rate) + 1)
            } else {
                due = min(records.count, next + 5_000)
            }
            if due > next {
                await tracker.didPublish(next..<due, at: ContinuousClock.now)
                let deliveries = await producer.enqueue(Array(records[next..<due]), holdingBack: &refusedKeys)
                // Timed as the reports arrive, not when the loop gets to them.
                let calls = next..<due
                pending.append(Task {
                    let results = await deliveries.results()
                    await tracker.didAcknowledge(calls, at: ContinuousClock.now)
                    return results.filter { if case .failure = $0 { true } else { false } }.count
                })
                next = due
            }
            // Until the next call is due, at least 5 ms apart: a 1 ms tick cost the bench a tenth
            // of a core in timer wake-ups, taken from the stack on the same two cores.
            if let rate, next < records.count {
                let nextDue = start + .seconds(Double(due) / rate)
                let wait = max(.milliseconds(5), nextDue - ContinuousClock.now)
                try await Task.sleep(until: ContinuousClock.now + wait, clock: .continuous)
            }
        }
        var failures = 0
        for acknowledged in pending { failures += await acknowledged.value }
        await tracker.didAcknowledge(at: ContinuousClock.now)
        return failures
    }

    /// Finds what the calls caused, woken by the services' outbox notifications (sent at commit)
    /// and every 50 ms regardless; prints a progress line every second.
    private func watch(
        _ hops: [CallTracker.Hop], tracker: CallTracker, pool: PostgresPool, commitTimes: Bool, notified: NotificationFlag,
        memory: MemorySampler, deadline: ContinuousClock.Instant
    ) async throws {
        var lastQuery = ContinuousClock.now
        var lastProgress = ContinuousClock.now
        let start = ContinuousClock.now
        var seenBefore = 0
        var lastChange = ContinuousClock.now
        // The watcher shares the cores with the stack: after a pass that took d, the next waits
        // at least 4 d, so watching costs at most a fifth of one core. With commit timestamps
        // when it looks changes no latency, only when the run ends (and with it the CPU
        // figures' window), so it waits 19 d (a twentieth of a core), but at most half a second.
        let quietFactor = commitTimes ? 19 : 4
        var quietGap = Duration.zero
        // With commit timestamps when the watcher looks changes no latency: a coarser tick
        // spares the cores the wake-ups.
        let tick: Duration = commitTimes ? .milliseconds(10) : .milliseconds(2)
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: tick)
            let sinceQuery = ContinuousClock.now - lastQuery
            if sinceQuery >= quietGap, notified.take() || sinceQuery >= .milliseconds(50) {
                lastQuery = ContinuousClock.now
                for hop in hops {
                    if await tracker.isComplete(hop) { continue }
                    try await detect(hop, tracker: tracker, pool: pool, commitTimes: commitTimes)
                }
                let took = ContinuousClock.now - lastQuery
                quietGap = commitTimes ? min(took * quietFactor, .milliseconds(500)) : took * quietFactor
                await tracker.didDetect(every: max(took + quietGap, .milliseconds(50)))
            }
            if ContinuousClock.now - lastProgress >= .seconds(1) {
                lastProgress = ContinuousClock.now
                memory.sample()
                var line = String(format: "  [%5.1f s] published %d/%d", (ContinuousClock.now - start).inSeconds, await tracker.published, calls)
                for hop in hops {
                    let count = await tracker.count(hop)
                    line += ", \(hop.shortName) \(count)"
                }
                if progress { FileHandle.standardError.write(Data((line + "\n").utf8)) }
            }
            var done = true
            var seenNow = 0
            for hop in hops {
                if await !tracker.isComplete(hop) { done = false }
                seenNow += await tracker.count(hop)
            }
            if done { break }
            if seenNow != seenBefore {
                seenBefore = seenNow
                lastChange = ContinuousClock.now
            }
            // A hop that stopped moving after every call was published and committed (e.g. a
            // service that is not consuming) should not hold the report until the timeout.
            if await tracker.isComplete(.event), ContinuousClock.now - lastChange > Self.stallLimit {
                if progress {
                    FileHandle.standardError.write(Data("  no progress for \(Self.stallLimit): reporting what arrived\n".utf8))
                }
                break
            }
        }
        memory.sample()
    }

    /// Looks up which pending calls reached `hop`. With `commitTimes` (PostgreSQL's
    /// `track_commit_timestamp`, on in deploy/local) each row also tells when its transaction
    /// committed, which makes the latency exact instead of bounded by when the query looked.
    private func detect(_ hop: CallTracker.Hop, tracker: CallTracker, pool: PostgresPool, commitTimes: Bool) async throws {
        let pending = await tracker.pending(hop, limit: await tracker.detectionWindow(hop))
        guard !pending.isEmpty else { return }
        let committed: PostgresQuery = commitTimes
            ? ", extract(epoch FROM pg_xact_commit_timestamp(xmin))::float8 AS committed"
            : ", NULL::float8 AS committed"
        switch hop {
        case .event:
            let callIDs = pending.map { callID($0.call) }
            var query: PostgresQuery = "SELECT id, call_id"
            query.append(committed)
            query.append(" FROM \(identifier: EventsService.schema).events WHERE call_id = ANY(\(callIDs))")
            let rows = try await pool.query(query)
            let seenAt = ContinuousClock.now
            await tracker.didFind(rows.count, at: hop)
            guard !rows.isEmpty else { return }
            var calls: [Int] = []
            var ids: [UUID] = []
            var times: [Double?] = []
            for row in rows {
                guard let call = Int(try row.decode("call_id", as: String.self).suffix(9)) else { continue }
                calls.append(call)
                ids.append(try row.decode("id", as: UUID.self))
                times.append(try row.decodeIfPresent("committed", as: Double.self))
            }
            await tracker.didSee(.event, calls: calls, eventIDs: ids, committedAt: times, at: seenAt)
        case .calendar, .report:
            let byEvent = Dictionary(uniqueKeysWithValues: pending.compactMap { item in item.eventID.map { ($0, item.call) } })
            var query: PostgresQuery = hop == .calendar ? "SELECT event_id AS id" : "SELECT id"
            query.append(committed)
            query.append(hop == .calendar
                ? " FROM \(identifier: CalendarService.schema).entries WHERE event_id = ANY(\(Array(byEvent.keys)))"
                : " FROM \(identifier: ReportingService.schema).event_facts WHERE id = ANY(\(Array(byEvent.keys)))")
            let rows = try await pool.query(query)
            let seenAt = ContinuousClock.now
            await tracker.didFind(rows.count, at: hop)
            guard !rows.isEmpty else { return }
            var calls: [Int] = []
            var times: [Double?] = []
            for row in rows {
                guard let call = byEvent[try row.decode("id", as: UUID.self)] else { continue }
                calls.append(call)
                times.append(try row.decodeIfPresent("committed", as: Double.self))
            }
            await tracker.didSee(hop, calls: calls, committedAt: times, at: seenAt)
        }
    }

    private func callID(_ index: Int) -> String { "bench-\(runID)-\(String(format: "%09d", index))" }
}
