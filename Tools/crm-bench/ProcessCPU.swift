import Foundation

/// Cores used during a run: per process, by the bench's own database sessions (part of
/// PostgreSQL's figure), and by the whole machine.
struct CPUUse {
    var processes: [(name: String, cores: Double)]
    var benchSessions: Double?
    var machine: Double?
}

/// CPU time the stack's processes spent during a run, from `/proc/<pid>/stat`: what shares the
/// machine's cores, without `perf`. PostgreSQL counts as one: its postmaster with every child,
/// including backends that exited during the run (the kernel adds a reaped child's time to its
/// parent's `cutime`/`cstime`).
struct ProcessCPU {
    /// A process to account for and whether its reaped children count too.
    struct Tracked {
        var name: String
        var pid: Int32
        var withChildren: Bool
    }

    private let tracked: [Tracked]
    private let start: [String: Double]
    private let machineStart = Self.machineBusySeconds()
    private let startedAt = ContinuousClock.now

    init(_ tracked: [Tracked]) {
        self.tracked = tracked
        start = Self.sample(tracked)
    }

    var elapsedSeconds: Double { max((ContinuousClock.now - startedAt).inSeconds, 0.001) }

    /// Cores used by each process since `init` (1.0 = one core all the time), largest first.
    func coresSinceStart() -> [(name: String, cores: Double)] {
        let seconds = elapsedSeconds
        let now = Self.sample(tracked)
        return tracked.compactMap { process in
            guard let before = start[process.name], let after = now[process.name] else { return nil }
            return (process.name, max(0, after - before) / seconds)
        }.sorted { $0.cores > $1.cores }
    }

    /// Cores the whole machine was busy since `init`, every process included.
    func machineCoresSinceStart() -> Double? {
        guard let before = machineStart, let after = Self.machineBusySeconds() else { return nil }
        return max(0, after - before) / elapsedSeconds
    }

    /// Busy time of all cores together (user, nice, system, irq, softirq, steal), from `/proc/stat`.
    private static func machineBusySeconds() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") })
        else { return nil }
        let ticks = line.split(separator: " ").dropFirst().compactMap { Double($0) }
        guard ticks.count >= 8 else { return nil }
        return (ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]) / ticksPerSecond
    }

    private static func sample(_ tracked: [Tracked]) -> [String: Double] {
        let children = tracked.contains { $0.withChildren } ? parentsByPid() : [:]
        var seconds: [String: Double] = [:]
        for process in tracked {
            guard let own = cpuSeconds(process.pid, includingReaped: process.withChildren) else { continue }
            var total = own
            if process.withChildren {
                for (child, parent) in children where parent == process.pid {
                    total += cpuSeconds(child, includingReaped: false) ?? 0
                }
            }
            seconds[process.name] = total
        }
        return seconds
    }

    private static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// utime + stime (and, with `includingReaped`, cutime + cstime) of a live process, in seconds.
    static func cpuSeconds(_ pid: Int32, includingReaped: Bool) -> Double? {
        guard let fields = statFields(pid), fields.count > 14 else { return nil }
        // After the command's closing parenthesis: state is field 3, utime 14, stime 15,
        // cutime 16, cstime 17 (proc(5)); `fields` starts at field 3.
        let wanted = includingReaped ? [11, 12, 13, 14] : [11, 12]
        let ticks = wanted.compactMap { Double(fields[$0]) }.reduce(0, +)
        return ticks / ticksPerSecond
    }

    /// The fields of `/proc/<pid>/stat` after the command name (which may hold spaces).
    private static func statFields(_ pid: Int32) -> [Substring]? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")")
        else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    /// Parent pid of every process on the machine.
    private static func parentsByPid() -> [Int32: Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var parents: [Int32: Int32] = [:]
        for entry in entries {
            guard let pid = Int32(entry), let parent = parent(of: pid) else { continue }
            parents[pid] = parent
        }
        return parents
    }

    /// The postmaster of a PostgreSQL backend, when both run on this machine (in this pid
    /// namespace): the backend's parent, and both named `postgres`. Nil for a remote or
    /// containerised database, whose pid means nothing here.
    static func postmaster(ofBackend pid: Int32) -> Int32? {
        guard isPostgres(pid), let parent = parent(of: pid), isPostgres(parent) else { return nil }
        return parent
    }

    /// The parent pid (field 4 of `/proc/<pid>/stat`).
    private static func parent(of pid: Int32) -> Int32? {
        guard let fields = statFields(pid), fields.count > 1 else { return nil }
        return Int32(fields[1])
    }

    private static func isPostgres(_ pid: Int32) -> Bool {
        (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.hasPrefix("postgres") == true
    }
}
