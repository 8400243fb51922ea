/// The authenticated caller of a request.
public struct Principal: Sendable, Hashable {
    /// The token's `sub`: an employee id or a client id.
    public let subject: String
    public let roles: Set<Role>

    public init(subject: String, roles: Set<Role>) {
        self.subject = subject
        self.roles = roles
    }

    public func has(_ role: Role) -> Bool {
        roles.contains(role)
    }

    public func hasAny(of wanted: Set<Role>) -> Bool {
        !roles.isDisjoint(with: wanted)
    }

    public var isAdmin: Bool { has(.admin) }
}
