import Foundation

/// The interval arithmetic behind `/conflicts` and `/free-busy`, on half-open intervals
/// `[start, end)`: two entries overlap when each starts before the other ends, so entries that
/// only touch (one ends when the next starts) do not.
enum Intervals {
    struct Item: Sendable {
        var id: UUID
        var start: Date
        var end: Date
    }

    struct Conflict: Sendable, Equatable {
        /// The earlier-starting entry first (ties: the earlier-ending, then the smaller id).
        var first: UUID
        var second: UUID
        var from: Date
        var to: Date
    }

    /// Every pair of overlapping items once, ordered by the overlap's start, then by the pair.
    /// A zero-length item overlaps an item strictly around its instant. Sweep over items sorted
    /// by start: each item is compared only with those still open when it starts.
    static func conflicts(_ items: [Item], limit: Int) -> (conflicts: [Conflict], truncated: Bool) {
        let sorted = items.sorted { ($0.start, $0.end, $0.id.uuidString) < ($1.start, $1.end, $1.id.uuidString) }
        var open: [Item] = []
        var result: [Conflict] = []
        var truncated = false
        for item in sorted {
            // An open item ending at or before this start cannot overlap it or anything later.
            open.removeAll { $0.end <= item.start }
            for other in open where other.start < item.end && item.start < other.end {
                if result.count == limit {
                    truncated = true
                    break
                }
                result.append(Conflict(first: other.id, second: item.id, from: max(other.start, item.start), to: min(other.end, item.end)))
            }
            open.append(item)
        }
        result.sort { ($0.from, $0.to, $0.first.uuidString, $0.second.uuidString) < ($1.from, $1.to, $1.first.uuidString, $1.second.uuidString) }
        return (result, truncated)
    }

    /// The union of the items clipped to `[from, to)`, as disjoint, ordered intervals; touching
    /// intervals are merged into one, and zero-length ones occupy no time and are left out.
    static func busy(_ items: [Item], from: Date, to: Date) -> [(start: Date, end: Date)] {
        let clipped = items.compactMap { item -> (start: Date, end: Date)? in
            let start = max(item.start, from)
            let end = min(item.end, to)
            return start < end ? (start, end) : nil
        }.sorted { $0.start < $1.start }
        var merged: [(start: Date, end: Date)] = []
        for interval in clipped {
            if let last = merged.last, interval.start <= last.end {
                merged[merged.count - 1].end = max(last.end, interval.end)
            } else {
                merged.append(interval)
            }
        }
        return merged
    }
}
