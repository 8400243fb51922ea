import ArgumentParser
import ServiceKit

/// A `Role` as a command-line value; a wrapper rather than a retroactive conformance of `Role`.
struct RoleArgument: ExpressibleByArgument {
    let role: Role

    init?(argument: String) {
        guard let role = Role(rawValue: argument.lowercased()) else { return nil }
        self.role = role
    }

    static var allValueStrings: [String] { Role.allCases.map(\.rawValue) }
}
