import Contracts
import Foundation

/// A deterministic generator (SplitMix64), so a failing history can be replayed.
struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum SourceMessage: Sendable {
    case event(EventSnapshot)
    case order(OrderSnapshot)
    case values(kind: String, id: String, version: Int, values: [String: JSONValue])
}

/// The test's own model of the sources and an independent recomputation of the reports from the
/// newest snapshot of every object (plain Swift over the model, no SQL).
struct HistoryModel: Sendable {
    let projects: [String]
    let counterparties: [String]
    var events: [String: EventSnapshot] = [:]
    var orders: [String: OrderSnapshot] = [:]
    /// `kind:id` → (version, values)
    var values: [String: (version: Int, values: [String: JSONValue])] = [:]
    private let eventIds: [String]
    private let orderIds: [String]

    static let states = ["planned", "completed", "cancelled"]
    static let channels = ["phone-call", "email", "meeting", "message", "other"]
    static let orderStates = ["draft", "confirmed", "completed", "cancelled"]

    init(random: inout SeededRandom) {
        projects = (0..<4).map { _ in newId() }
        counterparties = (0..<20).map { _ in newId() }
        eventIds = (0..<150).map { _ in newId() }
        orderIds = (0..<60).map { _ in newId() }
    }

    var newestVersions: [String: Int] {
        var result: [String: Int] = [:]
        for (id, event) in events { result[id] = event.version }
        for (id, order) in orders { result[id] = order.version }
        for (key, value) in values { result[key] = value.version }
        return result
    }

    mutating func generate(changes: Int, random: inout SeededRandom) -> [SourceMessage] {
        var messages: [SourceMessage] = []
        let base = Date(timeIntervalSince1970: 1_796_000_000)
        for _ in 0..<changes {
            let roll = Int.random(in: 0..<100, using: &random)
            if roll < 50 {
                let id = eventIds.randomElement(using: &random)!
                var event = events[id] ?? EventSnapshot(id: id, version: 0)
                event.version += 1
                if event.version == 1 || Bool.random(using: &random) {
                    event.projectId = Int.random(in: 0..<10, using: &random) == 0 ? nil : projects.randomElement(using: &random)
                }
                if event.version == 1 || Int.random(in: 0..<4, using: &random) == 0 {
                    event.counterpartyId = Int.random(in: 0..<10, using: &random) == 0 ? nil : counterparties.randomElement(using: &random)
                }
                if event.version == 1 { event.channel = Self.channels.randomElement(using: &random)! }
                event.state = Self.states.randomElement(using: &random)!
                event.completedAt = event.state == "completed" ? base.addingTimeInterval(Double(Int.random(in: 0..<400_000, using: &random))) : nil
                event.startsAt = base.addingTimeInterval(Double(Int.random(in: -1_000_000..<1_000_000, using: &random)))
                if !event.deleted { event.deleted = Int.random(in: 0..<25, using: &random) == 0 }
                events[id] = event
                messages.append(.event(event))
            } else if roll < 70 {
                let id = orderIds.randomElement(using: &random)!
                var order = orders[id] ?? OrderSnapshot(
                    id: id, version: 0, customer: Bool.random(using: &random),
                    counterpartyId: counterparties.randomElement(using: &random))
                order.version += 1
                order.state = Self.orderStates.randomElement(using: &random)!
                order.currency = ["RUB", "USD"].randomElement(using: &random)!
                let cents = Int.random(in: 1..<1_000_000, using: &random)
                order.total = String(format: "%d.%02d", cents / 100, cents % 100)
                if Int.random(in: 0..<10, using: &random) == 0 { order.counterpartyId = counterparties.randomElement(using: &random) }
                if !order.deleted { order.deleted = Int.random(in: 0..<20, using: &random) == 0 }
                orders[id] = order
                messages.append(.order(order))
            } else if roll < 85 {
                let id = counterparties.randomElement(using: &random)!
                let key = "counterparty:\(id)"
                let version = (values[key]?.version ?? 0) + 1
                var document: [String: JSONValue] = [:]
                switch Int.random(in: 0..<3, using: &random) {
                case 0: document["vip"] = .bool(true)
                case 1: document["vip"] = .bool(false)
                default: break
                }
                let tier: String? = ["gold", "silver", nil].randomElement(using: &random)!
                if let tier { document["tier"] = .string(tier) }
                values[key] = (version, document)
                messages.append(.values(kind: "counterparty", id: id, version: version, values: document))
            } else {
                let id = eventIds.randomElement(using: &random)!
                let key = "event:\(id)"
                let version = (values[key]?.version ?? 0) + 1
                var document: [String: JSONValue] = [:]
                if Int.random(in: 0..<5, using: &random) > 0 { document["score"] = .number(Double(Int.random(in: 1...5, using: &random))) }
                values[key] = (version, document)
                messages.append(.values(kind: "event", id: id, version: version, values: document))
            }
            // Duplicates and stale versions: a message seen earlier, delivered again.
            if Int.random(in: 0..<10, using: &random) == 0, let again = messages.randomElement(using: &random) {
                messages.append(again)
            }
        }
        return messages
    }

    struct ProjectFigures: Sendable {
        var total = 0
        var byState = Dictionary(uniqueKeysWithValues: HistoryModel.states.map { ($0, 0) })
        var byChannel = Dictionary(uniqueKeysWithValues: HistoryModel.channels.map { ($0, 0) })
        var scores: [Int] = []
        var scoreDistribution: [String: Int] = [:]
    }

    struct SegmentExpectation: Sendable {
        var counterparties = 0
        var events = SegmentFigures(
            total: 0, byState: Dictionary(uniqueKeysWithValues: HistoryModel.states.map { ($0, 0) }),
            byChannel: Dictionary(uniqueKeysWithValues: HistoryModel.channels.map { ($0, 0) }))
        var lastEventAt: Date?
        var customerCents: [String: Int] = [:]
        var supplierCents: [String: Int] = [:]
        var customerCount = 0
        var supplierCount = 0

        var customer: Orders { Orders(count: customerCount, totals: customerCents.mapValues(Self.format)) }
        var supplier: Orders { Orders(count: supplierCount, totals: supplierCents.mapValues(Self.format)) }
        static func format(_ cents: Int) -> String { String(format: "%d.%02d", cents / 100, cents % 100) }
    }

    struct Expected: Sendable {
        var projects: [String: ProjectFigures] = [:]
        var segments: [String: [JSONValue: SegmentExpectation]] = [:]
    }

    func recompute() -> Expected {
        var expected = Expected()
        for project in projects { expected.projects[project] = ProjectFigures() }
        let live = events.values.filter { !$0.deleted }
        for event in live {
            guard let project = event.projectId else { continue }
            var figures = expected.projects[project]!
            figures.total += 1
            figures.byState[event.state, default: 0] += 1
            figures.byChannel[event.channel, default: 0] += 1
            if case .number(let score)? = values["event:\(event.id)"]?.values["score"] {
                figures.scores.append(Int(score))
                figures.scoreDistribution[String(Int(score)), default: 0] += 1
            }
            expected.projects[project] = figures
        }
        for attribute in ["vip", "tier"] {
            var segments: [JSONValue: SegmentExpectation] = [:]
            var segmentOf: [String: JSONValue] = [:]
            for counterparty in counterparties {
                let value = values["counterparty:\(counterparty)"]?.values[attribute] ?? .null
                segmentOf[counterparty] = value
                segments[value, default: SegmentExpectation()].counterparties += 1
            }
            for event in live {
                guard let counterparty = event.counterpartyId, let value = segmentOf[counterparty] else { continue }
                var segment = segments[value]!
                segment.events.total += 1
                segment.events.byState[event.state, default: 0] += 1
                segment.events.byChannel[event.channel, default: 0] += 1
                let at = event.startsAt ?? event.createdAt
                segment.lastEventAt = max(segment.lastEventAt ?? at, at)
                segments[value] = segment
            }
            for order in orders.values where !order.deleted && ["confirmed", "completed"].contains(order.state) {
                guard let counterparty = order.counterpartyId, let value = segmentOf[counterparty] else { continue }
                let parts = order.total.split(separator: ".")
                let cents = Int(parts[0])! * 100 + Int(parts[1])!
                var segment = segments[value]!
                if order.customer {
                    segment.customerCount += 1
                    segment.customerCents[order.currency, default: 0] += cents
                } else {
                    segment.supplierCount += 1
                    segment.supplierCents[order.currency, default: 0] += cents
                }
                segments[value] = segment
            }
            expected.segments[attribute] = segments
        }
        return expected
    }
}
