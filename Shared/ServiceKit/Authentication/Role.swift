/// What a caller may do, as carried in the token's `roles` claim.
public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
    /// Everything, including the attribute-set schema and other people's objects.
    case admin
    /// Sales staff: edit what they author or are responsible for.
    case manager
    /// Read only.
    case viewer
    /// Machine clients such as telephony or BI connectors.
    case integration
}
