import Contracts
import Kafka

/// Every topic of TOPICS.md with its cleanup policy. Partition and replication counts are
/// configuration (`CRM_TOPIC_PARTITIONS`, `CRM_TOPIC_REPLICATION_FACTOR`; real-cluster defaults
/// 12 and 3 with `min.insync.replicas=2`).
public enum TopicCatalogue {
    public static let compacted: [String] = [
        Topic.counterparties, Topic.contacts, Topic.employees, Topic.projects, Topic.deals, Topic.products,
        Topic.attributeSets, Topic.attributeValues, Topic.events, Topic.documents, Topic.calendar,
        Topic.reportsProjects, Topic.reportsSegments,
    ]

    /// Topics with time-based retention: name → retention in days (nil = broker default).
    public static let retained: [(name: String, days: Int?)] = [
        (Topic.calendarReminders, 7),
        (Topic.telephonyCalls, nil),
        (Topic.deadLetters, 30),
    ]

    public static func specs(partitions: Int = 12, replicationFactor: Int = 3) -> [TopicSpec] {
        let safety = replicationFactor >= 3 ? ["min.insync.replicas": "2"] : [:]
        let compactedSpecs = compacted.map {
            TopicSpec(name: $0, partitions: partitions, replicationFactor: replicationFactor,
                      config: safety.merging(["cleanup.policy": "compact"]) { $1 })
        }
        let retainedSpecs = retained.map { topic in
            var config = safety.merging(["cleanup.policy": "delete"]) { $1 }
            if let days = topic.days { config["retention.ms"] = String(days * 24 * 3600 * 1000) }
            return TopicSpec(name: topic.name, partitions: partitions, replicationFactor: replicationFactor, config: config)
        }
        return compactedSpecs + retainedSpecs
    }

    /// Reads the partition and replication settings from the environment.
    public static func specs(environment: [String: String], defaultPartitions: Int = 12, defaultReplication: Int = 3) -> [TopicSpec] {
        specs(
            partitions: environment["CRM_TOPIC_PARTITIONS"].flatMap(Int.init) ?? defaultPartitions,
            replicationFactor: environment["CRM_TOPIC_REPLICATION_FACTOR"].flatMap(Int.init) ?? defaultReplication)
    }
}
