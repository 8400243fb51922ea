/// Topic names of TOPICS.md (contract v1).
public enum Topic {
    public static let counterparties = "crm.counterparties.v1"
    public static let contacts = "crm.contacts.v1"
    public static let employees = "crm.employees.v1"
    public static let projects = "crm.projects.v1"
    public static let deals = "crm.deals.v1"
    public static let products = "crm.products.v1"
    public static let attributeSets = "crm.attribute-sets.v1"
    public static let attributeValues = "crm.attribute-values.v1"
    public static let events = "crm.events.v1"
    public static let documents = "crm.documents.v1"
    public static let calendar = "crm.calendar.v1"
    public static let calendarReminders = "crm.calendar.reminders.v1"
    public static let reportsProjects = "crm.reports.projects.v1"
    public static let reportsSegments = "crm.reports.segments.v1"
    public static let telephonyCalls = "crm.telephony.calls.v1"
    public static let deadLetters = "crm.dlq.v1"
}

/// Headers of messages on `crm.dlq.v1`; key and value are the original message's.
public enum DeadLetterHeader {
    public static let topic = "crm_dlq_topic"
    public static let partition = "crm_dlq_partition"
    public static let offset = "crm_dlq_offset"
    public static let consumer = "crm_dlq_consumer"
    public static let error = "crm_dlq_error"
}

/// Headers that duplicate the envelope for routing without parsing.
public enum CloudEventHeaderName {
    public static let type = "ce_type"
    public static let id = "ce_id"
    public static let contentType = "content-type"
}
